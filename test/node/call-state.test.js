import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CALL_STATES, TRANSITIONS, canTransition, isActive, isInCall } from '../../lib/call-state.js';

const CONTRACT_STATES = [
  'idle',
  'starting',
  'ready',
  'waiting',
  'connecting',
  'connected',
  'reconnecting',
  'ended',
  'failed',
];

test('CALL_STATES are exactly the nine states of the contract', () => {
  assert.deepEqual([...CALL_STATES].sort(), [...CONTRACT_STATES].sort());
  assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...CONTRACT_STATES].sort());
});

test('every transition in the table is accepted', () => {
  let count = 0;
  for (const [from, targets] of Object.entries(TRANSITIONS)) {
    for (const to of targets) {
      assert.ok(CONTRACT_STATES.includes(to), `${from} → ${to}: unknown target state`);
      assert.equal(canTransition(from, to), true, `${from} → ${to} should be allowed`);
      count++;
    }
  }
  assert.ok(count > 0);
});

test('all 81 pairs: exactly the listed transitions are accepted', () => {
  let pairs = 0;
  for (const from of CALL_STATES) {
    for (const to of CALL_STATES) {
      pairs++;
      assert.equal(canTransition(from, to), TRANSITIONS[from].includes(to), `${from} → ${to}`);
    }
  }
  assert.equal(pairs, 81);
});

test('no state transitions to itself', () => {
  for (const state of CALL_STATES) assert.equal(canTransition(state, state), false, `${state} → ${state}`);
});

// Hard-coded from the contract, so a wrong edit to the table fails here even though the
// enumeration above merely mirrors it.
const ALLOWED = [
  ['idle', 'starting'],
  ['starting', 'ready'],
  ['ready', 'waiting'],
  ['ready', 'connecting'], // loopback skips waiting
  ['waiting', 'connecting'],
  ['connecting', 'connected'],
  ['connected', 'reconnecting'],
  ['reconnecting', 'connected'],
  ['connected', 'ended'], // own hang-up
  ['waiting', 'ended'],
  ['connected', 'waiting'], // the peer left: still in the room
  ['connecting', 'waiting'],
  ['reconnecting', 'waiting'],
  ['ended', 'starting'], // call again after hang-up
  ['failed', 'starting'], // retry after failure
];
const REFUSED = [
  ['idle', 'connected'],
  ['idle', 'waiting'],
  ['idle', 'ready'],
  ['ended', 'connected'],
  ['ended', 'waiting'],
  ['failed', 'connected'],
  ['waiting', 'connected'], // must go through connecting
  ['ready', 'connected'],
  ['starting', 'connecting'],
  ['failed', 'failed'],
];

for (const [from, to] of ALLOWED) {
  test(`contract: ${from} → ${to} is allowed`, () => assert.equal(canTransition(from, to), true));
}
for (const [from, to] of REFUSED) {
  test(`contract: ${from} → ${to} is refused`, () => assert.equal(canTransition(from, to), false));
}

test('contract: every state except failed can reach failed', () => {
  for (const state of CONTRACT_STATES.filter((s) => s !== 'failed')) {
    assert.equal(canTransition(state, 'failed'), true, `${state} → failed`);
  }
});

test('isActive and isInCall', () => {
  assert.deepEqual(
    CONTRACT_STATES.filter((s) => isActive(s)),
    ['starting', 'ready', 'waiting', 'connecting', 'connected', 'reconnecting'],
  );
  assert.deepEqual(
    CONTRACT_STATES.filter((s) => isInCall(s)),
    ['connecting', 'connected', 'reconnecting'],
  );
});
