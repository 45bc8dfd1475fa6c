import { LIMITS } from '../protocol.js';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_LIMITS, trustedProxies, type Limits } from './limits.js';
import type { LogLevel } from './log.js';

export interface ServerConfig {
  port: number;
  host: string;
  roomCapacity: number;
  /** Only when set; otherwise the server's default (4000). */
  heartbeatMs?: number;
  /** Only when set; otherwise the server's default (20000). */
  resumeGraceMs?: number;
  /** Exact origins (`https://example.com`) allowed to open the signaling socket; unset: any. */
  allowedOrigins?: string[];
  joinSecret?: string;
  turn?: { secret: string; urls: string[]; ttlSeconds: number };
  /** Only when set: the longest a seat has relay access (default 43200 s). */
  turnMaxSeconds?: number;
  /** Only when set: how long a knock in a lobby waits to be answered (default 120000 ms). */
  knockTimeoutMs?: number;
  tls?: { certFile: string; keyFile: string };
  /** Rooms shared by every server on this Redis. */
  redis?: { url: string; presenceTtlMs: number };
  /** The UDP port of the STUN responder: undefined for the HTTP port's number, 0 for none. */
  stunPort?: number;
  /** STUN servers handed to peers instead of the built-in one (coturn's, say). */
  stunUrls?: string[];
  /** Reverse proxies whose X-Forwarded-For gives the client's address. */
  trustProxy?: string[];
  /** The limits set (the others keep their defaults). */
  limits: Partial<Limits>;
  logLevel: LogLevel | 'silent';
  /** Serve the demo at `/` (default true; `--no-demo`: only the bundle and `/signal`). */
  demo: boolean;
}

export class ConfigError extends Error {}

const OPTIONS = {
  port: { env: 'PORT', help: 'listen port (default 8080)' },
  host: { env: 'HOST', help: 'listen address (default 127.0.0.1)' },
  'room-capacity': { env: 'ROOM_CAPACITY', help: 'peers per room (default 2)' },
  'heartbeat-ms': { env: 'HEARTBEAT_MS', help: 'ping sockets this often, drop the unanswered (default 4000; 0: off)' },
  'resume-grace-ms': {
    env: 'RESUME_GRACE_MS',
    help: "hold a dropped peer's seat this long for it to resume (default 20000)",
  },
  'allowed-origins': { env: 'ALLOWED_ORIGINS', help: 'comma list of origins allowed to connect (default: any)' },
  'join-secret': { env: 'JOIN_SECRET', help: 'joining needs a token signed with this (see: token)' },
  'turn-secret': { env: 'TURN_SECRET', help: "coturn's static-auth-secret: hand out TURN credentials" },
  'turn-urls': { env: 'TURN_URLS', help: 'comma list of turn:/turns: URLs for those credentials' },
  'turn-ttl': { env: 'TURN_TTL', help: 'seconds a TURN credential is valid (default 3600)' },
  'turn-max-seconds': {
    env: 'TURN_MAX_SECONDS',
    help: 'the longest a seat gets TURN credentials for, from its join, resumes and all (default 43200)',
  },
  'knock-timeout-ms': {
    env: 'KNOCK_TIMEOUT_MS',
    help: 'turn away a knock in a lobby that nobody answers this long (default 120000)',
  },
  'stun-port': { env: 'STUN_PORT', help: 'UDP port of the built-in STUN responder (default: PORT; 0: off)' },
  'stun-urls': { env: 'STUN_URLS', help: 'comma list of stun: URLs handed to peers instead of the built-in one' },
  'tls-cert': { env: 'TLS_CERT', help: 'PEM certificate file: serve https and wss' },
  'tls-key': { env: 'TLS_KEY', help: 'PEM private key file for TLS_CERT' },
  'redis-url': { env: 'REDIS_URL', help: 'redis:// URL: rooms span every server sharing it' },
  'redis-presence-ttl-ms': {
    env: 'REDIS_PRESENCE_TTL_MS',
    help: "a server silent this long is dead: its peers' seats go (default 10000)",
  },
  'trust-proxy': {
    env: 'TRUST_PROXY',
    help: 'comma list of proxy addresses/CIDRs whose X-Forwarded-For names the client (default: none)',
  },
  'join-burst': {
    env: 'JOIN_BURST',
    help: `joins at once per client address (default ${DEFAULT_LIMITS.joinRate.burst})`,
  },
  'joins-per-second': {
    env: 'JOINS_PER_SECOND',
    help: `then joins per second per client address (default ${DEFAULT_LIMITS.joinRate.perSecond})`,
  },
  'message-burst': {
    env: 'MESSAGE_BURST',
    help: `messages at once per socket (default ${DEFAULT_LIMITS.messageRate.burst})`,
  },
  'messages-per-second': {
    env: 'MESSAGES_PER_SECOND',
    help: `then messages per second per socket (default ${DEFAULT_LIMITS.messageRate.perSecond})`,
  },
  'connections-per-address': {
    env: 'CONNECTIONS_PER_ADDRESS',
    help: `open sockets per client address (default ${DEFAULT_LIMITS.connectionsPerAddress})`,
  },
  'max-connections': { env: 'MAX_CONNECTIONS', help: `open sockets in all (default ${DEFAULT_LIMITS.maxConnections})` },
  'join-timeout-ms': {
    env: 'JOIN_TIMEOUT_MS',
    help: `close a socket that holds no seat this long (default ${DEFAULT_LIMITS.joinTimeoutMs})`,
  },
  'confirm-timeout-ms': {
    env: 'CONFIRM_TIMEOUT_MS',
    help: `cut a seat that leaves what it was sent unconfirmed this long (default ${DEFAULT_LIMITS.confirmTimeoutMs})`,
  },
  'replay-total-bytes': {
    env: 'REPLAY_TOTAL_BYTES',
    help: `replay text kept for all seats together (default ${DEFAULT_LIMITS.replayTotalBytes})`,
  },
  'log-level': { env: 'LOG_LEVEL', help: 'debug, info (default), warn, error or silent: JSON lines on stdout' },
  'no-demo': { env: 'NO_DEMO', help: 'serve only the bundle, /signal and /healthz, not the demo (NO_DEMO=1)' },
} as const;

export const USAGE = `Usage: rtc-call-server [options]
       rtc-call-server token --room ROOM [--ttl SECONDS] [--name NAME]

Serves the demo at /, the bundle at /rtc-call.js and signaling at /signal, on one port.
Each option can also be set by its environment variable.

${Object.entries(OPTIONS)
  .map(([flag, { env, help }]) => `  --${flag.padEnd(23)} ${env.padEnd(23)} ${help}`)
  .join('\n')}
  --help

token: prints a join token for ROOM signed with JOIN_SECRET (--join-secret), valid for
--ttl seconds (default 3600); with --name, whoever joins with it is shown under NAME.`;

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

function heartbeatMs(text: string): number {
  const value = integer('HEARTBEAT_MS', text, 0, 3_600_000);
  // Below that, a busy event loop would read as dead peers.
  if (value > 0 && value < 100) throw new ConfigError(`HEARTBEAT_MS must be 0 (off) or at least 100, not "${text}"`);
  return value;
}

/** `--flag value` options, strictly: an unknown flag is a ConfigError. */
function flags(argv: string[], options: ParseArgsConfig['options']): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args: argv, options, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
}

/** Flags win over environment variables, which win over defaults. */
export function readConfig(argv: string[], env: NodeJS.ProcessEnv): ServerConfig | 'help' {
  const values = flags(argv, {
    ...Object.fromEntries(
      Object.keys(OPTIONS).map((flag) => [
        flag,
        { type: flag === 'no-demo' ? ('boolean' as const) : ('string' as const) },
      ]),
    ),
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help']) return 'help';
  const pick = (flag: keyof typeof OPTIONS): string | undefined => {
    const value = values[flag];
    // An empty value means "not set", whether it came from a flag or the environment.
    return (typeof value === 'string' ? value : env[OPTIONS[flag].env]) || undefined;
  };
  const noDemo = values['no-demo'] === true || /^(1|true|yes|on)$/i.test(env['NO_DEMO'] ?? '');
  if (env['NO_DEMO'] && !/^(1|true|yes|on|0|false|no|off)$/i.test(env['NO_DEMO']))
    throw new ConfigError(`NO_DEMO must be 1 or 0, not "${env['NO_DEMO']}"`);
  const trustProxy = list(pick('trust-proxy'));
  if (trustProxy) {
    try {
      trustedProxies(trustProxy);
    } catch (error) {
      throw new ConfigError(`TRUST_PROXY: ${(error as Error).message}`);
    }
  }
  const logLevel = pick('log-level') ?? 'info';
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel))
    throw new ConfigError(`LOG_LEVEL must be debug, info, warn, error or silent, not "${logLevel}"`);
  const limits = readLimits(pick);
  const heartbeat = pick('heartbeat-ms');
  const grace = pick('resume-grace-ms');
  const origins = list(pick('allowed-origins'));
  for (const origin of origins ?? []) {
    if (!isOrigin(origin))
      throw new ConfigError(`ALLOWED_ORIGINS: "${origin}" is not an origin like https://example.com`);
  }
  const joinSecret = pick('join-secret');
  const turnSecret = pick('turn-secret');
  const turnUrls = list(pick('turn-urls'));
  if (Boolean(turnSecret) !== Boolean(turnUrls)) throw new ConfigError('TURN_SECRET and TURN_URLS go together');
  for (const url of turnUrls ?? []) {
    // Each transport its own URL: `turn:host:3478?transport=udp`, `…?transport=tcp`, `turns:host:443?transport=tcp`.
    if (!/^turns?:[^\s?]+(\?transport=(udp|tcp))?$/.test(url))
      throw new ConfigError(`TURN_URLS: "${url}" is not a turn: or turns: URL (with ?transport=udp or tcp, if any)`);
  }
  const turnMax = pick('turn-max-seconds');
  const knockTimeout = pick('knock-timeout-ms');
  const stunPort = pick('stun-port');
  const stunUrls = list(pick('stun-urls'));
  for (const url of stunUrls ?? []) {
    if (!/^stuns?:[^\s?]+$/.test(url))
      throw new ConfigError(`STUN_URLS: "${url}" is not a stun: URL like stun:stun.example.com:3478`);
  }
  const certFile = pick('tls-cert');
  const keyFile = pick('tls-key');
  if (Boolean(certFile) !== Boolean(keyFile)) throw new ConfigError('TLS_CERT and TLS_KEY go together');
  const redisUrl = pick('redis-url');
  if (redisUrl && !/^rediss?:\/\/[^\s]+$/.test(redisUrl))
    throw new ConfigError(`REDIS_URL: "${redisUrl}" is not a redis:// or rediss:// URL`);
  const presenceTtl = pick('redis-presence-ttl-ms');
  if (presenceTtl && !redisUrl) throw new ConfigError('REDIS_PRESENCE_TTL_MS needs REDIS_URL');
  return {
    port: integer('PORT', pick('port') ?? '8080', 0, 65535),
    host: pick('host') ?? '127.0.0.1',
    roomCapacity: integer('ROOM_CAPACITY', pick('room-capacity') ?? '2', 1, 1000),
    ...(heartbeat === undefined ? {} : { heartbeatMs: heartbeatMs(heartbeat) }),
    ...(grace === undefined ? {} : { resumeGraceMs: integer('RESUME_GRACE_MS', grace, 0, 600_000) }),
    ...(origins ? { allowedOrigins: origins } : {}),
    ...(joinSecret ? { joinSecret } : {}),
    ...(turnSecret && turnUrls
      ? {
          turn: {
            secret: turnSecret,
            urls: turnUrls,
            ttlSeconds: integer('TURN_TTL', pick('turn-ttl') ?? '3600', 60, 7 * 24 * 3600),
          },
        }
      : {}),
    ...(turnMax === undefined ? {} : { turnMaxSeconds: integer('TURN_MAX_SECONDS', turnMax, 60, 30 * 24 * 3600) }),
    ...(knockTimeout === undefined
      ? {}
      : { knockTimeoutMs: integer('KNOCK_TIMEOUT_MS', knockTimeout, 1000, 24 * 3600 * 1000) }),
    ...(stunPort === undefined ? {} : { stunPort: integer('STUN_PORT', stunPort, 0, 65535) }),
    ...(stunUrls ? { stunUrls } : {}),
    ...(trustProxy ? { trustProxy } : {}),
    limits,
    logLevel: logLevel as LogLevel | 'silent',
    demo: !noDemo,
    ...(certFile && keyFile ? { tls: { certFile, keyFile } } : {}),
    ...(redisUrl
      ? {
          redis: {
            url: redisUrl,
            // Below a second, a busy event loop or a slow Redis would read as a dead server.
            presenceTtlMs: integer('REDIS_PRESENCE_TTL_MS', presenceTtl ?? '10000', 1000, 600_000),
          },
        }
      : {}),
  };
}

/** The limits set in the environment or flags, checked. */
function readLimits(pick: (flag: keyof typeof OPTIONS) => string | undefined): Partial<Limits> {
  const number = (flag: keyof typeof OPTIONS, min: number, max: number): number | undefined => {
    const text = pick(flag);
    return text === undefined ? undefined : integer(OPTIONS[flag].env, text, min, max);
  };
  const decimal = (flag: keyof typeof OPTIONS): number | undefined => {
    const text = pick(flag);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(value > 0) || value > 1_000_000)
      throw new ConfigError(`${OPTIONS[flag].env} must be a number above 0 (0.5 is one every 2 s), not "${text}"`);
    return value;
  };
  const rate = (burstFlag: keyof typeof OPTIONS, rateFlag: keyof typeof OPTIONS, fallback: Limits['joinRate']) => {
    const burst = number(burstFlag, 1, 1_000_000);
    const perSecond = decimal(rateFlag);
    return burst === undefined && perSecond === undefined
      ? undefined
      : { burst: burst ?? fallback.burst, perSecond: perSecond ?? fallback.perSecond };
  };
  const entries: [keyof Limits, unknown][] = [
    ['joinRate', rate('join-burst', 'joins-per-second', DEFAULT_LIMITS.joinRate)],
    ['messageRate', rate('message-burst', 'messages-per-second', DEFAULT_LIMITS.messageRate)],
    ['connectionsPerAddress', number('connections-per-address', 1, 1_000_000)],
    ['maxConnections', number('max-connections', 1, 10_000_000)],
    ['joinTimeoutMs', number('join-timeout-ms', 1000, 3_600_000)],
    ['confirmTimeoutMs', number('confirm-timeout-ms', 5000, 3_600_000)],
    ['replayTotalBytes', number('replay-total-bytes', 1024 * 1024, 2 ** 40)],
  ];
  return Object.fromEntries(entries.filter(([, value]) => value !== undefined)) as Partial<Limits>;
}

/** The URL without its password, for logs. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return '(not a URL)';
  }
}

/** `a, b,,c` → `['a', 'b', 'c']`; nothing → undefined. */
function list(text: string | undefined): string[] | undefined {
  const items = text
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  return items?.length ? items : undefined;
}

function isOrigin(text: string): boolean {
  try {
    return new URL(text).origin === text;
  } catch {
    return false;
  }
}

export interface TokenCommand {
  room: string;
  ttlSeconds: number;
  name?: string;
  secret: string;
}

/** `token --room R [--ttl S] [--name N]`, with the secret from `--join-secret` or JOIN_SECRET. */
export function readTokenCommand(argv: string[], env: NodeJS.ProcessEnv): TokenCommand {
  const values = flags(argv, {
    room: { type: 'string' },
    ttl: { type: 'string' },
    name: { type: 'string' },
    'join-secret': { type: 'string' },
  });
  const room = values['room'];
  if (typeof room !== 'string' || !room) throw new ConfigError('token: --room is required');
  if (room.length > LIMITS.room) throw new ConfigError(`token: a room name has at most ${LIMITS.room} characters`);
  const secret = (values['join-secret'] as string | undefined) || env['JOIN_SECRET'];
  if (!secret) throw new ConfigError("token: set JOIN_SECRET (or --join-secret) to the server's secret");
  const name = values['name'];
  if (typeof name === 'string' && name.length > LIMITS.name)
    throw new ConfigError(`token: a name has at most ${LIMITS.name} characters`);
  return {
    room,
    ttlSeconds: integer('--ttl', (values['ttl'] as string | undefined) ?? '3600', 1, 366 * 24 * 3600),
    secret,
    ...(typeof name === 'string' && name ? { name } : {}),
  };
}
