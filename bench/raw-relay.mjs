// The floor's raw relay as a command, for a network namespace: `node raw-relay.mjs HOST` prints
// its ws:// URL and relays until killed.
import { startRawRelay } from './signaled.mjs';

const relay = await startRawRelay(process.argv[2]);
console.log(relay.url);
