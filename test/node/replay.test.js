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
