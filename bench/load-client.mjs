// The load generator of bench/server.mjs, in a process of its own, driven over IPC:
// `open` N sockets in rooms of two on one server (ours, the `peer` server or the raw relay),
// `relay` SDP-sized offers between the two sides of each pair at a given rate (open loop) and
// report the latencies, `close`. Idle sockets keep up what a real client sends: ours a `ping`
// confirming what it received every 4 s, and after every 16 messages received (as the element
// does), PeerJS a `HEARTBEAT` every 5 s (as `peerjs` does); `ws` answers the server's pings by
// itself. The clients keep to our server's default limits, for all three servers alike: each
// socket comes from a loopback address of its own group of 20 (127.1.x.y), so no address opens
// more than 20 sockets or joins more than 20 times, and no socket sends more than 50 messages a second.
import { WebSocket } from 'ws';

// Whatever happens to the parent, this process does not outlive a whole benchmark run.
setTimeout(() => process.exit(3), 15 * 60_000).unref();
process.on('disconnect', () => process.exit(0));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A plausible offer: one audio and one video section, candidates; `o=- <time> <step>` is the stamp. */
function fakeSdp(bytes) {
  const lines = [
    'v=0',
    'o=- @STAMP@ IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS stream',
  ];
  const codecs = ['opus/48000/2', 'VP8/90000', 'rtx/90000', 'VP9/90000', 'H264/90000', 'AV1/90000', 'red/90000'];
  for (let line = 0; lines.join('\r\n').length < bytes - 200; line++) {
    const pt = 96 + (line % 30);
    lines.push(
      line % 4 === 0
        ? `a=candidate:${1000000 + line} 1 udp 2122260223 192.168.1.${line % 250} ${50000 + line} typ host generation 0 network-id 1`
        : line % 4 === 1
          ? `a=rtpmap:${pt} ${codecs[line % codecs.length]}`
          : line % 4 === 2
            ? `a=rtcp-fb:${pt} nack pli`
            : `a=fmtp:${pt} level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f`,
    );
  }
  return lines.join('\r\n') + '\r\n';
}

const SDP = fakeSdp(4800);
const MARK = 'o=- ';

let kind;
let serverUrl;
/** Sockets per source address: within our server's default join burst and connection cap. */
const PER_ADDRESS = 20;
let opened = 0;
/** The source address of the next socket. */
function nextAddress() {
  const group = Math.floor(opened++ / PER_ADDRESS) + 1;
  return `127.1.${group >> 8}.${group & 255}`;
}

/** Every open socket: { ws, received } (ours: the highest `seq` received, confirmed by `ping`). */
const conns = [];
/** Sender, receiver, and the message text around the stamp. */
const pairs = [];
let unexpectedCloses = 0;
let closing = false;

/** The current relay step; messages stamped with another step are late ones from before. */
const step = { id: 0, received: 0, latencies: [], lastAt: 0 };

function onMessage(conn, data) {
  const text = data.toString();
  const at = text.indexOf(MARK);
  if (at >= 0) {
    const start = at + MARK.length;
    const space = text.indexOf(' ', start);
    const t0 = Number(text.slice(start, space));
    if (Number(text.slice(space + 1, text.indexOf(' ', space + 1))) === step.id) {
      const now = performance.now();
      step.latencies.push(now - t0);
      step.received++;
      step.lastAt = now;
    }
  }
  if (kind === 'ours') {
    const seq = text.lastIndexOf('"seq":');
    if (seq >= 0) {
      conn.received = parseInt(text.slice(seq + 6), 10);
      // As the element: a confirm after every 16, so the server's replay copy is freed soon.
      if (conn.received - conn.confirmed >= 16 && conn.ws.readyState === WebSocket.OPEN) {
        conn.confirmed = conn.received;
        conn.ws.send(`{"type":"ping","received":${conn.received}}`);
      }
    }
  }
}

/**
 * An open socket, and its first message (parsed): listened for from the start, as a message that
 * comes with the handshake's answer is emitted before anything awaiting `open` runs.
 */
function connect(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress: nextAddress() });
    const first = new Promise((resolveFirst, rejectFirst) => {
      const timer = setTimeout(() => rejectFirst(new Error('no answer from the server in 10 s')), 10_000);
      ws.once('message', (data) => {
        clearTimeout(timer);
        resolveFirst(JSON.parse(data.toString()));
      });
    });
    // Only awaited where a first message is expected.
    first.catch(() => {});
    ws.once('open', () => resolve({ ws, first }));
    ws.once('error', reject);
  });
}

function track(ws) {
  const conn = { ws, received: 0, confirmed: 0 };
  ws.on('message', (data) => onMessage(conn, data));
  ws.on('error', () => {});
  ws.on('close', () => {
    if (!closing) unexpectedCloses++;
  });
  conns.push(conn);
  return conn;
}

/** Two sockets in one room, `a` ready to send to `b`. */
async function openPair(index) {
  const room = `bench-${index}`;
  if (kind === 'ours') {
    const join = async () => {
      const { ws, first } = await connect(serverUrl);
      ws.send(JSON.stringify({ type: 'join', room }));
      const joined = await first;
      if (joined.type !== 'joined') throw new Error(`join answered with ${JSON.stringify(joined)}`);
      return { ws, id: joined.id };
    };
    const a = await join();
    const b = await join();
    const text = (to) =>
      JSON.stringify({ type: 'signal', to, data: { description: { type: 'offer', sdp: SDP } } }).split('@STAMP@');
    return { a: track(a.ws), b: track(b.ws), ab: text(b.id), ba: text(a.id) };
  }
  if (kind === 'peer') {
    const open = async (id) => {
      const { ws, first } = await connect(`${serverUrl}?key=peerjs&id=${id}&token=t${index}`);
      const message = await first;
      if (message.type !== 'OPEN') throw new Error(`connect answered with ${JSON.stringify(message)}`);
      return ws;
    };
    const ids = [`${room}-a`, `${room}-b`];
    const a = await open(ids[0]);
    const b = await open(ids[1]);
    // What `peerjs` sends for a media call.
    const text = (dst) =>
      JSON.stringify({
        type: 'OFFER',
        payload: { sdp: { type: 'offer', sdp: SDP }, type: 'media', connectionId: `mc_${index}`, metadata: {} },
        dst,
      }).split('@STAMP@');
    return { a: track(a), b: track(b), ab: text(ids[1]), ba: text(ids[0]) };
  }
  const { ws: a } = await connect(`${serverUrl}?room=${room}`);
  const { ws: b } = await connect(`${serverUrl}?room=${room}`);
  const text = JSON.stringify({ type: 'signal', data: { description: { type: 'offer', sdp: SDP } } }).split('@STAMP@');
  return { a: track(a), b: track(b), ab: text, ba: text };
}

/** Opens `count` sockets (count/2 rooms), a bounded number of handshakes at a time. */
async function open({ count, concurrency = 64 }) {
  const t0 = performance.now();
  const first = pairs.length;
  const wanted = first + Math.floor(count / 2);
  let next = first;
  const worker = async () => {
    while (next < wanted) {
      const index = next++;
      pairs[index] = await openPair(index);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { sockets: conns.length, seconds: (performance.now() - t0) / 1000 };
}

let heartbeatTick = 0;
const heartbeat = setInterval(() => {
  // Each socket once per 16 ticks of 250 ms (ours: 4 s) or 20 (PeerJS: 5 s), spread out.
  const period = kind === 'peer' ? 20 : 16;
  const slot = heartbeatTick++ % period;
  if (kind === 'raw' || !kind) return;
  for (let i = slot; i < conns.length; i += period) {
    const { ws, received } = conns[i];
    if (ws.readyState !== WebSocket.OPEN) continue;
    ws.send(kind === 'ours' ? `{"type":"ping","received":${received}}` : '{"type":"HEARTBEAT"}');
  }
}, 250);
heartbeat.unref();

/**
 * Offers `rate` messages/s in total for `seconds`, round-robin over the first `pairCount` pairs,
 * each pair's two sides in turn, each stamped with its send time; stops early when more than a
 * second's worth is undelivered.
 */
async function relay({ rate, seconds, pairCount, drainMs }) {
  const active = pairs.slice(0, pairCount);
  step.id++;
  step.received = 0;
  step.latencies = [];
  step.lastAt = 0;
  const total = Math.max(1, Math.round(rate * seconds));
  const cpu0 = process.cpuUsage();
  const closes0 = unexpectedCloses;
  let sent = 0;
  let aborted = false;
  const start = performance.now();
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
      while (sent < due) {
        const pair = active[sent % active.length];
        const [from, [prefix, suffix]] =
          Math.floor(sent / active.length) % 2 === 0 ? [pair.a, pair.ab] : [pair.b, pair.ba];
        from.ws.send(prefix + performance.now() + ' ' + step.id + suffix);
        sent++;
      }
      if (sent - step.received > Math.max(rate, 100)) aborted = true;
      if (sent >= total || aborted) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const sendSeconds = (performance.now() - start) / 1000;
  const deadline = performance.now() + drainMs;
  while (step.received < sent && performance.now() < deadline) await sleep(5);
  const latencies = Float64Array.from(step.latencies).sort();
  const quantile = (q) =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : NaN;
  const cpu = process.cpuUsage(cpu0);
  return {
    offered: rate,
    sent,
    received: step.received,
    aborted,
    closed: unexpectedCloses - closes0,
    sentPerSecond: sent / sendSeconds,
    deliveredPerSecond: step.received / (((step.lastAt || performance.now()) - start) / 1000),
    p50Ms: quantile(0.5),
    p99Ms: quantile(0.99),
    maxMs: latencies.length ? latencies[latencies.length - 1] : NaN,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
  };
}

/** Closes every socket (ours: `leave` first, so the server frees the seat at once). */
async function closeAll() {
  closing = true;
  if (kind === 'ours') for (const { ws } of conns) if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"leave"}');
  await sleep(kind === 'ours' ? 200 : 0);
  await Promise.all(
    conns.map(
      ({ ws }) =>
        new Promise((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', resolve);
          ws.close();
          setTimeout(() => (ws.terminate(), resolve()), 2000).unref();
        }),
    ),
  );
  conns.length = 0;
  pairs.length = 0;
  // Fresh addresses for the next sockets: the server still remembers what these joined.
  closing = false;
  return { unexpectedCloses };
}

const commands = {
  init: (args) => {
    kind = args.kind;
    serverUrl = args.url;
    return { sdpBytes: SDP.length };
  },
  open,
  relay,
  close: closeAll,
  sample: () => {
    const pair = pairs[0];
    return { bytes: Buffer.byteLength(pair.ab[0] + performance.now() + ' 1' + pair.ab[1]) };
  },
  stop: () => setImmediate(() => process.exit(0)),
};

process.on('message', async ({ id, type, ...args }) => {
  try {
    process.send({ id, result: await commands[type](args) });
  } catch (error) {
    process.send({ id, error: error instanceof Error ? error.stack : String(error) });
  }
});
process.send({ type: 'ready' });
