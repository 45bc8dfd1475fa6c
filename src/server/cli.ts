import { constants } from 'node:os';
import { ConfigError, USAGE, readConfig } from './config.js';
import { startServer } from './index.js';

async function main(): Promise<number> {
  let config;
  try {
    config = readConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`rtc-call-server: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (config === 'help') {
    console.log(USAGE);
    return 0;
  }
  const server = await startServer({
    port: config.port,
    host: config.host,
    capacity: config.roomCapacity,
    heartbeatMs: config.heartbeatMs,
    resumeGraceMs: config.resumeGraceMs,
  });
  const signalUrl = server.url.replace(/^http/, 'ws') + 'signal';
  console.log(`rtc-call server: open ${server.url} (bundle ${server.url}rtc-call.js, signaling ${signalUrl})`);
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

main().then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`rtc-call-server: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
