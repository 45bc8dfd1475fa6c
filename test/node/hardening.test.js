import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { LIMITS } from '../../lib/protocol.js';
import { ConfigError, readConfig } from '../../lib/server/config.js';
import { SignalingServer } from '../../lib/server/index.js';
import { Client, eventually, recordingLogger, setup, signalUrl, withTimeout } from './signal-client.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function get(url, path) {
  const { hostname, port } = new URL(url);
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = request({ host: hostname, port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    }),
    `GET ${path}`,
  );
}

/** Two clients joined to `room`: `a` first, then `b`. */
async function pair(t, url, options = {}) {
  const a = await Client.open(t, url);
  const b = await Client.open(t, url, options);
  const aJoined = await a.join('room', 'Ada');
  const bJoined = await b.join('room', 'Bo');
  await a.next('peer-joined');
  return { a, b, aJoined, bJoined };
}

const candidate = (i) => ({
  candidate: { candidate: `candidate:${i} 1 udp 2122260223 10.0.0.1 ${50000 + i} typ host`, sdpMid: '0' },
});

describe('heartbeat', () => {
  const HEARTBEAT_MS = 300;

  test('a peer that stops answering pings is cut off: its room hears peer-left within 2 intervals', async (t) => {
    const server = await setup(t, { heartbeatMs: HEARTBEAT_MS });
    const a = await Client.open(t, server.url);
    await a.join('room', 'Ada');
    // autoPong: false is a frozen peer: the socket stays open, nothing answers.
    const b = await Client.open(t, server.url, { autoPong: false });
    let pings = 0;
    b.ws.on('ping', () => pings++);
    const opened = performance.now();
    const { id } = await b.join('room', 'Bo');
    await a.next('peer-joined');

    const left = await a.next('peer-left', 2 * HEARTBEAT_MS + 1000);
    const elapsed = performance.now() - opened;
    assert.deepEqual(left, { type: 'peer-left', id, name: 'Bo' });
    assert.equal((await b.closedWithin()).code, 1006, 'terminated, not closed politely');
    // Cut off at the first tick after an unanswered ping: within 2 intervals of freezing, whatever
    // the scheduling delays (the timing is only reported).
    assert.equal(pings, 1);
    t.diagnostic(`peer-left ${Math.round(elapsed)} ms after connecting, heartbeat ${HEARTBEAT_MS} ms`);
    assert.equal(server.signaling.memberCount, 1);
  });

  test('a peer that answers pings stays, however quiet it is', async (t) => {
    const server = await setup(t, { heartbeatMs: HEARTBEAT_MS });
    const a = await Client.open(t, server.url);
    await a.join('room', 'Ada');
    // `ws` answers each ping by itself, as a browser does.
    for (let i = 0; i < 4; i++) await withTimeout(once(a.ws, 'ping'), `ping ${i + 1}`, 2 * HEARTBEAT_MS + 1000);
    assert.equal(a.ws.readyState, WebSocket.OPEN);
    assert.equal(server.signaling.memberCount, 1);
    await a.expectQuiet();
  });

  test('a socket that keeps sending is not pinged; once it goes silent it is, then cut off', async (t) => {
    const heartbeatMs = 600;
    const server = await setup(t, { heartbeatMs });
    const a = await Client.open(t, server.url);
    await a.join('room', 'Ada');
    // Answers no protocol ping: only its own messages show it is alive.
    const b = await Client.open(t, server.url, { autoPong: false });
    let pings = 0;
    b.ws.on('ping', () => pings++);
    const { id } = await b.join('room', 'Bo');
    await a.next('peer-joined');
    // Five intervals of an application-level ping every quarter interval.
    for (let i = 0; i < 20; i++) {
      b.send({ type: 'ping' });
      await new Promise((resolve) => setTimeout(resolve, heartbeatMs / 4));
    }
    assert.equal(pings, 0, 'pinged while it was sending');
    assert.equal(b.ws.readyState, WebSocket.OPEN);
    // Silent from here: pinged once, unanswered, cut off within two intervals of its last frame.
    const silentSince = performance.now();
    assert.deepEqual(await a.next('peer-left', 2 * heartbeatMs + 1000), { type: 'peer-left', id, name: 'Bo' });
    const silentFor = performance.now() - silentSince;
    assert.equal((await b.closedWithin()).code, 1006);
    assert.equal(pings, 1);
    t.diagnostic(`cut off ${Math.round(silentFor)} ms after its last message, heartbeat ${heartbeatMs} ms`);
  });

  test('heartbeatMs: 0 turns it off', async (t) => {
    const off = await setup(t, { heartbeatMs: 0 });
    const on = await setup(t, { heartbeatMs: 100 });
    const frozenOff = await Client.open(t, off.url, { autoPong: false });
    let pinged = false;
    frozenOff.ws.on('ping', () => (pinged = true));
    const frozenOn = await Client.open(t, on.url, { autoPong: false });
    // By the time the server with a heartbeat has cut its frozen peer off (two intervals), the
    // one without has not even pinged.
    assert.equal((await frozenOn.closedWithin()).code, 1006);
    assert.equal(pinged, false);
    assert.equal(frozenOff.ws.readyState, WebSocket.OPEN);
    await frozenOff.expectQuiet();
  });
});

describe('application-level ping', () => {
  test('{type:"ping"} → {type:"pong"}, before and after joining', async (t) => {
    const server = await setup(t);
    const a = await Client.open(t, server.url);
    a.send({ type: 'ping' });
    assert.deepEqual(await a.next(), { type: 'pong' });
    await a.join('room', 'Ada');
    a.send({ type: 'ping', received: 3 });
    assert.deepEqual(await a.next(), { type: 'pong', received: 0 });
    await a.expectQuiet();
  });

  test('a malformed ping is a protocol error, not a pong', async (t) => {
    const server = await setup(t);
    const a = await Client.open(t, server.url);
    a.send({ type: 'ping', received: 'lots' });
    await a.expectError('protocol');
    await a.expectQuiet();
  });
});

describe('rate limits', () => {
  test('a burst of 100 messages passes; a flood closes the socket with 1008 "rate limit"', async (t) => {
    const server = await setup(t); // the defaults: burst 100, then 50/s
    const { a, b, aJoined, bJoined } = await pair(t, server.url);
    // b has spent one message on its join: 99 more at once, the way ICE trickles, all arrive.
    for (let i = 0; i < 99; i++) b.send({ type: 'signal', to: aJoined.id, data: candidate(i) });
    for (let i = 0; i < 99; i++)
      assert.deepEqual(await a.next('signal'), { type: 'signal', from: bJoined.id, data: candidate(i) });
    assert.equal(b.ws.readyState, WebSocket.OPEN);

    for (let i = 0; i < 300; i++) b.send({ type: 'signal', to: aJoined.id, data: candidate(i) });
    assert.deepEqual(await b.closedWithin(), { code: 1008, reason: 'rate limit' });
    assert.equal((await a.next('peer-left')).id, bJoined.id);
    // What the bucket had refilled while a read the burst went through; not the flood.
    const relayed = a.queue.splice(0).filter((m) => m.type === 'signal').length;
    assert.ok(relayed < 20, `${relayed} of the flood relayed`);
    // Only b was limited.
    assert.equal(a.ws.readyState, WebSocket.OPEN);
    await a.expectQuiet();
  });

  test('the message rate is configurable', async (t) => {
    const server = await setup(t, { messageRate: { burst: 10, perSecond: 1 } });
    const a = await Client.open(t, server.url);
    for (let i = 0; i < 10; i++) a.send({ type: 'ping' });
    for (let i = 0; i < 10; i++) assert.equal((await a.next()).type, 'pong');
    for (let i = 0; i < 5; i++) a.send({ type: 'ping' });
    assert.deepEqual(await a.closedWithin(), { code: 1008, reason: 'rate limit' });
  });

  test('20 joins from one address pass, the 21st closes with 1008 "join rate limit", on any socket; other addresses may join', async (t) => {
    const server = await setup(t); // the defaults: burst 20, then 5/s per address
    const a = await Client.open(t, server.url);
    for (let i = 0; i < 20; i++) {
      await a.join(`room-${i}`, 'Ada');
      a.send({ type: 'leave' });
    }
    a.send({ type: 'join', room: 'room-20', name: 'Ada' });
    const refusal = await a.expectError('rate-limited');
    assert.match(refusal.message, /too many joins from your address: try again in 1 s/);
    assert.deepEqual(await a.closedWithin(), { code: 1008, reason: 'join rate limit' });
    assert.equal(server.signaling.memberCount, 0);
    // Per address, not per socket: a fresh socket from the same address gets no fresh bucket.
    const again = await Client.open(t, server.url);
    again.send({ type: 'join', room: 'room-20', name: 'Ada' });
    await again.expectError('rate-limited');
    assert.deepEqual(await again.closedWithin(), { code: 1008, reason: 'join rate limit' });
    // Another address has its own.
    const b = await Client.open(t, server.url, { localAddress: '127.0.0.2' });
    await b.join('room-20', 'Bo');
  });

  test('failed joins count too (probing full rooms)', async (t) => {
    const server = await setup(t, { joinRate: { burst: 5, perSecond: 0.1 } });
    await pair(t, server.url); // two joins from this address
    const c = await Client.open(t, server.url);
    for (let i = 0; i < 3; i++) {
      c.send({ type: 'join', room: 'room' });
      await c.expectError('room-full');
    }
    c.send({ type: 'join', room: 'room' });
    await c.expectError('rate-limited');
    assert.deepEqual(await c.closedWithin(), { code: 1008, reason: 'join rate limit' });
  });
});

describe('caps', () => {
  test(`a frame of ${LIMITS.message} bytes is read; one byte more closes the socket with 1009`, async (t) => {
    const server = await setup(t);
    const a = await Client.open(t, server.url);
    const ping = '{"type":"ping"}';
    // Whitespace around JSON is still JSON: the same ping, padded to the limit.
    a.send(' '.repeat(LIMITS.message - ping.length) + ping);
    assert.deepEqual(await a.next(), { type: 'pong' });
    a.send(' '.repeat(LIMITS.message + 1 - ping.length) + ping);
    assert.equal((await a.closedWithin()).code, 1009);
  });

  test('a reader that stopped reading is cut off once 256 KiB wait for it; its room hears peer-left', async (t) => {
    const maxBufferedBytes = 256 * 1024;
    // No heartbeat: b cannot answer pings either, and that is not what this test is about.
    const server = await setup(t, { maxBufferedBytes, heartbeatMs: 0, messageRate: { burst: 1e6, perSecond: 1e6 } });
    const { a, b, aJoined, bJoined } = await pair(t, server.url);
    // b's process still runs, but reads nothing more: the server's writes pile up.
    b.ws._socket.pause();

    const offer = { type: 'signal', to: bJoined.id, data: { description: { type: 'offer', sdp: 'x'.repeat(60_000) } } };
    const left = a.next('peer-left', 10_000);
    let gone = false;
    left.then(
      () => (gone = true),
      () => {},
    );
    // Kernel buffers take some megabytes first (about 10 here); 1000 × 60 KB is far beyond them.
    let sent = 0;
    while (!gone && sent < 1000) {
      for (let i = 0; i < 10; i++) a.send(offer);
      sent += 10;
      // Written to the kernel: a's own buffer stays small, and the server gets to run.
      await new Promise((resolve) => a.ws.send(JSON.stringify({ type: 'ping' }), resolve));
    }
    assert.deepEqual(await left, { type: 'peer-left', id: bJoined.id, name: 'Bo' });
    t.diagnostic(`cut off after ${sent} offers (${((sent * 60_000) / 1e6).toFixed(1)} MB)`);
    assert.equal(server.signaling.memberCount, 1);
    assert.equal(server.signaling.member(aJoined.id)?.room, 'room');

    b.ws._socket.resume();
    assert.equal((await b.closedWithin()).code, 1006, 'terminated, not closed politely');
    await eventually(() => server.signaling.connectionCount === 1, 'only a connected');
  });
});

describe('replay memory', () => {
  test('over the total, the seat holding most is cut (1013), its room hears peer-left, the others stay', async (t) => {
    const server = await setup(t, { replayTotalBytes: 300_000, heartbeatMs: 0 });
    const inRoom = async (room) => {
      const a = await Client.open(t, server.url);
      const b = await Client.open(t, server.url);
      await a.join(room, 'Ada');
      const bJoined = await b.join(room, 'Bo');
      await a.next('peer-joined');
      return { a, b, bJoined };
    };
    const r1 = await inRoom('r1');
    const r2 = await inRoom('r2');
    const offer = (to) => ({ type: 'signal', to, data: { description: { type: 'offer', sdp: 'x'.repeat(60_000) } } });
    // Neither b confirms what it gets (no ping): the server keeps it all for a resume.
    for (let i = 0; i < 4; i++) r1.a.send(offer(r1.bJoined.id));
    for (let i = 0; i < 4; i++) await r1.b.next('signal');
    assert.ok(server.signaling.replayBytes > 240_000);
    for (let i = 0; i < 2; i++) r2.a.send(offer(r2.bJoined.id));
    assert.deepEqual(await r1.b.closedWithin(), { code: 1013, reason: 'server busy: replay memory full' });
    assert.equal((await r1.a.next('peer-left')).id, r1.bJoined.id);
    for (let i = 0; i < 2; i++) await r2.b.next('signal');
    assert.ok(server.signaling.replayBytes <= 300_000, `${server.signaling.replayBytes} kept`);
    assert.equal(r2.b.ws.readyState, WebSocket.OPEN);
    // Confirming frees it.
    r2.b.send({ type: 'ping', received: 100 });
    await r2.b.next('pong');
    assert.ok(server.signaling.replayBytes < 1000, `${server.signaling.replayBytes} kept after the confirm`);
  });
});

describe('errors inside the server', () => {
  test('a handler that throws answers error protocol; the socket and the server keep working', async (t) => {
    let calls = 0;
    const { lines, logger } = recordingLogger();
    const server = await setup(t, {
      iceServers: () => {
        if (++calls === 1) throw new Error('TURN credentials unavailable');
        return [];
      },
      logger,
    });
    const a = await Client.open(t, server.url);
    a.send({ type: 'join', room: 'room', name: 'Ada' });
    await a.expectError('protocol');
    assert.equal(a.ws.readyState, WebSocket.OPEN);
    assert.deepEqual(
      lines.filter((line) => line.level === 'error').map(({ msg, error, address }) => ({ msg, error, address })),
      [{ msg: 'a message could not be handled', error: 'TURN credentials unavailable', address: '127.0.0.1' }],
    );
    a.send({ type: 'leave' });
    const b = await Client.open(t, server.url);
    assert.deepEqual((await b.join('other', 'Bo')).peers, []);
    await a.expectQuiet();
  });
});

describe('config', () => {
  test('a bad rate limit fails when the server is made, not at the first connection', () => {
    assert.throws(() => new SignalingServer({ messageRate: { burst: 0, perSecond: 50 } }), /messageRate/);
    assert.throws(() => new SignalingServer({ joinRate: { burst: 5, perSecond: 0 } }), /joinRate/);
    assert.throws(() => new SignalingServer({ joinRate: { burst: NaN, perSecond: 1 } }), RangeError);
  });

  test('HEARTBEAT_MS / --heartbeat-ms: unset leaves the default to the server; 0 is off', () => {
    assert.equal(readConfig([], {}).heartbeatMs, undefined);
    assert.equal(readConfig([], { HEARTBEAT_MS: '2500' }).heartbeatMs, 2500);
    assert.equal(readConfig(['--heartbeat-ms', '1000'], { HEARTBEAT_MS: '2500' }).heartbeatMs, 1000);
    assert.equal(readConfig(['--heartbeat-ms=0'], {}).heartbeatMs, 0);
    assert.equal(readConfig([], { HEARTBEAT_MS: '' }).heartbeatMs, undefined);
    for (const HEARTBEAT_MS of ['-1', '50', 'often', '1.5', '3600001']) {
      assert.throws(() => readConfig([], { HEARTBEAT_MS }), ConfigError, `HEARTBEAT_MS=${HEARTBEAT_MS}`);
    }
  });
});

describe('CLI', () => {
  function cli(t, args) {
    const ours = ['PORT', 'HOST', 'ROOM_CAPACITY', 'HEARTBEAT_MS'];
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !ours.includes(name)));
    const child = spawn(process.execPath, ['bin/rtc-call-server.js', ...args], { cwd: ROOT, env });
    const exited = once(child, 'close');
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const lines = createInterface({ input: child.stdout });
    return { child, exited, lines };
  }

  /** Starts the CLI on a free port; resolves with its URL once it listens. */
  async function serve(t, args = []) {
    const server = cli(t, ['--port', '0', ...args]);
    const [line] = await withTimeout(once(server.lines, 'line'), 'the first line of output');
    const match = /http:\/\/127\.0\.0\.1:\d+\//.exec(line);
    assert.ok(match, `first line: ${line}`);
    return { ...server, url: match[0] };
  }

  test('--heartbeat-ms reaches the server', async (t) => {
    const { url } = await serve(t, ['--heartbeat-ms', '200']);
    const frozen = await Client.open(t, url, { autoPong: false });
    // With the default (5 s) the first ping would not even have been sent by then.
    assert.equal((await frozen.closedWithin(3000)).code, 1006);
  });

  test('SIGTERM: sockets close with 1012, /healthz says 503 and upgrades are refused meanwhile, exit 0', async (t) => {
    const { child, exited, url } = await serve(t);
    const a = await Client.open(t, url);
    await a.join('room', 'Ada');
    // A client that does not read holds the shutdown open: the window we look through.
    const slow = await Client.open(t, url);
    await slow.join('room', 'Bo');
    slow.ws._socket.pause();

    child.kill('SIGTERM');
    assert.equal((await a.closedWithin()).code, 1012);
    assert.equal(child.exitCode, null, 'still closing');
    const health = await get(url, '/healthz');
    assert.equal(health.status, 503);
    const late = new WebSocket(signalUrl(url));
    t.after(() => late.terminate());
    late.on('error', () => {});
    const [, response] = await withTimeout(once(late, 'unexpected-response'), 'the late upgrade refused');
    assert.equal(response.statusCode, 503);

    slow.ws._socket.resume();
    assert.equal((await slow.closedWithin()).code, 1012);
    const [code, signal] = await withTimeout(exited, 'exit after SIGTERM');
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
  });

  test('a second signal exits at once, without waiting for the sockets', async (t) => {
    const { child, exited, lines, url } = await serve(t);
    const slow = await Client.open(t, url);
    slow.ws._socket.pause();
    child.kill('SIGINT');
    const [line] = await withTimeout(once(lines, 'line'), 'the closing line');
    assert.match(line, /"signal":"SIGINT".*"msg":"stopping"/);
    child.kill('SIGTERM');
    const [code, signal] = await withTimeout(exited, 'exit after the second signal', 2000);
    // 128 + SIGTERM's number: it chose to exit, it was not killed by the signal.
    assert.deepEqual({ code, signal }, { code: 143, signal: null });
  });
});
