import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, readConfig } from '../../lib/server/config.js';
import { Client, setup } from './signal-client.js';

const offer = (n) => ({ description: { type: 'offer', sdp: `v=0\r\no=- ${n} 1 IN IP4 0.0.0.0\r\n` } });

/** Two members of `room`, each with its join reply. */
async function pair(t, server, room = 'r') {
  const a = await Client.open(t, server);
  const b = await Client.open(t, server);
  const aJoined = await a.join(room, 'Ada');
  const bJoined = await b.join(room, 'Bo');
  await a.next('peer-joined');
  return { a, b, aJoined, bJoined };
}

/** Joins again on a new socket, asking for the seat `joined` gave. */
async function resume(t, server, joined, received, room = 'r', name = 'Bo') {
  const client = await Client.open(t, server);
  client.send({ type: 'join', room, name, resume: { id: joined.id, secret: joined.secret, received } });
  return { client, reply: await client.next() };
}

describe('resume', () => {
  test('a dropped member resumes its seat: same id, the room hears nothing, it gets what it missed once and in order', async (t) => {
    const server = await setup(t, { resumeGraceMs: 5000 });
    const { a, b, aJoined, bJoined } = await pair(t, server);
    a.send({ type: 'signal', to: bJoined.id, data: offer(1) });
    await b.next('signal');
    const seenBeforeDrop = b.seqs.at(-1);

    b.ws.terminate();
    await b.closed;
    // Sent while B is away: kept for it.
    a.send({ type: 'signal', to: bJoined.id, data: offer(2) });
    a.send({ type: 'signal', to: bJoined.id, data: offer(3) });
    await a.expectQuiet();

    const { client, reply } = await resume(t, server, bJoined, seenBeforeDrop);
    assert.deepEqual(reply, { type: 'resumed', id: bJoined.id, received: 0, iceServers: [] });
    assert.deepEqual((await client.next('signal')).data, offer(2));
    assert.deepEqual((await client.next('signal')).data, offer(3));
    await client.expectQuiet();
    assert.deepEqual(client.seqs, [seenBeforeDrop + 1, seenBeforeDrop + 2]);
    // A never heard B leave, and B relays on its old id.
    await a.expectQuiet();
    client.send({ type: 'signal', to: aJoined.id, data: offer(4), seq: 1 });
    assert.deepEqual(await a.next('signal'), { type: 'signal', from: bJoined.id, data: offer(4) });
  });

  test('a re-sent signal (same seq) is relayed once; pong confirms what the server has', async (t) => {
    const server = await setup(t, { resumeGraceMs: 5000 });
    const { a, b, aJoined } = await pair(t, server);
    b.send({ type: 'signal', to: aJoined.id, data: offer(1), seq: 1 });
    b.send({ type: 'signal', to: aJoined.id, data: offer(1), seq: 1 });
    b.send({ type: 'signal', to: aJoined.id, data: offer(2), seq: 2 });
    assert.deepEqual((await a.next('signal')).data, offer(1));
    assert.deepEqual((await a.next('signal')).data, offer(2));
    await a.expectQuiet();
    b.send({ type: 'ping', received: 0 });
    assert.deepEqual(await b.next('pong'), { type: 'pong', received: 2 });
  });

  test('the seat is held through the grace window, so a newcomer finds the room full', async (t) => {
    const server = await setup(t, { resumeGraceMs: 5000 });
    const { b, bJoined } = await pair(t, server);
    b.ws.terminate();
    await b.closed;
    const c = await Client.open(t, server);
    c.send({ type: 'join', room: 'r', name: 'Cy' });
    await c.expectError('room-full');
    const { reply } = await resume(t, server, bJoined, 0);
    assert.equal(reply.type, 'resumed');
    assert.equal(server.signaling.memberCount, 2);
  });

  test('a wrong secret does not take the seat: that join is a newcomer, without a previous id', async (t) => {
    const server = await setup(t, { resumeGraceMs: 5000, capacity: 3 });
    const { a, bJoined } = await pair(t, server);
    const forged = { ...bJoined, secret: bJoined.secret.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) };
    const { reply } = await resume(t, server, forged, 0, 'r', 'Mallory');
    assert.equal(reply.type, 'joined');
    assert.notEqual(reply.id, bJoined.id);
    const joined = await a.next('peer-joined');
    assert.equal(joined.previous, undefined);
    assert.equal(server.signaling.member(bJoined.id)?.name, 'Bo');
  });

  test('after the grace window the room hears peer-left; a late resume joins afresh naming its previous id', async (t) => {
    const server = await setup(t, { resumeGraceMs: 200 });
    const { a, b, bJoined } = await pair(t, server);
    b.ws.terminate();
    assert.deepEqual(await a.next('peer-left'), { type: 'peer-left', id: bJoined.id, name: 'Bo' });
    const { reply } = await resume(t, server, bJoined, 0);
    assert.equal(reply.type, 'joined');
    assert.notEqual(reply.id, bJoined.id);
    assert.deepEqual(await a.next('peer-joined'), {
      type: 'peer-joined',
      id: reply.id,
      name: 'Bo',
      polite: true,
      previous: bJoined.id,
    });
  });

  test('a server that lost its state takes both back into their room, and the room is full again', async (t) => {
    const first = await setup(t);
    const { aJoined, bJoined } = await pair(t, first);
    // A new server knows neither seat, as after a restart.
    const second = await setup(t);
    const { client: a2, reply: aReply } = await resume(t, second, aJoined, 3, 'r', 'Ada');
    assert.equal(aReply.type, 'joined');
    assert.deepEqual(aReply.peers, []);
    const { reply: bReply } = await resume(t, second, bJoined, 5);
    assert.equal(bReply.type, 'joined');
    assert.deepEqual(bReply.peers, [{ id: aReply.id, name: 'Ada', previous: aJoined.id }]);
    assert.equal((await a2.next('peer-joined')).previous, bJoined.id);
    const newcomer = await Client.open(t, second);
    newcomer.send({ type: 'join', room: 'r', name: 'Cy' });
    await newcomer.expectError('room-full');
  });

  test('an explicit leave frees the seat at once, grace or not', async (t) => {
    const server = await setup(t, { resumeGraceMs: 60000 });
    const { a, b, bJoined } = await pair(t, server);
    b.send({ type: 'leave' });
    assert.deepEqual(await a.next('peer-left'), { type: 'peer-left', id: bJoined.id, name: 'Bo' });
    assert.equal(server.signaling.memberCount, 1);
  });

  test('a frozen client (no pong) loses its seat at once, grace or not: its room knows within two heartbeats', async (t) => {
    const server = await setup(t, { resumeGraceMs: 60000, heartbeatMs: 300 });
    const a = await Client.open(t, server);
    const b = await Client.open(t, server, { autoPong: false });
    await a.join('r', 'Ada');
    const bJoined = await b.join('r', 'Bo');
    const started = performance.now();
    // A keeps answering pings; B answers nothing, like a stopped process.
    assert.deepEqual(await a.next('peer-left', 2000), { type: 'peer-left', id: bJoined.id, name: 'Bo' });
    assert.ok(performance.now() - started < 2 * 300 + 500);
    assert.equal(server.signaling.memberCount, 1);
  });

  test('RESUME_GRACE_MS / --resume-grace-ms', () => {
    assert.equal(readConfig([], {}).resumeGraceMs, undefined);
    assert.equal(readConfig([], { RESUME_GRACE_MS: '5000' }).resumeGraceMs, 5000);
    assert.equal(readConfig(['--resume-grace-ms=0'], { RESUME_GRACE_MS: '5000' }).resumeGraceMs, 0);
    for (const RESUME_GRACE_MS of ['-1', 'long', '600001']) {
      assert.throws(() => readConfig([], { RESUME_GRACE_MS }), ConfigError, RESUME_GRACE_MS);
    }
  });
});
