import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { LIMITS, parseServerMessage } from '../../lib/protocol.js';

/*
 * Fuzzes the signaling server with random and malformed messages from many sockets at once.
 *
 * The server runs in a child `node --expose-gc` (the test runner cannot pass flags per file): its
 * heap holds only the server, so after a forced GC it can be compared with a baseline taken the
 * same way, and an uncaught exception there cannot hide behind the runner's own handlers.
 *
 * FUZZ_SEED=n replays a run (the seed is printed); FUZZ_MESSAGES=n changes the volume.
 */

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : randomInt(2 ** 31);
const MESSAGES = Number(process.env.FUZZ_MESSAGES || 100_000);
const SOCKETS = 50;
const TIMEOUT = 10_000;
const ID = /^[A-Za-z0-9_-]{22,}$/;
/** Close codes the server may use on a fuzzer: too big (1009), not UTF-8 (1007), cut off by heartbeat or backpressure (1006). */
const EXPECTED_CLOSES = new Set([1006, 1007, 1009]);
/**
 * Heap allowed to remain after the run, over the baseline, both measured after forced GCs in a
 * process holding nothing but the server: what is left over is retained by the server. Run to run
 * the difference is well under 1 MB; a leak of one socket's state (listeners, buckets, a map entry:
 * a few KB) per connection, over the ~1,000 connections of a run, would exceed it.
 */
const HEAP_SLACK = 3 * 1024 * 1024;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The child process: the real server, with the rate limits raised so the fuzzers are not simply
 * disconnected, reporting over IPC. Stringified into `node -e`, so it imports dynamically.
 */
async function serverMain(indexUrl) {
  const { startServer } = await import(indexUrl);
  const crashes = [];
  process.on('uncaughtException', (error) => crashes.push(`uncaughtException: ${error?.stack ?? error}`));
  process.on('unhandledRejection', (error) => crashes.push(`unhandledRejection: ${error?.stack ?? error}`));
  const handlerFailures = [];
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort().join();
  const unlimited = { burst: 1e9, perSecond: 1e9 };
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    heartbeatMs: 2000,
    // Short, so seats held for a resume (a path the fuzz exercises) are empty again soon after.
    resumeGraceMs: 100,
    messageRate: unlimited,
    joinRate: unlimited,
    logger: {
      debug: (fields, msg) => {
        if (msg === 'handler failure' && handlerFailures.length < 10) handlerFailures.push(fields.error);
      },
      info() {},
      warn() {},
      error() {},
    },
  });
  let peakHeap = 0;
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 100);
  sampler.unref();
  const settledHeap = async () => {
    for (let i = 0; i < 6; i++) {
      globalThis.gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return process.memoryUsage().heapUsed;
  };
  let closing = false;
  // The test died: do not outlive it.
  process.on('disconnect', () => closing || process.exit(1));
  process.on('message', async ({ command }) => {
    if (command === 'stats') {
      const rooms = server.signaling;
      process.send({
        type: 'stats',
        connections: server.signaling.connectionCount,
        rooms: rooms.roomCount,
        members: rooms.memberCount,
        crashes,
        handlerFailures,
        polluted:
          Object.getOwnPropertyNames(Object.prototype).sort().join() !== prototypeKeys ||
          {}.polluted !== undefined ||
          {}.isAdmin !== undefined,
      });
    } else if (command === 'heap') {
      process.send({ type: 'heap', heapUsed: await settledHeap(), peakHeap });
      peakHeap = 0;
    } else if (command === 'close') {
      closing = true;
      await server.close();
      clearInterval(sampler);
      // With the channel gone, nothing may keep the process alive: it exits by itself.
      process.disconnect();
    }
  });
  process.send({ type: 'ready', url: server.url });
}

/** Starts the server child; `ask(command)` resolves with its answer. */
async function startChild(t) {
  const indexUrl = new URL('../../lib/server/index.js', import.meta.url).href;
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--input-type=module', '-e', `(${serverMain})(${JSON.stringify(indexUrl)})`],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const exited = once(child, 'exit');
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const answer = (type) =>
    withTimeout(
      new Promise((resolve, reject) => {
        const onMessage = (message) => {
          if (message.type !== type) return;
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve(message);
        };
        const onExit = (code, signal) => reject(new Error(`the server process exited (${code ?? signal})`));
        child.on('message', onMessage);
        child.on('exit', onExit);
      }),
      `the server's ${type}`,
    );
  const ready = await answer('ready');
  return {
    url: ready.url,
    exited,
    ask(command) {
      const answered = answer(command);
      child.send({ command });
      return answered;
    },
    tell(command) {
      child.send({ command });
    },
  };
}

function withTimeout(promise, what, ms = TIMEOUT) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what} (FUZZ_SEED=${SEED})`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What every fuzzer saw; the test asserts on it. */
class Tally {
  sent = 0;
  connections = 0;
  replies = 0;
  relayed = 0;
  closes = {};
  violations = [];

  violation(text) {
    if (this.violations.length < 20) this.violations.push(text);
  }
}

/**
 * One socket to the server. Checks every message the server sends it: parseable by the client's
 * own parser, and a relayed signal only ever `from` a peer the server said is in our room.
 */
class Connection {
  /** Peers of our room, as the server told us: joined.peers, then peer-joined / peer-left. */
  roomPeers = new Set();
  id = undefined;
  queue = [];
  #syncs = 0;
  #waiting = undefined;

  constructor(url, tally, shared) {
    this.tally = tally;
    this.shared = shared;
    this.ws = new WebSocket(new URL('/signal', url.replace(/^http/, 'ws')));
    this.ws.on('error', () => {});
    this.opened = once(this.ws, 'open');
    this.closed = new Promise((resolve) => this.ws.once('close', (code) => resolve(code)));
    this.ws.on('message', (data, isBinary) => this.#receive(data, isBinary));
  }

  get open() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Resolves once the server has handled everything sent before (its answer to a marker arrives), or the socket closed. */
  sync() {
    const marker = `sync-${++this.#syncs}`;
    this.ws.send(JSON.stringify({ type: marker }));
    this.tally.sent++;
    return withTimeout(
      Promise.race([new Promise((resolve) => (this.#waiting = { marker, resolve })), this.closed]),
      `the answer to ${marker}`,
    );
  }

  /** The next message of `type` (for the final, non-random check). */
  async next(type) {
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      const index = this.queue.findIndex((m) => m.type === type);
      if (index !== -1) return this.queue.splice(index, 1)[0];
      if (Date.now() > deadline) assert.fail(`no ${type}; queued: ${JSON.stringify(this.queue)}`);
      if (!this.open) assert.fail(`socket closed while waiting for ${type}`);
      await Promise.race([once(this.ws, 'message'), this.closed]);
    }
  }

  #receive(data, isBinary) {
    const { tally } = this;
    tally.replies++;
    if (isBinary) return tally.violation('the server sent a binary frame');
    const parsed = parseServerMessage(data.toString());
    if (!parsed.ok)
      return tally.violation(`unparsable server message (${parsed.error}): ${data.toString().slice(0, 200)}`);
    const message = parsed.message;
    switch (message.type) {
      case 'joined':
        if (!ID.test(message.id)) tally.violation(`joined with id ${message.id}`);
        this.id = message.id;
        this.roomPeers = new Set(message.peers.map((p) => p.id));
        this.shared.ids.push(message.id);
        if (this.shared.ids.length > 500) this.shared.ids.splice(0, 250);
        break;
      case 'peer-joined':
        if (!ID.test(message.id)) tally.violation(`peer-joined with id ${message.id}`);
        this.roomPeers.add(message.id);
        break;
      case 'peer-left':
        this.roomPeers.delete(message.id);
        break;
      case 'signal':
        tally.relayed++;
        if (!this.roomPeers.has(message.from)) tally.violation(`signal from ${message.from}, not of our room`);
        break;
      case 'error':
        if (this.#waiting && message.message.includes(`"${this.#waiting.marker}"`)) {
          this.#waiting.resolve();
          this.#waiting = undefined;
          return;
        }
        break;
    }
    if (this.queue.length < 100) this.queue.push(message);
  }
}

// ---- the generator ----

const KEYS = ['type', 'room', 'name', 'token', 'to', 'from', 'data', 'description', 'candidate', 'sdp', 'resume'];
const EVIL_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
];
const TYPES = ['join', 'signal', 'leave', 'ping', 'joined', 'pong', 'error', 'peer-left', '', 'JOIN', 'signal ', null];

function generator(rng) {
  const int = (n) => Math.floor(rng() * n);
  const pick = (list) => list[int(list.length)];
  const chance = (p) => rng() < p;

  const string = (max = 24) => {
    const alphabets = [
      'abcdefghijklmnopqrstuvwxyz0123456789-_',
      '"\\/\b\f\n\r\t{}[]:,',
      '\u0000\u0001\u001f\u007f\u2028\u2029\ufeff\ufffd',
      'é漢字🎥\ud800\udfff',
    ];
    const alphabet = pick(alphabets);
    let text = '';
    const length = int(max + 1);
    for (let i = 0; i < length; i++) text += alphabet[int(alphabet.length)];
    return text;
  };

  const number = () =>
    pick([0, -0, -1, 1, 0.5, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, int(1e6), -int(1e6)]);

  const value = (depth = 0) => {
    switch (int(depth > 3 ? 4 : 6)) {
      case 0:
        return pick([null, true, false]);
      case 1:
        return number();
      case 2:
      case 3:
        return string();
      case 4:
        return Array.from({ length: int(4) }, () => value(depth + 1));
      default: {
        const object = {};
        for (let i = int(5); i > 0; i--) object[chance(0.7) ? pick(KEYS) : string(8)] = value(depth + 1);
        return object;
      }
    }
  };

  const id = (shared) => (shared.ids.length && chance(0.8) ? pick(shared.ids) : string(30));
  const room = () => (chance(0.9) ? `room-${int(8)}` : chance(0.5) ? pick(EVIL_KEYS) : string(40));
  const signalData = () =>
    chance(0.5)
      ? {
          description: {
            type: pick(['offer', 'answer']),
            sdp: `v=0\r\n${'a=x\r\n'.repeat(int(chance(0.05) ? 8000 : 50))}`,
          },
        }
      : chance(0.1)
        ? { candidate: null }
        : {
            candidate: {
              candidate: `candidate:${int(1e6)} 1 udp ${int(2 ** 31)} 10.0.${int(256)}.${int(256)} ${int(65536)} typ host`,
              sdpMid: pick([undefined, null, '0', '1']),
              sdpMLineIndex: pick([undefined, null, 0, 1]),
              usernameFragment: pick([undefined, null, string(8)]),
            },
          };

  /** A valid message, with a spoofed `from` now and then (the server must refuse it: not in the schema). */
  const valid = (conn) => {
    // Weighted: joins 2, signals 5, leave 1, pings 2 in 10; seats churn, yet peers meet.
    switch (int(10)) {
      case 0:
      case 1: {
        const join = { type: 'join', room: room() };
        if (chance(0.7)) join.name = string(20);
        if (chance(0.1)) join.token = string(40);
        if (chance(0.1)) join.resume = { id: id(conn.shared), secret: string(22) || 'x', received: int(100) };
        return join;
      }
      case 2:
      case 3:
      case 4:
      case 5:
      case 6: {
        const peers = [...conn.roomPeers];
        const to = peers.length && chance(0.8) ? pick(peers) : id(conn.shared);
        const signal = { type: 'signal', to, data: signalData() };
        if (chance(0.3)) signal.from = pick([id(conn.shared), conn.id ?? 'me', to]);
        if (chance(0.3)) signal.seq = int(1000);
        return signal;
      }
      case 7:
        return { type: 'leave' };
      default:
        return chance(0.5) ? { type: 'ping' } : { type: 'ping', received: int(1000) };
    }
  };

  /** A valid message with one field changed, removed or added. */
  const mutated = (conn) => {
    const message = valid(conn);
    const keys = Object.keys(message);
    switch (int(4)) {
      case 0:
        message[pick(keys)] = value();
        break;
      case 1:
        Reflect.deleteProperty(message, pick(keys));
        break;
      case 2:
        message[chance(0.5) ? pick(KEYS) : string(10)] = value();
        break;
      default:
        if (message.data) message.data = chance(0.5) ? value() : { ...message.data, [pick(KEYS)]: value() };
        else message.type = pick(TYPES);
    }
    return JSON.stringify(message);
  };

  const broken = (conn) => {
    const text = JSON.stringify(valid(conn));
    switch (int(5)) {
      case 0:
        return text.slice(0, int(text.length));
      case 1: {
        const at = int(text.length);
        return text.slice(0, at) + string(3) + text.slice(at);
      }
      case 2:
        return pick([
          '',
          ' ',
          '{',
          '}',
          'null',
          'true',
          '0',
          '"join"',
          '[{"type":"join"}]',
          '{"type":}',
          "{'type':'ping'}",
        ]);
      case 3: {
        // Twice over, within the frame limit (a bigger frame closes the socket: that is `kills`).
        // The limit is in bytes: a character of the name may take up to four in UTF-8 (and a
        // surrogate pair cut in two, three for its half).
        const twice = `${text}${text}`;
        return twice.slice(0, LIMITS.message - (Buffer.byteLength(twice) - twice.length) - 2);
      }
      default:
        return string(200);
    }
  };

  /** Raw text, since JSON.stringify would not write `__proto__` as a key. */
  const pollution = (conn) => {
    const evil = pick([
      '{"__proto__":{"polluted":true,"isAdmin":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '{"prototype":{"polluted":true}}',
    ]);
    const inner = evil.slice(1, -1);
    const to = JSON.stringify(id(conn.shared));
    return pick([
      `{"type":"ping",${inner}}`,
      `{${inner},"type":"join","room":"${room()}"}`,
      `{"type":"join","room":"__proto__","name":"constructor",${inner}}`,
      `{"type":"signal","to":${to},"data":{"candidate":{"candidate":"c",${inner}},${inner}}}`,
      `{"type":"signal","to":${to},"data":{"description":{"type":"offer","sdp":"v=0",${inner}}}}`,
      `{"type":"join","room":"r","resume":${evil}}`,
      `{"type":"__proto__",${inner}}`,
      `{"type":"constructor"}`,
      evil,
    ]);
  };

  const huge = (conn) => {
    const big = (n) => 'x'.repeat(n);
    return JSON.stringify(
      pick([
        () => ({ type: 'join', room: big(LIMITS.room + 1) }),
        () => ({ type: 'join', room: 'r', name: big(LIMITS.name + 1 + int(1000)) }),
        () => ({ type: 'join', room: 'r', token: big(LIMITS.token + 1) }),
        () => ({ type: 'signal', to: big(LIMITS.peerId + 1), data: signalData() }),
        () => ({
          type: 'signal',
          to: id(conn.shared),
          data: { description: { type: 'offer', sdp: big(LIMITS.sdp + 1) } },
        }),
        () => ({ type: 'signal', to: id(conn.shared), data: { candidate: { candidate: big(LIMITS.candidate + 1) } } }),
        () => Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`k${i}`, i]).concat([['type', 'ping']])),
        () => ({ type: 'ping', padding: big(LIMITS.message - 100) }),
      ])(),
    );
  };

  const deep = () => {
    const depth = 50 + int((LIMITS.message - 200) / 2);
    return pick([
      () => '['.repeat(depth) + ']'.repeat(depth),
      () => `{"type":"join","room":"r","resume":${'{"a":'.repeat(depth / 5)}1${'}'.repeat(depth / 5)}}`,
      () => `{"type":"signal","to":"x","data":${'['.repeat(depth - 40)}${']'.repeat(depth - 40)}}`,
      () => '['.repeat(depth), // unbalanced
    ])();
  };

  /** `{data, binary?, kills?}`: `kills` when the server will close the socket over it. */
  return (conn) => {
    const roll = rng() * 100;
    if (roll < 15) return { data: JSON.stringify(valid(conn)) };
    if (roll < 35) return { data: mutated(conn) };
    if (roll < 47) return { data: broken(conn) };
    if (roll < 57) return { data: JSON.stringify(chance(0.5) ? value() : { ...value(), type: pick(TYPES) }) };
    if (roll < 67) return { data: pollution(conn) };
    if (roll < 70) return { data: huge(conn) };
    if (roll < 71) return { data: deep() };
    if (roll < 74) return { data: Buffer.from(string(64)), binary: true };
    if (roll < 74.15) return { data: 'x'.repeat(LIMITS.message + 1 + int(30_000)), kills: 1009 };
    if (roll < 74.3) return { data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), kills: 1007 };
    // The rest: valid messages, so fuzzers meet in rooms and relay to each other.
    return { data: JSON.stringify(valid(conn)) };
  };
}

/** One fuzzer: `budget` messages over as many connections as the server's closes make it need. */
async function fuzz(url, index, budget, tally, shared) {
  const rng = mulberry32(SEED + index * 7919);
  const next = generator(rng);
  let sent = 0;
  while (sent < budget && !shared.stopped) {
    const conn = new Connection(url, tally, shared);
    shared.open.add(conn);
    conn.closed.then(() => shared.open.delete(conn));
    tally.connections++;
    // Rejects if it cannot connect: the server is gone, and so is this fuzzer.
    await withTimeout(conn.opened, 'a fuzz socket to open');
    while (sent < budget && conn.open && !shared.stopped) {
      let kills;
      for (let i = 1 + Math.floor(rng() * 40); i > 0 && sent < budget && !kills; i--) {
        const message = next(conn);
        conn.ws.send(message.data, { binary: Boolean(message.binary) });
        tally.sent++;
        sent++;
        kills = message.kills;
      }
      if (kills) {
        const code = await withTimeout(conn.closed, `the close after a frame the server refuses (${kills})`);
        if (code !== kills) tally.violation(`closed with ${code} after a frame that should close with ${kills}`);
        break;
      }
      await conn.sync();
      // Now and then hang up, so sockets come and go, joined or not: a leak per connection shows.
      if (rng() < 0.2) break;
    }
    let by = 'server';
    if (conn.open) {
      by = rng() < 0.5 ? 'close' : 'terminate';
      if (by === 'close') conn.ws.close();
      else conn.ws.terminate();
    }
    const code = await withTimeout(conn.closed, 'a fuzz socket to close');
    tally.closes[`${by} ${code}`] = (tally.closes[`${by} ${code}`] ?? 0) + 1;
    if (by === 'server' && !EXPECTED_CLOSES.has(code)) tally.violation(`closed by the server with ${code}`);
  }
}

/** `shared.stop()` ends every fuzzer of the round (one failed, or the test is over). */
async function fuzzRound(t, url, total) {
  const tally = new Tally();
  const shared = {
    ids: [],
    open: new Set(),
    stopped: false,
    stop() {
      this.stopped = true;
      for (const conn of this.open) conn.ws.terminate();
    },
  };
  t.after(() => shared.stop());
  const budget = Math.ceil(total / SOCKETS);
  try {
    await Promise.all(Array.from({ length: SOCKETS }, (_, i) => fuzz(url, i, budget, tally, shared)));
  } catch (error) {
    shared.stop();
    throw error;
  }
  return tally;
}

async function settled(server) {
  // No event tells us the server has processed the last close: poll its counts.
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const stats = await server.ask('stats');
    if (stats.connections === 0 && stats.members === 0) return stats;
    if (Date.now() > deadline) return stats;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

test(`fuzz: ${MESSAGES} random and malformed messages from ${SOCKETS} sockets`, { timeout: 120_000 }, async (t) => {
  t.diagnostic(`FUZZ_SEED=${SEED}`);
  const server = await startChild(t);

  // Warm up (code compiled, pools filled), then the baseline, in the same state the run ends in.
  await fuzzRound(t, server.url, 5_000);
  await settled(server);
  const baseline = await server.ask('heap');

  const started = performance.now();
  const tally = await fuzzRound(t, server.url, MESSAGES);
  const seconds = (performance.now() - started) / 1000;
  const stats = await settled(server);
  const after = await server.ask('heap');

  t.diagnostic(
    `${tally.sent} messages in ${seconds.toFixed(1)} s over ${tally.connections} connections; ` +
      `${tally.replies} replies, ${tally.relayed} relayed signals; closes ${JSON.stringify(tally.closes)}`,
  );
  t.diagnostic(
    `server heap: baseline ${mb(baseline.heapUsed)}, peak ${mb(after.peakHeap)}, after ${mb(after.heapUsed)} ` +
      `(${after.heapUsed >= baseline.heapUsed ? '+' : ''}${((after.heapUsed - baseline.heapUsed) / 1024).toFixed(0)} KB)`,
  );

  const seed = `FUZZ_SEED=${SEED}`;
  assert.ok(tally.sent >= MESSAGES, `${tally.sent} messages sent`);
  assert.deepEqual(stats.crashes, [], seed);
  assert.deepEqual(stats.handlerFailures, [], seed);
  assert.equal(stats.polluted, false, `Object.prototype polluted (${seed})`);
  assert.equal({}.polluted, undefined);
  assert.deepEqual(tally.violations, [], seed);
  assert.ok(tally.relayed > 100, `fuzzers met in rooms and relayed (${tally.relayed})`);
  assert.deepEqual(
    { connections: stats.connections, rooms: stats.rooms, members: stats.members },
    {
      connections: 0,
      rooms: 0,
      members: 0,
    },
  );
  assert.ok(
    after.heapUsed < baseline.heapUsed + HEAP_SLACK,
    `server heap ${mb(after.heapUsed)} after the run, baseline ${mb(baseline.heapUsed)} (${seed})`,
  );

  // And it still does its job.
  const a = new Connection(server.url, new Tally(), { ids: [] });
  const b = new Connection(server.url, new Tally(), { ids: [] });
  t.after(() => {
    a.ws.terminate();
    b.ws.terminate();
  });
  await withTimeout(Promise.all([a.opened, b.opened]), 'two fresh sockets to open');
  a.ws.send(JSON.stringify({ type: 'join', room: 'after-the-fuzz', name: 'Ada' }));
  const aJoined = await a.next('joined');
  b.ws.send(JSON.stringify({ type: 'join', room: 'after-the-fuzz', name: 'Bo' }));
  const bJoined = await b.next('joined');
  assert.deepEqual(bJoined.peers, [{ id: aJoined.id, name: 'Ada' }]);
  assert.equal((await a.next('peer-joined')).id, bJoined.id);
  const data = { description: { type: 'offer', sdp: 'v=0\r\n' } };
  b.ws.send(JSON.stringify({ type: 'signal', to: aJoined.id, data }));
  assert.deepEqual(await a.next('signal'), { type: 'signal', from: bJoined.id, data, seq: 2 });
  a.ws.close();
  b.ws.close();
  await Promise.all([a.closed, b.closed]);

  server.tell('close');
  const [code] = await withTimeout(server.exited, 'the server process to exit after close()');
  assert.equal(code, 0);
});
