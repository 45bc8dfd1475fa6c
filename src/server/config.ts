import { parseArgs } from 'node:util';

export interface ServerConfig {
  port: number;
  host: string;
  roomCapacity: number;
  /** Only when set; otherwise the server's default (4000). */
  heartbeatMs?: number;
  /** Only when set; otherwise the server's default (20000). */
  resumeGraceMs?: number;
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
} as const;

export const USAGE = `Usage: rtc-call-server [options]

Serves the demo at /, the bundle at /rtc-call.js and signaling at /signal, on one port.
Each option can also be set by its environment variable.

${Object.entries(OPTIONS)
  .map(([flag, { env, help }]) => `  --${flag.padEnd(16)} ${env.padEnd(16)} ${help}`)
  .join('\n')}
  --help`;

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

/** Flags win over environment variables, which win over defaults. */
export function readConfig(argv: string[], env: NodeJS.ProcessEnv): ServerConfig | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'room-capacity': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        'resume-grace-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  if (values['help']) return 'help';
  const pick = (flag: keyof typeof OPTIONS): string | undefined => {
    const value = values[flag];
    // An empty value means "not set", whether it came from a flag or the environment.
    return (typeof value === 'string' ? value : env[OPTIONS[flag].env]) || undefined;
  };
  const heartbeat = pick('heartbeat-ms');
  const grace = pick('resume-grace-ms');
  return {
    port: integer('PORT', pick('port') ?? '8080', 0, 65535),
    host: pick('host') ?? '127.0.0.1',
    roomCapacity: integer('ROOM_CAPACITY', pick('room-capacity') ?? '2', 1, 1000),
    ...(heartbeat === undefined ? {} : { heartbeatMs: heartbeatMs(heartbeat) }),
    ...(grace === undefined ? {} : { resumeGraceMs: integer('RESUME_GRACE_MS', grace, 0, 600_000) }),
  };
}
