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
  const server = await startServer({ port: config.port, host: config.host, capacity: config.roomCapacity });
  const signalUrl = server.url.replace(/^http/, 'ws') + 'signal';
  console.log(`rtc-call server: open ${server.url} (bundle ${server.url}rtc-call.js, signaling ${signalUrl})`);
  const stop = (signal: string) => {
    console.log(`rtc-call server: ${signal}, closing`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
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
