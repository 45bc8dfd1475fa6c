import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rooms, newPeerId } from '../../lib/server/rooms.js';

function join(rooms, room, name) {
  const result = rooms.join(room, name);
  assert.equal(result.ok, true, `join ${room} as ${name} should succeed`);
  return result;
}

test('the first join gets no peers, the next gets the ones already there', () => {
  const rooms = new Rooms();
  const a = join(rooms, 'r', 'Ada');
  assert.deepEqual(a.peers, []);
  assert.deepEqual(a.member, { id: a.member.id, name: 'Ada', room: 'r', secret: a.member.secret });
  assert.notEqual(a.member.secret, a.member.id);
  const b = join(rooms, 'r', 'Bo');
  assert.deepEqual(b.peers, [a.member]);
  assert.notEqual(b.member.id, a.member.id);
  assert.equal(rooms.get(b.member.id), b.member);
  assert.deepEqual(rooms.peersOf(a.member.id), [b.member]);
  assert.deepEqual(rooms.peersOf(b.member.id), [a.member]);
  assert.equal(rooms.memberCount, 2);
  assert.equal(rooms.roomCount, 1);
});

test('peer ids are unguessable: 128 random bits, base64url, all distinct', () => {
  const rooms = new Rooms(1000);
  const ids = new Set();
  for (let i = 0; i < 1000; i++) {
    const { member } = join(rooms, 'big', `p${i}`);
    assert.match(member.id, /^[A-Za-z0-9_-]{22,}$/);
    ids.add(member.id);
  }
  assert.equal(ids.size, 1000);
  // Not a counter or a timestamp: the default generator itself.
  const a = newPeerId();
  const b = newPeerId();
  assert.notEqual(a, b);
  assert.equal(Buffer.from(a, 'base64url').length, 16);
});

test('default capacity is 2: a third joiner gets room-full', () => {
  const rooms = new Rooms();
  assert.equal(rooms.capacity, 2);
  join(rooms, 'r', 'a');
  join(rooms, 'r', 'b');
  assert.deepEqual(rooms.join('r', 'c'), { ok: false, code: 'room-full' });
  assert.equal(rooms.memberCount, 2);
  // A full room does not affect another room.
  join(rooms, 'other', 'c');
});

test('capacity is configurable', () => {
  const rooms = new Rooms(3);
  assert.equal(rooms.capacity, 3);
  join(rooms, 'r', 'a');
  join(rooms, 'r', 'b');
  const c = join(rooms, 'r', 'c');
  assert.equal(c.peers.length, 2);
  assert.deepEqual(rooms.join('r', 'd'), { ok: false, code: 'room-full' });

  const solo = new Rooms(1);
  join(solo, 'r', 'a');
  assert.deepEqual(solo.join('r', 'b'), { ok: false, code: 'room-full' });
});

test('invalid capacity throws RangeError', () => {
  for (const capacity of [0, -1, 1.5, NaN, Infinity, '2']) {
    assert.throws(() => new Rooms(capacity), RangeError, `capacity ${String(capacity)}`);
  }
});

test('leave returns the member and the others still in the room', () => {
  const rooms = new Rooms(3);
  const a = join(rooms, 'r', 'a');
  const b = join(rooms, 'r', 'b');
  const c = join(rooms, 'r', 'c');
  const left = rooms.leave(b.member.id);
  assert.equal(left.member, b.member);
  assert.deepEqual(left.others.map((m) => m.id).sort(), [a.member.id, c.member.id].sort());
  assert.equal(rooms.get(b.member.id), undefined);
  assert.equal(rooms.leave(b.member.id), undefined, 'leaving twice');
  assert.equal(rooms.leave('no-such-id'), undefined);
});

test('empty rooms are removed', () => {
  const rooms = new Rooms();
  const a = join(rooms, 'r1', 'a');
  const b = join(rooms, 'r1', 'b');
  const c = join(rooms, 'r2', 'c');
  assert.equal(rooms.roomCount, 2);
  rooms.leave(c.member.id);
  assert.equal(rooms.roomCount, 1);
  assert.deepEqual(rooms.leave(a.member.id).others, [b.member]);
  assert.equal(rooms.roomCount, 1);
  assert.deepEqual(rooms.leave(b.member.id).others, []);
  assert.equal(rooms.roomCount, 0);
  assert.equal(rooms.memberCount, 0);
});

test('a seat freed by leave can be taken again', () => {
  const rooms = new Rooms();
  const a = join(rooms, 'r', 'a');
  const b = join(rooms, 'r', 'b');
  assert.equal(rooms.join('r', 'c').ok, false);
  rooms.leave(a.member.id);
  const c = join(rooms, 'r', 'c');
  assert.deepEqual(c.peers, [b.member]);
  assert.notEqual(c.member.id, a.member.id);
});

test('route: only within a room, never across rooms, never to self', () => {
  const rooms = new Rooms();
  const a = join(rooms, 'r1', 'a');
  const b = join(rooms, 'r1', 'b');
  const x = join(rooms, 'r2', 'x');
  assert.equal(rooms.route(a.member.id, b.member.id), b.member);
  assert.equal(rooms.route(b.member.id, a.member.id), a.member);
  assert.equal(rooms.route(a.member.id, x.member.id), undefined, 'across rooms');
  assert.equal(rooms.route(x.member.id, a.member.id), undefined, 'across rooms');
  assert.equal(rooms.route(a.member.id, a.member.id), undefined, 'to self');
  assert.equal(rooms.route(a.member.id, 'unknown'), undefined, 'unknown recipient');
  assert.equal(rooms.route('unknown', a.member.id), undefined, 'unknown sender');
  rooms.leave(b.member.id);
  assert.equal(rooms.route(a.member.id, b.member.id), undefined, 'to a member who left');
  assert.equal(rooms.route(b.member.id, a.member.id), undefined, 'from a member who left');
});

test('room names are compared exactly, including special names', () => {
  const rooms = new Rooms();
  const a = join(rooms, '__proto__', 'a');
  const b = join(rooms, 'constructor', 'b');
  assert.deepEqual(b.peers, []);
  assert.equal(rooms.route(a.member.id, b.member.id), undefined);
  assert.deepEqual(join(rooms, '__proto__', 'c').peers, [a.member]);
  assert.deepEqual(join(rooms, 'R', 'd').peers, [], 'case-sensitive');
});

test('a seat is claimed only with its secret', () => {
  const rooms = new Rooms();
  const { member } = join(rooms, 'r', 'Ada');
  assert.equal(rooms.claim(member.id, member.secret), member);
  assert.equal(
    rooms.claim(
      member.id,
      member.secret.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
    ),
    undefined,
  );
  assert.equal(rooms.claim(member.id, ''), undefined);
  assert.equal(rooms.claim('unknown', member.secret), undefined);
});

test('a custom id generator is used', () => {
  let n = 0;
  const rooms = new Rooms(2, () => `id-${++n}`);
  assert.equal(join(rooms, 'r', 'a').member.id, 'id-1');
  assert.equal(join(rooms, 'r', 'b').member.id, 'id-2');
});
