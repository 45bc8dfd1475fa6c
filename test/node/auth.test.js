/**
 * Join tokens and TURN credentials as pure functions (src/server/auth.ts): what the server
 * accepts and refuses, byte for byte. The server tests (security.test.js) send them over real
 * sockets; turn.test.js has a real coturn check the credentials.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { createJoinToken, turnCredentials, verifyJoinToken } from '../../lib/server/index.js';

const SECRET = 'join-secret-for-tests';
const NOW = 1_800_000_000;

/** The token with one character of its signature changed (still valid base64url). */
function forge(token) {
  const at = token.length - 5;
  const swapped = token[at] === 'A' ? 'B' : 'A';
  return token.slice(0, at) + swapped + token.slice(at + 1);
}

describe('join tokens', () => {
  test('a token verifies for its room until it expires, and carries the name it was given', () => {
    const token = createJoinToken(SECRET, { room: 'standup', ttlSeconds: 60, name: 'Ada', now: NOW });
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(verifyJoinToken(SECRET, token, 'standup', NOW), {
      ok: true,
      claims: { room: 'standup', expires: NOW + 60, name: 'Ada' },
    });
    assert.equal(verifyJoinToken(SECRET, token, 'standup', NOW + 59).ok, true);
    assert.deepEqual(verifyJoinToken(SECRET, token, 'standup', NOW + 60), { ok: false, reason: 'expired' });
  });

  test('without a name the claims have none', () => {
    const token = createJoinToken(SECRET, { room: 'r', now: NOW });
    assert.deepEqual(verifyJoinToken(SECRET, token, 'r', NOW), {
      ok: true,
      claims: { room: 'r', expires: NOW + 3600 },
    });
  });

  test('missing, forged, other-room, other-secret and malformed tokens are refused, each with its reason', () => {
    const token = createJoinToken(SECRET, { room: 'standup', ttlSeconds: 60, now: NOW });
    const cases = [
      [undefined, 'missing'],
      ['', 'missing'],
      [forge(token), 'forged'],
      [createJoinToken('another secret', { room: 'standup', now: NOW }), 'forged'],
      [createJoinToken(SECRET, { room: 'retro', now: NOW }), 'other-room'],
      ['no-dot-at-all', 'malformed'],
      ['.', 'malformed'],
      [`${token}.extra`, 'malformed'],
      ['x'.repeat(2000), 'malformed'],
    ];
    for (const [given, reason] of cases) {
      assert.deepEqual(verifyJoinToken(SECRET, given, 'standup', NOW), { ok: false, reason }, String(given));
    }
  });

  test('every single-character change anywhere in a token is refused', () => {
    const token = createJoinToken(SECRET, { room: 'standup', ttlSeconds: 60, now: NOW });
    for (let at = 0; at < token.length; at++) {
      for (const replacement of ['A', 'B', 'g', '-', '_', '.']) {
        if (token[at] === replacement) continue;
        const changed = token.slice(0, at) + replacement + token.slice(at + 1);
        assert.equal(verifyJoinToken(SECRET, changed, 'standup', NOW).ok, false, `position ${at} → ${replacement}`);
      }
    }
    // The last character of a 32-byte signature carries 2 padding bits: a lenient base64 decoder
    // reads it the same with its lowest bit flipped. The text must still differ.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const flipped = alphabet[alphabet.indexOf(token.at(-1)) ^ 1];
    assert.equal(verifyJoinToken(SECRET, token.slice(0, -1) + flipped, 'standup', NOW).ok, false);
  });

  test('a payload that is signed but not ours in shape is malformed, not admitted', () => {
    const sign = (payload) => createHmac('sha256', SECRET).update(payload).digest('base64url');
    for (const claims of ['null', '"text"', '{"r":1,"e":9999999999}', '{"r":"standup","e":"later"}', 'not json']) {
      const payload = Buffer.from(claims).toString('base64url');
      assert.deepEqual(
        verifyJoinToken(SECRET, `${payload}.${sign(payload)}`, 'standup', NOW),
        { ok: false, reason: 'malformed' },
        claims,
      );
    }
  });

  test('a token cannot be made without a secret, a room or a positive ttl', () => {
    assert.throws(() => createJoinToken('', { room: 'r' }), /secret/);
    assert.throws(() => createJoinToken(SECRET, { room: '' }), /room/);
    assert.throws(() => createJoinToken(SECRET, { room: 'r', ttlSeconds: 0 }), /ttl/);
  });
});

describe('TURN credentials (coturn use-auth-secret)', () => {
  test('username is expiry:peerId, password is base64 HMAC-SHA1 of the username', () => {
    const server = turnCredentials('turn-secret', ['turn:turn.example:3478'], 'peer-1', { ttlSeconds: 600, now: NOW });
    assert.deepEqual(server, {
      urls: ['turn:turn.example:3478'],
      username: `${NOW + 600}:peer-1`,
      // The value coturn computes for that username (RFC draft-uberti-behave-turn-rest-00 §2.2).
      credential: createHmac('sha1', 'turn-secret')
        .update(`${NOW + 600}:peer-1`)
        .digest('base64'),
    });
    // A known vector: a different secret, a different password.
    assert.notEqual(
      turnCredentials('other', server.urls, 'peer-1', { ttlSeconds: 600, now: NOW }).credential,
      server.credential,
    );
  });
});
