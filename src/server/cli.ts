import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { createJoinToken, turnCredentials } from './auth.js';
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
  const server = await startServer({
    port: config.port,
    host: config.host,
    capacity: config.roomCapacity,
    heartbeatMs: config.heartbeatMs,
    resumeGraceMs: config.resumeGraceMs,
    allowedOrigins: config.allowedOrigins,
    joinSecret: config.joinSecret,
    ...(config.stunPort === undefined ? {} : { stunPort: config.stunPort }),
    ...(config.stunUrls ? { stunUrls: config.stunUrls } : {}),
    ...(config.redis
      ? {
          redisUrl: config.redis.url,
          redisPresenceTtlMs: config.redis.presenceTtlMs,
          // Redis trouble is the operator's to see: an outage, a message that could not be relayed.
          log: (line: string) => console.error(`rtc-call server: ${line}`),
        }
      : {}),
    ...(turn
      ? { iceServers: (peerId) => [turnCredentials(turn.secret, turn.urls, peerId, { ttlSeconds: turn.ttlSeconds })] }
      : {}),
    ...(tls ? { tls } : {}),
  });
  const signalUrl = server.url.replace(/^http/, 'ws') + 'signal';
  console.log(`rtc-call server: open ${server.url} (bundle ${server.url}rtc-call.js, signaling ${signalUrl})`);
  // What is on, never the secrets themselves.
  console.log(
    `rtc-call server: ${
      config.allowedOrigins
        ? `origins allowed: ${config.allowedOrigins.join(', ')}`
        : 'all origins allowed (set ALLOWED_ORIGINS to restrict)'
    }; join tokens ${config.joinSecret ? 'required' : 'not required'}; TURN credentials ${
      turn ? `for ${turn.urls.join(', ')}, valid ${turn.ttlSeconds} s` : 'off'
    }; STUN ${
      config.stunUrls
        ? `handed out: ${config.stunUrls.join(', ')}`
        : server.stunPort
          ? `answered on UDP port ${server.stunPort}`
          : 'off'
    }`,
  );
  if (config.redis) {
    const { url, presenceTtlMs } = config.redis;
    console.log(`rtc-call server: rooms shared through Redis at ${redact(url)} (presence TTL ${presenceTtlMs} ms)`);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // Whoever sends a second signal does not want to wait for the sockets.
      console.log(`rtc-call server: ${signal} again, exiting now`);
      process.exit(128 + constants.signals[signal]);
    }
    stopping = true;
    console.log(`rtc-call server: ${signal}, closing`);
    // 1012 (service restart): clients reconnect, to another instance if this one is going away.
    server.close(1012, 'service restart').then(
      () => process.exit(0),
      () => process.exit(1),
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
