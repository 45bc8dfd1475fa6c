// One signaling server in a process of its own, driven over IPC by bench/server.mjs:
// `node --expose-gc bench/server-process.mjs ours|peer|raw`. Answers `memory` (after a full GC)
// and `cpu` (CPU time, and the longest event-loop delay since the last `cpu`) requests, and exits
// on `stop`, when its parent goes, or after a deadline.
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PeerServer } from 'peer';
import { WebSocketServer } from 'ws';
import { DEFAULT_LIMITS, startServer } from '../lib/server/index.js';

const kind = process.argv[2];
// Whatever happens to the parent, this process does not outlive a whole benchmark run.
setTimeout(() => process.exit(3), 15 * 60_000).unref();
process.on('disconnect', () => process.exit(0));

async function start() {
  if (kind === 'ours') {
    // At its defaults, limits included: the clients keep to them, as people's do.
    const server = await startServer({ port: 0, host: '127.0.0.1' });
    return {
      url: server.url.replace(/^http/, 'ws') + 'signal',
      limits: DEFAULT_LIMITS,
      close: () => server.close(),
    };
  }
  if (kind === 'peer') {
    // `path: '/'` puts the socket at /peerjs. No per-socket rate limit to lift; the concurrent
    // client limit (default 5000) is raised so it can hold the same counts as ours.
    const http = await new Promise((resolve) =>
      PeerServer({ host: '127.0.0.1', port: 0, path: '/', concurrent_limit: 1e9 }, resolve),
    );
    return {
      url: `ws://127.0.0.1:${http.address().port}/peerjs`,
      limits: { concurrent_limit: 1e9 },
      close: () => http.close(),
    };
  }
  if (kind === 'raw') return startRawPairRelay();
  throw new Error(`unknown server kind ${kind}`);
}

/** The floor: `?room=R` pairs two sockets; each text message goes to the other one, as is. */
async function startRawPairRelay() {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  const rooms = new Map();
  wss.on('connection', (socket, request) => {
    const room = new URL(request.url, 'http://x').searchParams.get('room');
    const members = rooms.get(room) ?? [];
    rooms.set(room, members);
    members.push(socket);
    socket.on('error', () => {});
    socket.on('message', (data) => {
      for (const other of members) if (other !== socket) other.send(data.toString());
    });
    socket.on('close', () => {
      members.splice(members.indexOf(socket), 1);
      if (members.length === 0) rooms.delete(room);
    });
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { url: `ws://127.0.0.1:${http.address().port}/`, close: () => wss.close() };
}

const server = await start();
// How long the event loop was held up since the last `cpu` request (a long synchronous pass).
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
process.on('message', async ({ id, type }) => {
  if (type === 'memory') {
    // Twice: the first pass can leave garbage whose finalizers free more on the second.
    global.gc?.();
    global.gc?.();
    process.send({ id, memory: process.memoryUsage(), gc: typeof global.gc === 'function' });
  } else if (type === 'cpu') {
    process.send({ id, cpu: process.cpuUsage(), loopDelayMaxMs: loopDelay.max / 1e6 });
    loopDelay.reset();
  } else if (type === 'stop') {
    // The `peer` server keeps intervals it cannot stop: do not wait for a clean close.
    await Promise.race([server.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    process.exit(0);
  }
});
process.send({ type: 'listening', url: server.url, limits: server.limits ?? {}, pid: process.pid });
