import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { pino } from 'pino';
import { createJoinToken } from './auth.js';
import { ConfigError, USAGE, readConfig, readTokenCommand, redact } from './config.js';
import { startServer } from './index.js';

async function main(): Promise<number> {
  let config;
  let tls: { cert: Buffer; key: Buffer } | undefined;
  const args = process.argv.slice(2);
  try {
    if (args[0] === 'token') {
      const { secret, room, ttlSeconds, name } = readTokenCommand(args.slice(1), process.env);
      console.log(createJoinToken(secret, { room, ttlSeconds, ...(name ? { name } : {}) }));
      return 0;
    }
    config = readConfig(args, process.env);
    if (config !== 'help' && config.tls) {
      tls = { cert: readPem('TLS_CERT', config.tls.certFile), key: readPem('TLS_KEY', config.tls.keyFile) };
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`rtc-call-server: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (config === 'help') {
    console.log(USAGE);
    return 0;
  }
  const { turn } = config;
  // JSON lines on stdout, one per event, never a secret, token, SDP or candidate (log.ts).
  const logger = pino(
    {
      level: config.logLevel,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Written as they come, in order, and all of them before the process exits: a few lines a
      // minute at most, so waiting on stdout costs nothing.
    },
    pino.destination({ dest: 1, sync: true }),
  );
  const server = await startServer({
    port: config.port,
    host: config.host,
    capacity: config.roomCapacity,
    heartbeatMs: config.heartbeatMs,
    resumeGraceMs: config.resumeGraceMs,
    allowedOrigins: config.allowedOrigins,
    joinSecret: config.joinSecret,
    logger,
    demo: config.demo,
    ...config.limits,
    ...(config.trustProxy ? { trustProxy: config.trustProxy } : {}),
    ...(config.stunPort === undefined ? {} : { stunPort: config.stunPort }),
    ...(config.stunUrls ? { stunUrls: config.stunUrls } : {}),
    ...(config.redis ? { redisUrl: config.redis.url, redisPresenceTtlMs: config.redis.presenceTtlMs } : {}),
    ...(turn ? { turn } : {}),
    ...(config.turnMaxSeconds === undefined ? {} : { turnMaxSeconds: config.turnMaxSeconds }),
    ...(config.knockTimeoutMs === undefined ? {} : { knockTimeoutMs: config.knockTimeoutMs }),
    ...(tls ? { tls } : {}),
  });
  // What is on, never the secrets themselves.
  logger.info(
    {
      url: server.url,
      bundle: `${server.url}rtc-call.js`,
      signaling: server.url.replace(/^http/, 'ws') + 'signal',
      demo: config.demo,
      origins: config.allowedOrigins ?? 'any (set ALLOWED_ORIGINS to restrict)',
      joinTokens: config.joinSecret ? 'required' : 'not required',
      turn: turn ? { urls: turn.urls, ttlSeconds: turn.ttlSeconds } : 'off',
      stun: config.stunUrls ?? (server.stunPort ? `UDP port ${server.stunPort}` : 'off'),
      trustProxy: config.trustProxy ?? 'none',
      ...(config.redis ? { redis: redact(config.redis.url), presenceTtlMs: config.redis.presenceTtlMs } : {}),
    },
    'rtc-call server listening',
  );
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // Whoever sends a second signal does not want to wait for the sockets.
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(128 + constants.signals[signal]);
    }
    stopping = true;
    logger.info({ signal, connections: server.signaling.connectionCount }, 'stopping');
    // 1012 (service restart): clients reconnect, to another instance if this one is going away.
    server.close(1012, 'service restart').then(
      () => {
        logger.info({}, 'stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ error: error instanceof Error ? error.message : String(error) }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return -1;
}

function readPem(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(
      `${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
}

main().then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`rtc-call-server: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
