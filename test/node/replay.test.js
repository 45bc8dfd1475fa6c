import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplayBuffer } from '../../lib/server/replay.js';

const parse = (texts) => texts.map((text) => JSON.parse(text));

test('messages are numbered from 1 and replayed from what the client has', () => {
  const buffer = new ReplayBuffer();
  assert.deepEqual(JSON.parse(buffer.add({ type: 'a' })), { type: 'a', seq: 1 });
  buffer.add({ type: 'b' });
  buffer.add({ type: 'c' });
  assert.deepEqual(parse(buffer.since(1)), [
    { type: 'b', seq: 2 },
    { type: 'c', seq: 3 },
  ]);
  assert.deepEqual(buffer.since(3), []);
});

test('confirmed messages are forgotten; replay never repeats them', () => {
  const buffer = new ReplayBuffer();
  for (const type of ['a', 'b', 'c', 'd']) buffer.add({ type });
  buffer.confirm(2);
  assert.equal(buffer.size, 2);
  assert.deepEqual(
    parse(buffer.since(2)).map((m) => m.seq),
    [3, 4],
  );
  assert.deepEqual(
    parse(buffer.since(3)).map((m) => m.seq),
    [4],
  );
});

test('bounded by count and bytes; a replay that needs a dropped message is refused', () => {
  const buffer = new ReplayBuffer({ messages: 3, bytes: 1_000_000 });
  for (let i = 0; i < 5; i++) buffer.add({ i });
  assert.equal(buffer.size, 3);
  assert.equal(buffer.since(1), undefined, 'seq 2 was dropped unconfirmed');
  assert.deepEqual(
    parse(buffer.since(2)).map((m) => m.i),
    [2, 3, 4],
  );

  const small = new ReplayBuffer({ messages: 100, bytes: 100 });
  for (let i = 0; i < 10; i++) small.add({ pad: 'x'.repeat(30) });
  assert.ok(small.size <= 2);
});

test('a client claiming more than was sent is refused', () => {
  const buffer = new ReplayBuffer();
  buffer.add({ type: 'a' });
  assert.equal(buffer.since(2), undefined);
});

test('the bound counts the text kept, and confirming frees it', () => {
  const buffer = new ReplayBuffer({ messages: 100, bytes: 100 });
  const sent = buffer.add({ pad: 'x'.repeat(30) });
  assert.equal(sent, JSON.stringify({ pad: 'x'.repeat(30), seq: 1 }));
  assert.equal(buffer.length, sent.length);
  buffer.add({ pad: 'x'.repeat(30) });
  buffer.add({ pad: 'x'.repeat(30) });
  // 41 characters each: a third is over 100, and the oldest goes.
  assert.equal(buffer.size, 2);
  assert.equal(buffer.length, 2 * sent.length);
  assert.equal(buffer.since(0), undefined, 'seq 1 was dropped unconfirmed');
  buffer.confirm(3);
  assert.equal(buffer.length, 0);
});

test('addJson numbers JSON text without parsing or serialising it again', () => {
  const buffer = new ReplayBuffer();
  const data = { description: { type: 'offer', sdp: 'v=0\r\n"quoted"' } };
  const first = buffer.addJson(`{"type":"signal","from":"x","data":${JSON.stringify(data)}}`);
  assert.deepEqual(JSON.parse(first), { type: 'signal', from: 'x', data, seq: 1 });
  assert.deepEqual(JSON.parse(buffer.addJson('{}')), { seq: 2 });
  assert.deepEqual(parse(buffer.since(0)), [{ type: 'signal', from: 'x', data, seq: 1 }, { seq: 2 }]);
});
