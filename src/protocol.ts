/**
 * The signaling protocol: JSON text messages, one object each, with a `type` field.
 * Imported by both the element and the server, so both sides agree on every field and cap.
 */

/** Caps the server enforces; the client never sends more. */
export const LIMITS = {
  room: 128,
  name: 64,
  token: 1024,
  peerId: 64,
  sdp: 64 * 1024,
  candidate: 1024,
  /** A whole message: SDP plus its envelope. */
  message: 72 * 1024,
  /** A message from the server: a relayed one is the sender's, verbatim, in a small envelope. */
  serverMessage: 72 * 1024 + 512,
} as const;

export interface SessionDescription {
  type: 'offer' | 'answer';
  sdp: string;
}

export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/**
 * What peers send each other through the server: a description, a trickled candidate (`null` =
 * end of candidates), or a step of moving the call onto TURN relays only (`relayOnly`, after its
 * path froze twice): `ask` (the impolite side would like to), `replace` (the polite side closed
 * its connection; make a relay-only one), `ready` (made: offer on yours).
 */
export type SignalData =
  { description: SessionDescription } | { candidate: IceCandidate | null } | { relayOnly: RelayStep };

export type RelayStep = 'ask' | 'replace' | 'ready';

export interface PeerInfo {
  id: string;
  name: string;
}

/** A room member as the server describes it. */
export interface MemberInfo extends PeerInfo {
  /** The id this member had before it re-joined (the server lost its seat): the same person. */
  previous?: string;
}

/**
 * The lobby: of two members, the one there first gates the other if it joined with `lobby`,
 * else the newcomer does if it did; a pair with neither is let in at once. Until the gate admits
 * the other, the server relays nothing between them, and neither learns the other's id or name:
 * the gate gets `knock`, the one knocking gets `knocking`.
 */
export type Gate = 'open' | 'gate' | 'knock';

/** What `me` is towards `other` in the lobby, given which of the two was in the room first. */
export function gate(me: { lobby: boolean }, other: { lobby: boolean }, meFirst: boolean): Gate {
  const [first, second] = meFirst ? [me, other] : [other, me];
  const gatekeeper = first.lobby ? first : second.lobby ? second : undefined;
  if (!gatekeeper) return 'open';
  return gatekeeper === me ? 'gate' : 'knock';
}

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

// Client → server
export interface JoinMessage {
  type: 'join';
  room: string;
  name?: string;
  token?: string;
  /** Take back the seat we had (after a dropped connection), and what we received on it. */
  resume?: { id: string; secret: string; received: number };
  /** People who join after us wait in the lobby until we `admit` them (see Gate). */
  lobby?: boolean;
}
export interface SignalMessage {
  type: 'signal';
  to: string;
  data: SignalData;
  /** Our own count of signals, so the server can tell a re-sent one from a new one. */
  seq?: number;
}
export interface LeaveMessage {
  type: 'leave';
}
/** Application-level heartbeat (browsers cannot see WebSocket pings); `received` confirms the server's messages. */
export interface PingMessage {
  type: 'ping';
  received?: number;
}
/** Let in (`admit`) or turn away (`decline`) someone who knocked (a `knock` named `id`). */
export interface AdmitMessage {
  type: 'admit' | 'decline';
  id: string;
}
export type ClientMessage = JoinMessage | SignalMessage | LeaveMessage | PingMessage | AdmitMessage;

// Server → client
export interface JoinedMessage {
  type: 'joined';
  room: string;
  /** Your peer id, assigned by the server. */
  id: string;
  /** The peers already in the room. */
  peers: MemberInfo[];
  /**
   * Your perfect-negotiation role towards the peers already there (you, the newcomer, are
   * impolite: `false`); each `peer-joined` carries your role towards that newcomer.
   */
  polite: boolean;
  iceServers: IceServer[];
  /** Proves the seat is ours when we resume it; never shared with other peers. */
  secret: string;
}
/** Our seat is back after a dropped connection; what we missed follows. The server has our signals up to `received`. */
export interface ResumedMessage {
  type: 'resumed';
  id: string;
  received: number;
  /** Fresh ICE servers (TURN credentials expire), for the ICE restarts to come. */
  iceServers: IceServer[];
}
export interface PongMessage {
  type: 'pong';
  /** The server has our signals up to this `seq`. */
  received?: number;
}
// Relayed messages carry `seq`, counted per seat, so a resumed seat gets exactly what it missed.
export interface PeerJoinedMessage {
  type: 'peer-joined';
  id: string;
  name: string;
  /** Your role towards this newcomer. */
  polite: boolean;
  previous?: string;
  seq?: number;
}
/** Someone waits in the lobby for us to `admit` or `decline` them; `peer-left` if they go. */
export interface KnockMessage {
  type: 'knock';
  id: string;
  name: string;
  seq?: number;
}
/** We wait in the lobby: someone in the room decides whether to let us in (`peer-joined`) or not (`declined`). */
export interface KnockingMessage {
  type: 'knocking';
  seq?: number;
}
export interface PeerLeftMessage {
  type: 'peer-left';
  id: string;
  name: string;
  seq?: number;
}
/**
 * On the wire, a relayed signal carries the sender's own `signal` message, verbatim, as `signal`
 * (`{"type":"signal","from":"…","signal":{"type":"signal","to":"…","data":{…}},"seq":3}`): the
 * server checked it against the schema, which allows no field it does not know, and so relays it
 * without serialising its payload again. Parsed, it is `from` and `data`.
 */
export interface RelayedSignalMessage {
  type: 'signal';
  /** The sender, stamped by the server. */
  from: string;
  data: SignalData;
  seq?: number;
}
/**
 * `rate-limited`: the server refused this join for now, because of how many came from the client's
 * address lately; the message says when to try again. `declined`: we knocked, and were turned
 * away or not let in in time; we are out of the room.
 */
export type ServerErrorCode = 'room-full' | 'unauthorized' | 'protocol' | 'rate-limited' | 'declined';
const SERVER_ERROR_CODES: readonly string[] = ['room-full', 'unauthorized', 'protocol', 'rate-limited', 'declined'];
export interface ErrorMessage {
  type: 'error';
  code: ServerErrorCode;
  message: string;
}
export type ServerMessage =
  | JoinedMessage
  | ResumedMessage
  | PongMessage
  | PeerJoinedMessage
  | PeerLeftMessage
  | KnockMessage
  | KnockingMessage
  | RelayedSignalMessage
  | ErrorMessage;

export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: string };

type Json = Record<string, unknown>;

class Invalid extends Error {}

function fail(reason: string): never {
  throw new Invalid(reason);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(obj: Json, key: string, max: number, required: true): string;
function str(obj: Json, key: string, max: number, required: false): string | undefined;
function str(obj: Json, key: string, max: number, required: boolean): string | undefined {
  const value = obj[key];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string') fail(`"${key}" must be a string`);
  if (value.length > max) fail(`"${key}" is longer than ${max} characters`);
  return value;
}

function nonEmpty(obj: Json, key: string, max: number): string {
  const value = str(obj, key, max, true);
  if (value.trim() === '') fail(`"${key}" must not be empty`);
  return value;
}

function optionalNullable<T>(
  obj: Json,
  key: string,
  check: (v: unknown) => v is T,
  what: string,
): T | null | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return value;
  if (!check(value)) fail(`"${key}" must be ${what}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function seq(obj: Json, key: string): number | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (!isSeq(value)) fail(`"${key}" must be a whole number ≥ 0`);
  return value;
}
const isIndex = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 1024;

/** Refuses any key but `allowed`: what is relayed verbatim must hold nothing the schema does not know. */
function only(obj: Json, allowed: readonly string[], what: string): void {
  for (const key in obj) {
    if (!allowed.includes(key)) fail(`${what} has an unknown field "${key.slice(0, 32)}"`);
  }
}

const SIGNAL_KEYS = ['type', 'to', 'data', 'seq'] as const;
const DESCRIPTION_KEYS = ['type', 'sdp'] as const;
const CANDIDATE_KEYS = ['candidate', 'sdpMid', 'sdpMLineIndex', 'usernameFragment'] as const;

/** Strict: exactly one of the three kinds, and no field the schema does not name. */
function parseSignalData(value: unknown): SignalData {
  if (!isObject(value)) fail('"data" must be an object');
  const keys = Object.keys(value);
  if (keys.length !== 1) fail('"data" needs exactly one of "description", "candidate" or "relayOnly"');
  if ('description' in value) {
    const d = value['description'];
    if (!isObject(d)) fail('"description" must be an object');
    only(d, DESCRIPTION_KEYS, '"description"');
    const type = d['type'];
    if (type !== 'offer' && type !== 'answer') fail('"description.type" must be "offer" or "answer"');
    return { description: { type, sdp: str(d, 'sdp', LIMITS.sdp, true) } };
  }
  if ('candidate' in value) {
    const c = value['candidate'];
    if (c === null) return { candidate: null };
    if (!isObject(c)) fail('"candidate" must be an object or null');
    only(c, CANDIDATE_KEYS, '"candidate"');
    const candidate: IceCandidate = { candidate: str(c, 'candidate', LIMITS.candidate, true) };
    const sdpMid = optionalNullable(c, 'sdpMid', isString, 'a string');
    if (sdpMid !== undefined) {
      if (sdpMid !== null && sdpMid.length > 32) fail('"sdpMid" is too long');
      candidate.sdpMid = sdpMid;
    }
    const index = optionalNullable(c, 'sdpMLineIndex', isIndex, 'a small integer');
    if (index !== undefined) candidate.sdpMLineIndex = index;
    const ufrag = optionalNullable(c, 'usernameFragment', isString, 'a string');
    if (ufrag !== undefined) {
      if (ufrag !== null && ufrag.length > 256) fail('"usernameFragment" is too long');
      candidate.usernameFragment = ufrag;
    }
    return { candidate };
  }
  if ('relayOnly' in value) {
    const step = value['relayOnly'];
    if (step !== 'ask' && step !== 'replace' && step !== 'ready')
      fail('"relayOnly" must be "ask", "replace" or "ready"');
    return { relayOnly: step };
  }
  fail(`"data" has an unknown field "${keys[0]!.slice(0, 32)}": it needs "description", "candidate" or "relayOnly"`);
}

function parseObject(text: unknown, max: number = LIMITS.message): Json {
  if (typeof text !== 'string') fail('messages must be JSON text');
  if (text.length > max) fail(`message longer than ${max} characters`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail('message is not valid JSON');
  }
  if (!isObject(value)) fail('message must be a JSON object');
  if (typeof value['type'] !== 'string') fail('message needs a string "type"');
  return value;
}

function result<T>(parse: () => T): ParseResult<T> {
  try {
    return { ok: true, message: parse() };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, error: error.message };
    throw error;
  }
}

/**
 * Validates a message from a client. The result holds only the known, checked fields (fresh
 * objects: nothing of the input, no `__proto__` or extra keys, is passed on).
 */
export function parseClientMessage(text: unknown): ParseResult<ClientMessage> {
  return result(() => {
    const obj = parseObject(text);
    switch (obj['type']) {
      case 'join': {
        const join: JoinMessage = { type: 'join', room: nonEmpty(obj, 'room', LIMITS.room) };
        const name = str(obj, 'name', LIMITS.name, false);
        if (name !== undefined) join.name = name;
        const token = str(obj, 'token', LIMITS.token, false);
        if (token !== undefined) join.token = token;
        if (obj['resume'] !== undefined) {
          const resume = obj['resume'];
          if (!isObject(resume)) fail('"resume" must be an object');
          join.resume = {
            id: nonEmpty(resume, 'id', LIMITS.peerId),
            secret: nonEmpty(resume, 'secret', LIMITS.peerId),
            received: seq(resume, 'received') ?? 0,
          };
        }
        if (obj['lobby'] !== undefined) {
          if (typeof obj['lobby'] !== 'boolean') fail('"lobby" must be true or false');
          if (obj['lobby']) join.lobby = true;
        }
        return join;
      }
      case 'signal': {
        only(obj, SIGNAL_KEYS, 'a "signal" message');
        const signal: SignalMessage = {
          type: 'signal',
          to: nonEmpty(obj, 'to', LIMITS.peerId),
          data: parseSignalData(obj['data']),
        };
        const n = seq(obj, 'seq');
        if (n !== undefined) signal.seq = n;
        return signal;
      }
      case 'leave':
        return { type: 'leave' };
      case 'admit':
      case 'decline':
        return { type: obj['type'], id: nonEmpty(obj, 'id', LIMITS.peerId) };
      case 'ping': {
        const received = seq(obj, 'received');
        return received === undefined ? { type: 'ping' } : { type: 'ping', received };
      }
      default:
        return fail(`unknown message type "${String(obj['type']).slice(0, 32)}"`);
    }
  });
}

function parsePeer(value: unknown): MemberInfo {
  if (!isObject(value)) fail('peer must be an object');
  const peer: MemberInfo = { id: nonEmpty(value, 'id', LIMITS.peerId), name: str(value, 'name', LIMITS.name, true) };
  const previous = str(value, 'previous', LIMITS.peerId, false);
  if (previous !== undefined) peer.previous = previous;
  return peer;
}

/** `seq` when present, for the relayed messages. */
function withSeq<T extends object>(message: T, obj: Json): T & { seq?: number } {
  const n = seq(obj, 'seq');
  return n === undefined ? message : { ...message, seq: n };
}

function parseIceServers(value: unknown): IceServer[] {
  if (!Array.isArray(value)) fail('"iceServers" must be an array');
  return value.map((entry) => {
    if (!isObject(entry)) fail('ICE server must be an object');
    const urls = entry['urls'];
    if (!isString(urls) && !(Array.isArray(urls) && urls.every(isString))) fail('"urls" must be a string or strings');
    const server: IceServer = { urls };
    const username = str(entry, 'username', 512, false);
    if (username !== undefined) server.username = username;
    const credential = str(entry, 'credential', 512, false);
    if (credential !== undefined) server.credential = credential;
    return server;
  });
}

/** Validates a message from the server (the element trusts nothing it did not check). */
export function parseServerMessage(text: unknown): ParseResult<ServerMessage> {
  return result((): ServerMessage => {
    const obj = parseObject(text, LIMITS.serverMessage);
    switch (obj['type']) {
      case 'joined':
        if (!Array.isArray(obj['peers'])) fail('"peers" must be an array');
        return {
          type: 'joined',
          room: str(obj, 'room', LIMITS.room, true),
          id: nonEmpty(obj, 'id', LIMITS.peerId),
          peers: obj['peers'].map(parsePeer),
          polite: obj['polite'] === true,
          iceServers: parseIceServers(obj['iceServers'] ?? []),
          secret: str(obj, 'secret', LIMITS.peerId, true),
        };
      case 'resumed':
        return {
          type: 'resumed',
          id: nonEmpty(obj, 'id', LIMITS.peerId),
          received: seq(obj, 'received') ?? 0,
          iceServers: parseIceServers(obj['iceServers'] ?? []),
        };
      case 'pong': {
        const received = seq(obj, 'received');
        return received === undefined ? { type: 'pong' } : { type: 'pong', received };
      }
      case 'peer-joined':
        return withSeq({ type: 'peer-joined', ...parsePeer(obj), polite: obj['polite'] === true }, obj);
      case 'peer-left': {
        const { id, name } = parsePeer(obj);
        return withSeq({ type: 'peer-left', id, name }, obj);
      }
      case 'knock': {
        const { id, name } = parsePeer(obj);
        return withSeq({ type: 'knock', id, name }, obj);
      }
      case 'knocking':
        return withSeq({ type: 'knocking' }, obj);
      case 'signal': {
        const sent = obj['signal'];
        if (!isObject(sent)) fail('"signal" must be an object');
        return withSeq(
          { type: 'signal', from: nonEmpty(obj, 'from', LIMITS.peerId), data: parseSignalData(sent['data']) },
          obj,
        );
      }
      case 'error': {
        const code = obj['code'];
        if (typeof code !== 'string' || !SERVER_ERROR_CODES.includes(code)) fail('unknown error code');
        return { type: 'error', code: code as ServerErrorCode, message: str(obj, 'message', 1024, true) };
      }
      default:
        return fail(`unknown message type "${String(obj['type']).slice(0, 32)}"`);
    }
  });
}

// Server side: the texts the server builds, and the format servers sharing rooms through Redis use.

/**
 * A relayed signal: `text` is the sender's `signal` message as it came, already checked by
 * parseClientMessage (so it is one JSON object of known fields); `from` is stamped here. The
 * payload is neither parsed again nor serialised again.
 */
export function relayedSignalText(from: string, text: string, seq?: number): string {
  const number = seq === undefined ? '' : `"seq":${seq},`;
  return `{"type":"signal","from":${JSON.stringify(from)},${number}"signal":${text}}`;
}

const PONG = JSON.stringify({ type: 'pong' } satisfies PongMessage);

/** The answer to a `ping`: `received`, the sender's signals the server has, when it has a seat. */
export function pongText(received?: number): string {
  return received === undefined ? PONG : `{"type":"pong","received":${received}}`;
}

/**
 * What happens in a room, as the room directory tells the servers with members there (rooms.ts,
 * redis-rooms.ts). Across servers (Redis pub/sub), `joined` and `left` are JSON objects (Redis's
 * Lua scripts write them); `signal` is a one-line JSON header, a newline, then the sender's message
 * verbatim, so the receiving server does not parse the payload again.
 */
export type RoomEvent =
  | { type: 'joined'; room: string; id: string; name: string; previous?: string; lobby?: boolean }
  /** `by` let `id` in (`admitted`) or turned it away (`declined`), from the lobby. */
  | { type: 'admitted' | 'declined'; room: string; by: string; id: string }
  /** `moved`: the same client took its seat back elsewhere (its secret proved it); no one left. */
  | { type: 'left'; room: string; id: string; name: string; moved?: boolean }
  /** `text`: the sender's `signal` message, as checked by parseClientMessage. */
  | { type: 'signal'; room: string; from: string; to: string; text: string };

/** A `signal` event's text between servers (the other events are written by Redis's scripts). */
export function encodeSignalEvent(room: string, from: string, to: string, text: string): string {
  return `${JSON.stringify(['signal', room, from, to])}\n${text}`;
}

/** Reads an event another server (or Redis) published; throws on anything that is not one. */
export function decodeRoomEvent(text: string): RoomEvent {
  if (text.startsWith('["signal",')) {
    const end = text.indexOf('\n');
    const header: unknown = end > 0 ? JSON.parse(text.slice(0, end)) : undefined;
    if (!Array.isArray(header) || header.length !== 4 || !header.every(isString)) fail('bad signal header');
    const [, room, from, to] = header as string[];
    return { type: 'signal', room: room!, from: from!, to: to!, text: text.slice(end + 1) };
  }
  const event: unknown = JSON.parse(text);
  if (!isObject(event)) fail('an event must be an object');
  const room = str(event, 'room', LIMITS.room, true);
  const id = str(event, 'id', LIMITS.peerId, true);
  const type = event['type'];
  if (type === 'admitted' || type === 'declined') return { type, room, by: str(event, 'by', LIMITS.peerId, true), id };
  const name = str(event, 'name', LIMITS.name, true);
  switch (type) {
    case 'joined': {
      const previous = str(event, 'previous', LIMITS.peerId, false);
      return {
        type: 'joined',
        room,
        id,
        name,
        ...(previous ? { previous } : {}),
        ...(event['lobby'] === true ? { lobby: true } : {}),
      };
    }
    case 'left':
      return { type: 'left', room, id, name, ...(event['moved'] === true ? { moved: true } : {}) };
    default:
      return fail(`unknown event type "${String(type).slice(0, 32)}"`);
  }
}
