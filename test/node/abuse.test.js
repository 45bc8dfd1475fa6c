/**
 * The server as an attacker meets it: the bin as a child process with its default limits, raw `ws`
 * clients from one address (127.0.0.1) probing rooms, opening sockets that never join, and holding
 * replay memory with a heap capped at 96 MiB; people on another address (127.0.0.2) must still get
 * a call through. Each measured figure is printed as `figure: …`.
 *
 * Needs `npm run build` first. Run: node --test --test-concurrency=1 test/node/abuse.test.js
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { startRtcServer } from './browser-harness.js';
import { Client, withTimeout } from './signal-client.js';

/** A socket that never reads a thing back: what it is sent piles up on the server, as an attacker's would. */
function rawSocket(url, localAddress = '127.0.0.1') {
  const ws = new WebSocket(url, { localAddress, perMessageDeflate: false });
  ws.on('error', () => {});
  ws.closedWith = new Promise((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  return ws;
}

/** The server's peak resident memory so far (VmHWM), in MiB. */
function peakRssMiB(pid) {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match[1]) / 1024;
}

/** Two people on another address: both join, and an offer goes from one to the other. */
async function callFromElsewhere(t, server, room) {
  const a = await Client.open(t, server.url, { localAddress: '127.0.0.2' });
  const b = await Client.open(t, server.url, { localAddress: '127.0.0.2' });
  const aJoined = await a.join(room, 'Ada');
  const bJoined = await b.join(room, 'Bo');
  assert.deepEqual(bJoined.peers, [{ id: aJoined.id, name: 'Ada' }]);
  const offer = { description: { type: 'offer', sdp: 'v=0\r\n' } };
  b.send({ type: 'signal', to: aJoined.id, data: offer });
  assert.deepEqual(await a.next('signal'), { type: 'signal', from: bJoined.id, data: offer });
  a.ws.close();
  b.ws.close();
}

test(
  'probing rooms from one address: about 20 joins at once, then 5 a second, over as many sockets as it likes',
  { timeout: 60_000 },
  async (t) => {
    const server = await startRtcServer();
    t.after(() => server.stop().catch(() => {}));
    // Someone waits in a room with a demo-style name.
    const waiting = await Client.open(t, server.url, { localAddress: '127.0.0.2' });
    await waiting.join('brave-otter-42', 'Ada');

    // 40 sockets at a time, each joining a guessed room and reconnecting as soon as it is refused.
    const SECONDS = 3;
    const tally = { accepted: 0, limited: 0, found: 0, closes: new Map() };
    const until = performance.now() + SECONDS * 1000;
    let guess = 0;
    const prober = async () => {
      while (performance.now() < until) {
        const ws = rawSocket(server.signalUrl);
        try {
          await withTimeout(once(ws, 'open'), 'probe open');
        } catch {
          ws.terminate();
          continue;
        }
        ws.on('message', (data) => {
          const message = JSON.parse(data.toString());
          if (message.type === 'joined') {
            tally.accepted++;
            if (message.peers.length) tally.found++;
            ws.send('{"type":"leave"}');
          } else if (message.type === 'error' && message.code === 'room-full') tally.accepted++;
          else if (message.type === 'error' && message.code === 'rate-limited') tally.limited++;
        });
        // Five guesses a socket, as fast as the server answers.
        for (let i = 0; i < 5 && ws.readyState === WebSocket.OPEN; i++) {
          ws.send(JSON.stringify({ type: 'join', room: `brave-otter-${guess++ % 100}` }));
          await sleep(1);
        }
        const { code, reason } = await ws.closedWith.then(
          (closed) => closed,
          () => ({}),
        );
        tally.closes.set(`${code} ${reason}`, (tally.closes.get(`${code} ${reason}`) ?? 0) + 1);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: 40 }, prober));
    const seconds = (performance.now() - started) / 1000;
    const perSecond = tally.accepted / seconds;
    console.log(
      `figure: joins accepted from one probing address: ${tally.accepted} in ${seconds.toFixed(1)} s (${perSecond.toFixed(1)}/s); ${tally.limited} refused`,
    );
    // The bucket: 20 at once, then 5 a second (and a second of slack for the clock).
    assert.ok(tally.accepted <= 20 + 5 * (seconds + 1), `${tally.accepted} joins accepted in ${seconds.toFixed(1)} s`);
    assert.ok(tally.limited > 100, `${tally.limited} refused`);
    assert.ok(tally.closes.get('1008 join rate limit') > 50, JSON.stringify([...tally.closes]));
    // The server says so, by address, without a flood of lines.
    const limitLines = server
      .output()
      .split('\n')
      .filter((line) => line.includes('"limit":"joinRate"'));
    assert.ok(limitLines.length >= 1 && limitLines.length <= 2, limitLines.join('\n'));
    assert.match(limitLines[0], /"level":"warn".*"address":"127\.0\.0\.1"/);
    // People elsewhere are not held back.
    await callFromElsewhere(t, server, 'after-the-probe');
    waiting.ws.close();
  },
);

test(
  '500 sockets that never join: 100 stay from one address, the rest are refused, and all are gone within 15 s',
  { timeout: 60_000 },
  async (t) => {
    const server = await startRtcServer();
    t.after(() => server.stop().catch(() => {}));
    const opened = performance.now();
    const sockets = Array.from({ length: 500 }, () => rawSocket(server.signalUrl));
    t.after(() => sockets.forEach((ws) => ws.terminate()));
    const closes = await Promise.all(
      sockets.map((ws) => withTimeout(ws.closedWith, 'a never-joining socket closed', 20_000)),
    );
    const after = (performance.now() - opened) / 1000;
    const count = (code, reason) => closes.filter((c) => c.code === code && c.reason === reason).length;
    assert.equal(count(1013, 'too many connections from your address'), 400);
    assert.equal(count(1008, 'no join in time'), 100);
    const open = sockets.filter((ws) => ws.readyState !== WebSocket.CLOSED).length;
    console.log(`figure: never-joining sockets open after ${after.toFixed(1)} s: ${open} of 500`);
    assert.equal(open, 0);
    assert.ok(after < 15, `the last closed after ${after.toFixed(1)} s`);
    await callFromElsewhere(t, server, 'after-the-idlers');
  },
);

test(
  '500 hostile sockets from one address with a 96 MiB heap: replay memory stays bounded and a call still goes through',
  { timeout: 90_000 },
  async (t) => {
    const server = await startRtcServer({ nodeArgs: ['--max-old-space-size=96'] });
    t.after(() => server.stop().catch(() => {}));
    const baseline = peakRssMiB(server.child.pid);
    // Each pair of sockets joins a room; one side sends the biggest offers it may, as fast as it
    // may, the other never reads and never confirms (and keeps the socket open).
    const sdp = 'x'.repeat(60_000);
    const sockets = [];
    t.after(() => sockets.forEach((ws) => ws.terminate()));
    const closes = new Map();
    const hostile = async (index) => {
      const ws = rawSocket(server.signalUrl);
      sockets.push(ws);
      ws.closedWith.then(({ code, reason }) =>
        closes.set(`${code} ${reason}`, (closes.get(`${code} ${reason}`) ?? 0) + 1),
      );
      try {
        await withTimeout(once(ws, 'open'), 'hostile open');
      } catch {
        return;
      }
      if (ws.readyState !== WebSocket.OPEN) return;
      const first = new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()))));
      ws.send(JSON.stringify({ type: 'join', room: `hostile-${index >> 1}` }));
      const joined = await withTimeout(first, 'hostile join', 5000).catch(() => undefined);
      if (joined?.type !== 'joined') return;
      if (index % 2 === 0) {
        // The reader that never reads.
        ws._socket.pause();
        return;
      }
      const to = joined.peers[0]?.id;
      if (!to) return;
      const offer = JSON.stringify({ type: 'signal', to, data: { description: { type: 'offer', sdp } } });
      // Just under 50 a second, the message limit: the server must hold what it cannot deliver.
      while (ws.readyState === WebSocket.OPEN) {
        ws.send(offer);
        await sleep(25);
      }
    };
    const peak = { rss: baseline };
    const sampler = setInterval(() => (peak.rss = peakRssMiB(server.child.pid)), 250);
    t.after(() => clearInterval(sampler));
    // The joins come in as fast as the limits let them: keep at it for 20 s.
    const attacks = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 100; i++) attacks.push(hostile(round * 100 + i));
      await sleep(4000);
    }
    // The first readers that never confirmed are cut once the confirm timeout (20 s) has passed.
    const deadline = performance.now() + 15_000;
    while (
      ![...closes.keys()].some((key) => key.startsWith('1008 replay not confirmed')) &&
      performance.now() < deadline
    )
      await sleep(250);
    assert.equal(server.child.exitCode, null, `the server died:\n${server.output().slice(-2000)}`);
    // In the middle of it, people elsewhere still get their call.
    await callFromElsewhere(t, server, 'during-the-attack');
    clearInterval(sampler);
    peak.rss = peakRssMiB(server.child.pid);
    console.log(
      `figure: peak server RSS under 500 hostile sockets: ${peak.rss.toFixed(0)} MiB (${baseline.toFixed(0)} MiB at start); closes ${JSON.stringify([...closes])}`,
    );
    assert.ok(peak.rss < 200, `peak RSS ${peak.rss.toFixed(0)} MiB`);
    // The limits that did it said so.
    const said = [...closes.keys()].join(', ');
    assert.match(said, /1013 too many connections from your address/);
    assert.match(said, /1008 replay not confirmed in time/);
    sockets.forEach((ws) => ws.terminate());
    await Promise.allSettled(attacks);
  },
);
