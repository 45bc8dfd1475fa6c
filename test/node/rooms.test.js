/**
 * The room model on its own: the RoomDirectory interface, with the same tests for the rooms of one
 * process (LocalRooms) and for rooms shared through a real redis-server (RedisRooms): the same
 * results and the same events, in the same order, whatever the backend.
 *
 * Needs `npm run build` first; the Redis half needs redis-server.
 * Run: node --test --test-concurrency=1 test/node/rooms.test.js
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisRooms } from '../../lib/server/redis-rooms.js';
import { LocalRooms, createMember, idOf, newPeerId, sameSecret } from '../../lib/server/rooms.js';
import { SKIP, startRedis } from './redis-server.js';
import { recordingLogger } from './signal-client.js';

/** A directory and the events it told, as `listener` saw them. */
function recorder() {
  const events = [];
  const lost = [];
  return { events, lost, listener: { onEvent: (event) => events.push(event), onLost: (ids) => lost.push(...ids) } };
}

/** Waits until `events` holds `count` events (Redis tells them a moment later), then returns them all. */
async function told(events, count) {
  const deadline = Date.now() + 5000;
  while (events.length < count) {
    if (Date.now() > deadline) assert.fail(`${events.length} events of ${count}: ${JSON.stringify(events)}`);
    await sleep(5);
  }
  // None more than expected.
  await sleep(20);
  assert.equal(events.length, count, JSON.stringify(events));
  return events.splice(0);
}

const backends = {
  LocalRooms: {
    skip: false,
    async make(t, capacity = 2) {
      const { events, listener } = recorder();
      const rooms = new LocalRooms(capacity);
      rooms.listen(listener);
      return { rooms, events };
    },
  },
  RedisRooms: {
    skip: SKIP,
    async make(t, capacity = 2) {
      t.redis ??= await startRedis(t);
      const { events, listener } = recorder();
      const rooms = await RedisRooms.connect({
        url: t.redis.url,
        capacity,
        presenceTtlMs: 10_000,
        listener,
        logger: recordingLogger().logger,
      });
      t.after(() => rooms.close());
      return { rooms, events };
    },
  },
};

for (const [backend, { skip, make }] of Object.entries(backends)) {
  describe(`the room directory: ${backend}`, { skip }, () => {
    test('joins: the first gets no peers, the next the ones there; each join is told to the room', async (t) => {
      const { rooms, events } = await make(t);
      const a = createMember('r', 'Ada');
      assert.deepEqual(await rooms.join(a), { ok: true, peers: [] });
      assert.deepEqual(await told(events, 1), [{ type: 'joined', room: 'r', id: a.id, name: 'Ada' }]);
      const b = createMember('r', 'Bo');
      assert.deepEqual(await rooms.join(b), { ok: true, peers: [{ id: a.id, name: 'Ada' }] });
      assert.deepEqual(await told(events, 1), [{ type: 'joined', room: 'r', id: b.id, name: 'Bo' }]);
      assert.equal(await rooms.holds(a), true);
      assert.equal(await rooms.holds(createMember('r', 'Nobody')), false);
    });

    test('capacity: a join into a full room is refused and told to no one; a leave frees the seat', async (t) => {
      const { rooms, events } = await make(t, 2);
      const [a, b, c] = ['Ada', 'Bo', 'Cy'].map((name) => createMember('r', name));
      await rooms.join(a);
      await rooms.join(b);
      await told(events, 2);
      assert.deepEqual(await rooms.join(c), { ok: false });
      assert.equal(await rooms.holds(c), false);
      await rooms.leave('r', b.id);
      assert.deepEqual(await told(events, 1), [{ type: 'left', room: 'r', id: b.id, name: 'Bo' }]);
      // Leaving twice, or a room one is not in, changes nothing and tells nothing.
      await rooms.leave('r', b.id);
      await rooms.leave('elsewhere', a.id);
      assert.deepEqual((await rooms.join(c)).ok, true);
      assert.deepEqual(await told(events, 1), [{ type: 'joined', room: 'r', id: c.id, name: 'Cy' }]);
    });

    test('relay: a signal event only for a member of that room, never to the sender itself', async (t) => {
      const { rooms, events } = await make(t);
      const a = createMember('r', 'Ada');
      const b = createMember('r', 'Bo');
      const x = createMember('other', 'Xi');
      for (const member of [a, b, x]) await rooms.join(member);
      await told(events, 3);
      const text = '{"type":"signal","to":"…","data":{"candidate":null}}';
      await rooms.relay('r', a.id, b.id, text);
      assert.deepEqual(await told(events, 1), [{ type: 'signal', room: 'r', from: a.id, to: b.id, text }]);
      await rooms.relay('r', a.id, x.id, text); // not in r
      await rooms.relay('r', a.id, a.id, text); // itself
      await rooms.relay('r', a.id, newPeerId(), text); // no one
      await told(events, 0);
    });

    test('previous: taken over with its secret (the old seat "moved"), kept if no one has it, dropped if someone else does', async (t) => {
      const { rooms, events } = await make(t, 3);
      const a = createMember('r', 'Ada');
      await rooms.join(a);
      await told(events, 1);
      // Ada's client, on a new seat, proves the old one is hers: it moves, the room hears no leave.
      const back = createMember('r', 'Ada', { previous: a.id });
      assert.deepEqual(await rooms.join(back, a.secret), { ok: true, peers: [] });
      assert.deepEqual(await told(events, 2), [
        { type: 'left', room: 'r', id: a.id, name: 'Ada', moved: true },
        { type: 'joined', room: 'r', id: back.id, name: 'Ada', previous: a.id },
      ]);
      // Naming someone else's seat without its secret: a newcomer, with no previous.
      const thief = createMember('r', 'Eve', { previous: back.id });
      assert.deepEqual(await rooms.join(thief, 'not-the-secret'), {
        ok: true,
        peers: [{ id: back.id, name: 'Ada', previous: a.id }],
      });
      assert.deepEqual(await told(events, 1), [{ type: 'joined', room: 'r', id: thief.id, name: 'Eve' }]);
      assert.equal(await rooms.holds(back), true);
      // A seat no one holds any more (the server restarted): the claim is passed on to the room.
      const gone = newPeerId();
      const returning = createMember('s', 'Bo', { previous: gone });
      await rooms.join(returning, 'whatever');
      assert.deepEqual(await told(events, 1), [
        { type: 'joined', room: 's', id: returning.id, name: 'Bo', previous: gone },
      ]);
    });

    test('lobby: who joined with it is told to the room and to newcomers; an answer is told only while both are in the room', async (t) => {
      const { rooms, events } = await make(t, 2);
      const host = createMember('r', 'Ada', { lobby: true });
      await rooms.join(host);
      assert.deepEqual(await told(events, 1), [{ type: 'joined', room: 'r', id: host.id, name: 'Ada', lobby: true }]);
      const guest = createMember('r', 'Bo');
      assert.deepEqual(await rooms.join(guest), { ok: true, peers: [{ id: host.id, name: 'Ada', lobby: true }] });
      assert.deepEqual(await told(events, 1), [{ type: 'joined', room: 'r', id: guest.id, name: 'Bo' }]);
      await rooms.decide('r', host.id, guest.id, true);
      assert.deepEqual(await told(events, 1), [{ type: 'admitted', room: 'r', by: host.id, id: guest.id }]);
      await rooms.decide('r', host.id, guest.id, false);
      assert.deepEqual(await told(events, 1), [{ type: 'declined', room: 'r', by: host.id, id: guest.id }]);
      // Not for someone out of the room, another room, or oneself.
      await rooms.decide('r', host.id, newPeerId(), true);
      await rooms.decide('other', host.id, guest.id, true);
      await rooms.decide('r', host.id, host.id, true);
      await rooms.leave('r', guest.id);
      await told(events, 1);
      await rooms.decide('r', host.id, guest.id, true);
      await told(events, 0);
    });
  });
}

test("ids and secrets are unguessable: 128 random bits, base64url, all distinct; an id is its secret's, and proves nothing else", () => {
  const seen = new Set();
  for (let i = 0; i < 1000; i++) {
    const member = createMember('r', 'x');
    for (const value of [member.id, member.secret]) {
      assert.match(value, /^[A-Za-z0-9_-]{22}$/);
      seen.add(value);
    }
    assert.equal(idOf(member.secret), member.id);
    assert.notEqual(idOf(member.id), member.id);
  }
  assert.equal(seen.size, 2000);
});

test('secrets are compared whole: a prefix, a longer string or another secret is no match', () => {
  const secret = newPeerId();
  assert.equal(sameSecret(secret, secret), true);
  for (const other of [secret.slice(0, -1), `${secret}x`, newPeerId(), ''])
    assert.equal(sameSecret(other, secret), false);
});

test('a capacity that is not a whole number ≥ 1 is refused', () => {
  for (const capacity of [0, -1, 1.5, NaN]) {
    assert.throws(() => new LocalRooms(capacity), RangeError, `capacity ${String(capacity)}`);
  }
});

test('rooms vanish with their last member', async () => {
  const rooms = new LocalRooms(2);
  const a = createMember('r', 'Ada');
  await rooms.join(a);
  assert.equal(rooms.roomCount, 1);
  await rooms.leave('r', a.id);
  assert.equal(rooms.roomCount, 0);
});
