import { createHmac, timingSafeEqual } from 'node:crypto';
import { LIMITS, type IceServer } from '../protocol.js';

/**
 * Join tokens: `<payload>.<signature>`, both base64url. The payload is JSON `{ r, e, n? }`:
 * the room, the expiry (Unix seconds) and an optional display name; the signature is
 * HMAC-SHA256 of the payload's base64url text with `JOIN_SECRET`. Opaque to the element.
 */
export interface JoinTokenClaims {
  room: string;
  /** Unix time in seconds after which the token no longer admits anyone. */
  expires: number;
  /** When set, the server uses this name for the member instead of the one the client sent. */
  name?: string;
}

export type TokenCheck =
  | { ok: true; claims: JoinTokenClaims }
  | { ok: false; reason: 'missing' | 'malformed' | 'forged' | 'expired' | 'other-room' };

/** The longest token we look at; anything longer is malformed (the protocol caps it too). */
const MAX_TOKEN_LENGTH = 1024;

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function sign(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

/** A token for `room`, valid `ttlSeconds` from `now` (Unix seconds). */
export function createJoinToken(
  secret: string,
  {
    room,
    ttlSeconds = 3600,
    name,
    now = nowSeconds(),
  }: { room: string; ttlSeconds?: number; name?: string; now?: number },
): string {
  if (!secret) throw new Error('a join token needs a secret');
  if (!room) throw new Error('a join token needs a room');
  // Every element would refuse to show a longer one, and the call with it.
  if (room.length > LIMITS.room) throw new Error(`a room name is at most ${LIMITS.room} characters`);
  if (name && name.length > LIMITS.name) throw new Error(`a name is at most ${LIMITS.name} characters`);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new Error(`ttl must be a whole number of seconds ≥ 1`);
  const claims: Record<string, unknown> = { r: room, e: now + ttlSeconds };
  if (name) claims['n'] = name;
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${sign(secret, payload).toString('base64url')}`;
}

/** Checks a token's signature (in constant time), expiry and room. */
export function verifyJoinToken(
  secret: string,
  token: string | undefined,
  room: string,
  now: number = nowSeconds(),
): TokenCheck {
  if (!token) return { ok: false, reason: 'missing' };
  const parts = token.length <= MAX_TOKEN_LENGTH ? token.split('.') : [];
  if (parts.length !== 2 || !parts[0] || !parts[1]) return { ok: false, reason: 'malformed' };
  const [payload, signature] = parts as [string, string];
  // Compared as text: base64url decoding would overlook a changed last character (padding bits).
  const given = Buffer.from(signature);
  const expected = Buffer.from(sign(secret, payload).toString('base64url'));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof claims !== 'object' || claims === null) return { ok: false, reason: 'malformed' };
  const { r, e, n } = claims as Record<string, unknown>;
  if (typeof r !== 'string' || typeof e !== 'number' || (n !== undefined && typeof n !== 'string')) {
    return { ok: false, reason: 'malformed' };
  }
  // Signed, but not a token createJoinToken makes (an old or hand-made one): refused, not cut.
  if (typeof n === 'string' && n.length > LIMITS.name) return { ok: false, reason: 'malformed' };
  if (now >= e) return { ok: false, reason: 'expired' };
  if (r !== room) return { ok: false, reason: 'other-room' };
  return { ok: true, claims: { room: r, expires: e, ...(n ? { name: n } : {}) } };
}

/** What a refused client is told: enough to fix it, nothing about the secret. */
export const TOKEN_REFUSALS: Record<Exclude<TokenCheck, { ok: true }>['reason'], string> = {
  missing: 'this server needs a join token (the token attribute)',
  malformed: 'the join token is not one this server issued',
  forged: 'the join token is not one this server issued',
  expired: 'the join token has expired: ask for a new one',
  'other-room': 'the join token is for another room',
};

/**
 * TURN credentials in coturn's `use-auth-secret` scheme (the "TURN REST API" draft): the
 * username is `<expiry>:<peerId>`, the password base64(HMAC-SHA1(secret, username)); coturn
 * recomputes the password from the username and refuses it once the expiry has passed.
 */
export function turnCredentials(
  secret: string,
  urls: string[],
  peerId: string,
  { ttlSeconds = 3600, now = nowSeconds() }: { ttlSeconds?: number; now?: number } = {},
): IceServer {
  const username = `${now + ttlSeconds}:${peerId}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { urls, username, credential };
}
