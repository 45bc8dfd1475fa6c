/**
 * Scale-out over Redis, with real processes only: a redis-server started here on a free port, two
 * servers (the bin, as child processes) sharing it, raw WebSocket clients and real browsers. Each
 * measured figure is printed as `figure: <what>: <n> ms`.
 *
 * Needs `npm run build` first, and redis-server (`apt-get install -y redis-server`).
 * Run: node --test --test-concurrency=1 test/node/redis.test.js
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readConfig } from '../../lib/server/config.js';
import { HANDOFF_MS } from '../../lib/server/signaling-server.js';
import {
  ROOT,
  expectMediaFlowing,
  launchBrowsers,
  launchChromium,
  startPageServer,
  startRtcServer,
  uniqueRoom,
} from './browser-harness.js';
import { SKIP, freePort, startRedis } from './redis-server.js';
import { Client, TIMEOUT, withTimeout } from './signal-client.js';

/** Short, so a dead server is noticed quickly; the default is 10 s. */
const TTL_MS = 2000;

function figure(label, ms) {
  console.log(`figure: ${label}: ${Math.round(ms)} ms`);
}

/** One of the servers sharing `redis`, as the bin; stopped (SIGTERM) when the test ends. */
async function startInstance(t, redis, env = {}) {
  const server = await startRtcServer({
    env: { REDIS_URL: redis.url, REDIS_PRESENCE_TTL_MS: String(TTL_MS), RESUME_GRACE_MS: '0', ...env },
  });
  t.after(() => server.stop().catch(() => {}));
  return server;
}

async function open(t, server) {
  return Client.open(t, server.url);
}

/** Joins `room` on `server`: the first message back, whatever it is. */
async function tryJoin(t, server, room, name) {
  const client = await open(t, server);
  client.send({ type: 'join', room, name });
  return { client, reply: await client.next() };
}

describe('rooms shared through Redis', { skip: SKIP }, () => {
  test('a browser on each of two servers, same room: both connected, both remote videos play', async (t) => {
    const redis = await startRedis(t);
    const [one, two] = await Promise.all([startInstance(t, redis), startInstance(t, redis)]);
    assert.notEqual(one.origin, two.origin);
    // Each page loads the bundle from its own server, so each element signals to that server.
    const pagesOne = await startPageServer({ bundleUrl: one.bundleUrl });
    t.after(() => pagesOne.close());
    const pagesTwo = await startPageServer({ bundleUrl: two.bundleUrl });
    t.after(() => pagesTwo.close());

    const room = uniqueRoom('redis');
    const [ada, bob] = await launchBrowsers(t, [
      () => launchChromium({ label: 'A (Ada, server one)' }),
      () => launchChromium({ label: 'B (Bob, server two)' }),
    ]);
    const a = await ada.open(pagesOne.pageUrl({ room, name: 'Ada' }));
    const b = await bob.open(pagesTwo.pageUrl({ room, name: 'Bob' }));
    await Promise.all([a.armFrames(), b.armFrames()]);
    await a.call();
    await a.waitForState('waiting');
    await b.call();
    assert.equal((await a.nextEvent('rtc-call-peer-joined')).detail.name, 'Bob');
    assert.equal((await b.nextEvent('rtc-call-peer-joined')).detail.name, 'Ada');
    const counts = await expectMediaFlowing([a, b], { frames: 10 });
    assert.ok(counts.every((frames) => frames.count >= 10));
    assert.equal(pagesOne.upgrades + pagesTwo.upgrades, 0, 'an element signaled to its page origin');

    // The room is the same one on both servers: a raw client on either finds it full.
    for (const server of [one, two]) {
      const { reply } = await tryJoin(t, server, room, 'Carol');
      assert.equal(reply.type, 'error');
      assert.equal(reply.code, 'room-full');
    }

    await b.hangup();
    assert.equal((await a.nextEvent('rtc-call-peer-left')).detail.name, 'Bob');
    await a.waitForState('waiting');
  });

  test('capacity holds across servers: a third peer on either gets room-full; two racing for the last seat, one wins', async (t) => {
    const redis = await startRedis(t);
    const [one, two] = await Promise.all([startInstance(t, redis), startInstance(t, redis)]);

    const room = uniqueRoom('full');
    const ada = await open(t, one);
    await ada.join(room, 'Ada');
    const bob = await open(t, two);
    const bobJoined = await bob.join(room, 'Bob');
    assert.deepEqual(
      bobJoined.peers.map((peer) => peer.name),
      ['Ada'],
    );
    assert.equal((await ada.next('peer-joined')).name, 'Bob');
    for (const server of [one, two]) {
      const { reply } = await tryJoin(t, server, room, 'Carol');
      assert.equal(reply.type, 'error', JSON.stringify(reply));
      assert.equal(reply.code, 'room-full');
    }
    // Nobody in the room heard of the refused peers.
    await ada.expectQuiet();
    await bob.expectQuiet();

    // One seat left, two joins at once on two servers: exactly one gets it, every time.
    const RUNS = 8;
    for (let run = 1; run <= RUNS; run += 1) {
      const race = uniqueRoom(`race-${run}`);
      const first = await open(t, run % 2 ? one : two);
      await first.join(race, 'First');
      const [left, right] = await Promise.all([open(t, one), open(t, two)]);
      left.send({ type: 'join', room: race, name: 'Left' });
      right.send({ type: 'join', room: race, name: 'Right' });
      const replies = await Promise.all([left.next(), right.next()]);
      const won = replies.filter((reply) => reply.type === 'joined');
      const lost = replies.filter((reply) => reply.type === 'error' && reply.code === 'room-full');
      assert.equal(won.length, 1, `run ${run}: ${JSON.stringify(replies)}`);
      assert.equal(lost.length, 1, `run ${run}: ${JSON.stringify(replies)}`);
      const joined = await first.next('peer-joined');
      assert.equal(joined.id, won[0].id);
      await first.expectQuiet();
      for (const client of [first, left, right]) client.ws.close();
    }
  });

  test('a signal crosses servers with from stamped, never into another room; a resumed seat gets what it missed', async (t) => {
    const redis = await startRedis(t);
    const [one, two] = await Promise.all([
      startInstance(t, redis, { RESUME_GRACE_MS: '20000' }),
      startInstance(t, redis, { RESUME_GRACE_MS: '20000' }),
    ]);
    const room = uniqueRoom('relay');
    const other = uniqueRoom('other');
    const ada = await open(t, one);
    const adaJoined = await ada.join(room, 'Ada');
    const bob = await open(t, two);
    const bobJoined = await bob.join(room, 'Bob');
    await ada.next('peer-joined');
    const carol = await open(t, two);
    const carolJoined = await carol.join(other, 'Carol');
    const dan = await open(t, one);
    const danJoined = await dan.join(other, 'Dan');
    await carol.next('peer-joined');

    const offer = { description: { type: 'offer', sdp: 'v=0 cross-server' } };
    // A `from` of the sender's own is refused; the server stamps it.
    ada.send({ type: 'signal', to: bobJoined.id, from: danJoined.id, data: offer });
    await ada.expectError('protocol');
    ada.send({ type: 'signal', to: bobJoined.id, data: offer });
    assert.deepEqual(await bob.next('signal'), { type: 'signal', from: adaJoined.id, data: offer });
    bob.send({ type: 'signal', to: adaJoined.id, data: { candidate: null } });
    assert.deepEqual(await ada.next('signal'), { type: 'signal', from: bobJoined.id, data: { candidate: null } });

    // Into another room: on the other server (Carol) and on the sender's own (Dan). Dropped.
    ada.send({ type: 'signal', to: carolJoined.id, data: offer });
    ada.send({ type: 'signal', to: danJoined.id, data: offer });
    bob.send({ type: 'signal', to: danJoined.id, data: offer });
    await ada.expectQuiet();
    await bob.expectQuiet();
    await carol.expectQuiet();
    await dan.expectQuiet();
    // Numbered into the receiving seat's own count: Bob got one signal, Ada a peer-joined and one.
    assert.deepEqual(bob.seqs, [1]);
    assert.deepEqual(ada.seqs, [1, 2]);

    // Bob's connection drops; what Ada sends meanwhile waits in his seat on server two.
    bob.ws.terminate();
    await bob.closed;
    const answer = { description: { type: 'answer', sdp: 'v=0 while away' } };
    ada.send({ type: 'signal', to: bobJoined.id, data: answer });
    await ada.expectQuiet();
    const back = await open(t, two);
    back.send({ type: 'join', room, resume: { id: bobJoined.id, secret: bobJoined.secret, received: 1 } });
    const resumed = await back.next();
    assert.equal(resumed.type, 'resumed');
    assert.equal(resumed.id, bobJoined.id);
    assert.deepEqual(await back.next('signal'), { type: 'signal', from: adaJoined.id, data: answer });
    assert.deepEqual(back.seqs, [2]);
    await ada.expectQuiet();
  });

  test('a client back on another server takes the place of its old seat with its secret (its peer carries on); a wrong secret does not', async (t) => {
    const redis = await startRedis(t);
    const [one, two] = await Promise.all([
      startInstance(t, redis, { RESUME_GRACE_MS: '20000' }),
      startInstance(t, redis, { RESUME_GRACE_MS: '20000' }),
    ]);
    const room = uniqueRoom('moved');
    const ada = await open(t, one);
    const adaJoined = await ada.join(room, 'Ada');
    const bob = await open(t, two);
    const bobJoined = await bob.join(room, 'Bob');
    await ada.next('peer-joined');
    ada.ws.terminate();
    await ada.closed;

    // Her seat is held on server one (resume grace): an impostor naming it is a newcomer, and finds the room full.
    const impostor = await open(t, two);
    impostor.send({
      type: 'join',
      room,
      name: 'Eve',
      resume: { id: adaJoined.id, secret: 'x'.repeat(22), received: 0 },
    });
    await impostor.expectError('room-full');

    const back = await open(t, two);
    back.send({ type: 'join', room, name: 'Ada', resume: { id: adaJoined.id, secret: adaJoined.secret, received: 0 } });
    const joined = await back.next();
    assert.equal(joined.type, 'joined', JSON.stringify(joined));
    assert.notEqual(joined.id, adaJoined.id);
    assert.deepEqual(joined.peers, [{ id: bobJoined.id, name: 'Bob' }]);
    // No peer-left for the old seat: Bob hears the same client, back under a new id.
    assert.deepEqual(await bob.next(), {
      type: 'peer-joined',
      id: joined.id,
      name: 'Ada',
      polite: true,
      previous: adaJoined.id,
    });
    await bob.expectQuiet();
    // The old seat is gone for good: resuming it on server one does not bring it back.
    const stale = await open(t, one);
    stale.send({ type: 'join', room, resume: { id: adaJoined.id, secret: adaJoined.secret, received: 0 } });
    await stale.expectError('room-full');
  });

  test('an instance killed with SIGKILL: its seats go within the TTL, the other side hears peer-left, a newcomer gets in', async (t) => {
    const redis = await startRedis(t);
    const [one, two] = await Promise.all([startInstance(t, redis), startInstance(t, redis)]);
    const room = uniqueRoom('kill');
    const ada = await open(t, one);
    const adaJoined = await ada.join(room, 'Ada');
    const bob = await open(t, two);
    await bob.join(room, 'Bob');
    await ada.next('peer-joined');
    const early = await open(t, two);
    early.send({ type: 'join', room, name: 'Early' });
    await early.expectError('room-full');

    const killedAt = Date.now();
    one.child.kill('SIGKILL');
    const left = await bob.next('peer-left', TTL_MS * 3);
    const elapsed = Date.now() - killedAt;
    assert.deepEqual(left, { type: 'peer-left', id: adaJoined.id, name: 'Ada' });
    figure(`peer-left after SIGKILL (presence TTL ${TTL_MS} ms)`, elapsed);
    // The key expires at most one TTL after the last refresh; a sweep runs every quarter TTL.
    assert.ok(elapsed <= TTL_MS * 1.25 + 500, `peer-left came ${elapsed} ms after the kill`);

    const carol = await open(t, two);
    const carolJoined = await carol.join(room, 'Carol');
    assert.deepEqual(
      carolJoined.peers.map((peer) => peer.name),
      ['Bob'],
    );
    assert.equal((await bob.next('peer-joined')).name, 'Carol');
    await bob.expectQuiet();
  });

  test('a server stopped with SIGTERM hands its seats over: a client that re-joins on another server keeps its call, no peer-left', async (t) => {
    const redis = await startRedis(t);
    // Seats held for a resume, as by default.
    const held = { RESUME_GRACE_MS: '20000' };
    const [one, two] = await Promise.all([startInstance(t, redis, held), startInstance(t, redis, held)]);
    const room = uniqueRoom('handoff');
    const ada = await open(t, one);
    const adaJoined = await ada.join(room, 'Ada');
    const bob = await open(t, two);
    const bobJoined = await bob.join(room, 'Bob');
    await ada.next('peer-joined');

    const exit = one.stop();
    assert.equal((await ada.closedWithin()).code, 1012);
    // As the element does on 1012: back at once, through the load balancer, to the other server.
    const back = await open(t, two);
    back.send({ type: 'join', room, name: 'Ada', resume: { id: adaJoined.id, secret: adaJoined.secret, received: 0 } });
    const joined = await back.next();
    assert.equal(joined.type, 'joined', JSON.stringify(joined));
    assert.deepEqual(joined.peers, [{ id: bobJoined.id, name: 'Bob' }]);
    assert.deepEqual(await bob.next(), {
      type: 'peer-joined',
      id: joined.id,
      name: 'Ada',
      polite: true,
      previous: adaJoined.id,
    });
    assert.deepEqual(await exit, { code: 0, signal: null }, one.output());
    await bob.expectQuiet();
  });

  test('a server stopped with SIGTERM removes the members whose clients do not come back within the handoff: the other side hears peer-left, Redis holds nothing of it', async (t) => {
    const redis = await startRedis(t);
    // Seats held for a resume, as by default.
    const held = { RESUME_GRACE_MS: '20000' };
    const [one, two] = await Promise.all([startInstance(t, redis, held), startInstance(t, redis, held)]);
    const room = uniqueRoom('term');
    const ada = await open(t, one);
    const adaJoined = await ada.join(room, 'Ada');
    const bob = await open(t, two);
    await bob.join(room, 'Bob');
    await ada.next('peer-joined');

    const stoppedAt = Date.now();
    const exit = one.stop();
    assert.deepEqual(await bob.next('peer-left', HANDOFF_MS + 1000), {
      type: 'peer-left',
      id: adaJoined.id,
      name: 'Ada',
    });
    figure('peer-left after SIGTERM (no client back)', Date.now() - stoppedAt);
    assert.ok(Date.now() - stoppedAt >= HANDOFF_MS - 100, 'the seat waited for its client');
    assert.deepEqual(await exit, { code: 0, signal: null }, one.output());
    assert.equal((await ada.closedWithin()).code, 1012);

    const keys = await redisCli(redis, 'KEYS', '*');
    // Bob's room and server two's presence, nothing of server one.
    assert.equal(keys.filter((key) => key.startsWith('rtc-call:room:')).length, 1, keys.join('\n'));
    assert.equal((await redisCli(redis, 'SMEMBERS', 'rtc-call:servers')).length, 1);
    await two.stop();
    assert.deepEqual(await redisCli(redis, 'KEYS', '*'), []);
  });

  test('Redis lost at runtime: the server stays up and answers with an error; Redis back, joins work again and seats it lost are given up', async (t) => {
    const port = await freePort();
    const redis = await startRedis(t, port);
    const one = await startInstance(t, redis);
    const ada = await open(t, one);
    await ada.join(uniqueRoom('outage'), 'Ada');

    await redis.stop();
    const bob = await open(t, one);
    bob.send({ type: 'join', room: uniqueRoom('outage'), name: 'Bob' });
    await bob.expectError('protocol');
    assert.equal((await fetch(new URL('healthz', one.url))).status, 200);
    assert.equal(one.child.exitCode, null);
    assert.match(one.output(), /Redis unreachable/);

    // A new, empty Redis on the same port: Ada's seat is not in it, so she is told to reconnect.
    await startRedis(t, port);
    assert.equal((await ada.closedWithin(TTL_MS * 3)).code, 1012);
    const room = uniqueRoom('after');
    let joined;
    const deadline = Date.now() + TTL_MS * 3;
    while (!joined) {
      const { client, reply } = await tryJoin(t, one, room, 'Carol');
      if (reply.type === 'joined') joined = reply;
      else if (Date.now() > deadline) assert.fail(`no join after Redis came back: ${JSON.stringify(reply)}`);
      else client.ws.close();
      await sleep(100);
    }
    assert.deepEqual(joined.peers, []);
    assert.match(one.output(), /Redis reachable again/);
  });
});

describe('Redis configuration', () => {
  test('REDIS_URL and --redis-url through the strict parser; the TTL needs a URL and a sane value', () => {
    assert.equal(readConfig([], {}).redis, undefined);
    assert.deepEqual(readConfig([], { REDIS_URL: 'redis://cache:6379' }).redis, {
      url: 'redis://cache:6379',
      presenceTtlMs: 10000,
    });
    assert.deepEqual(
      readConfig(['--redis-url', 'rediss://u:p@cache:6380/2', '--redis-presence-ttl-ms', '3000'], {
        REDIS_URL: 'redis://other',
      }).redis,
      { url: 'rediss://u:p@cache:6380/2', presenceTtlMs: 3000 },
    );
    assert.throws(() => readConfig(['--redis-url', 'http://cache'], {}), /REDIS_URL/);
    assert.throws(() => readConfig([], { REDIS_PRESENCE_TTL_MS: '5000' }), /needs REDIS_URL/);
    assert.throws(() => readConfig([], { REDIS_URL: 'redis://c', REDIS_PRESENCE_TTL_MS: '10' }), /1000/);
    assert.throws(() => readConfig(['--redis'], {}), /redis/);
  });

  test('an unreachable Redis at start: the bin exits 1 saying so, without the password', { skip: SKIP }, async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [`${ROOT}bin/rtc-call-server.js`, '--port', '0'], {
      env: { ...process.env, REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const [code] = await withTimeout(once(child, 'close'), 'the bin to exit', TIMEOUT * 2);
    assert.equal(code, 1, output);
    assert.match(output, /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1/);
    assert.ok(!output.includes('hunter2'), output);
  });
});

/** `redis-cli` output lines, for looking at what the servers left in Redis. */
async function redisCli(redis, ...args) {
  const child = spawn('redis-cli', ['-p', String(redis.port), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  await once(child, 'close');
  return output.split('\n').filter(Boolean);
}
