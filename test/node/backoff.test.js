import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_BACKOFF, backoffBound, backoffDelay } from '../../lib/backoff.js';

const options = { baseMs: 250, capMs: 6000, giveUpMs: 60000 };

test('the bound doubles from the base and stops at the cap', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 10, 100].map((attempt) => backoffBound(attempt, options)),
    [250, 500, 1000, 2000, 4000, 6000, 6000, 6000, 6000],
  );
});

test('full jitter: each delay is uniform in [0, bound)', () => {
  assert.equal(
    backoffDelay(3, options, () => 0),
    0,
  );
  assert.equal(
    backoffDelay(3, options, () => 0.5),
    1000,
  );
  assert.equal(
    backoffDelay(3, options, () => 0.999999),
    1999,
  );
  assert.equal(
    backoffDelay(50, options, () => 0.999999),
    5999,
  );
});

test('the first retry is fast and no delay passes the cap, over many draws', () => {
  for (let i = 0; i < 1000; i++) {
    assert.ok(backoffDelay(0, options) < 250);
    assert.ok(backoffDelay(i, options) < 6000);
  }
});

test('the defaults: a fast first try, a cap of a few seconds, giving up after a minute', () => {
  assert.ok(DEFAULT_BACKOFF.baseMs <= 500);
  assert.ok(DEFAULT_BACKOFF.capMs >= 5000 && DEFAULT_BACKOFF.capMs <= 7000);
  assert.equal(DEFAULT_BACKOFF.giveUpMs, 60000);
});
