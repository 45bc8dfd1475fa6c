import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MemberInfo, RoomEvent } from '../protocol.js';

export interface Member {
  /** Unguessable: 128 bits of the hash of `secret` (idOf). Shared with the room. */
  readonly id: string;
  readonly name: string;
  readonly room: string;
  /** Proves a resume is the same client: 128 random bits, told to this member only. */
  readonly secret: string;
  /** The id this member had before the server lost its seat: its client proved it (idOf). */
  readonly previous?: string;
  /** Who joins after it waits in the lobby (protocol.ts `gate`). */
  readonly lobby?: boolean;
}

export const newPeerId = (): string => randomBytes(16).toString('base64url');

/**
 * The peer id that goes with a seat's secret. Whoever holds the secret can prove an id was theirs
 * with no record of it anywhere (after a restart, on another server), and the id, which the room
 * sees, says nothing about the secret.
 */
export const idOf = (secret: string): string =>
  createHash('sha256').update(`rtc-call seat\n${secret}`).digest('base64url').slice(0, 22);

/** A new member of `room`, with a fresh secret and the id that goes with it. */
export function createMember(
  room: string,
  name: string,
  { previous, lobby }: { previous?: string | undefined; lobby?: boolean | undefined } = {},
): Member {
  const secret = newPeerId();
  return { id: idOf(secret), name, room, secret, ...(previous ? { previous } : {}), ...(lobby ? { lobby } : {}) };
}

/** A member already in the room, as a newcomer's server is told of it. */
export interface RoomPeer extends MemberInfo {
  lobby?: boolean;
}

export type JoinResult = { ok: true; peers: RoomPeer[] } | { ok: false };

/** What a room directory tells the server using it. */
export interface RoomListener {
  /** Something happened in a room this server has members in, in the order the directory saw it. */
  onEvent(event: RoomEvent): void;
  /** The directory no longer lists these members of this server (it looked dead for a while). */
  onLost(ids: string[]): void;
}

/**
 * Who is in which room, for one server or for all the servers sharing a Redis (redis-rooms.ts):
 * the one model the signaling server is wiring around. Membership and the capacity check live here;
 * every change is told, as a RoomEvent, to each server with members in that room (the one making
 * it included), in the order the directory made them.
 */
export interface RoomDirectory {
  readonly capacity: number;
  /**
   * Adds `member` if its room has a seat: `joined` goes to the room first. `claimed` is the secret
   * of `member.previous` as its client gave it: with it, the member takes the place of its previous
   * seat wherever that is (`left` with `moved`); without it, `previous` is kept only if it is no
   * one's seat.
   */
  join(member: Member, claimed?: string): Promise<JoinResult>;
  /** Removes a member: `left` goes to the rest of its room. */
  leave(room: string, id: string): Promise<void>;
  /** A `signal` event for `to`, if it is in `room`: `text` is the sender's checked message. */
  relay(room: string, from: string, to: string, text: string): void | Promise<void>;
  /** `by` let `id` in from the lobby, or turned it away: `admitted` or `declined`, if both are in `room`. */
  decide(room: string, by: string, id: string, admitted: boolean): void | Promise<void>;
  /** Whether the directory still has `member`, on this server. */
  holds(member: Member): Promise<boolean>;
  close(): Promise<void>;
}

/** `given` is `expected`, compared in constant time. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The rooms of one process: pure data, no sockets. Rooms appear on the first join and vanish with
 * their last member. Events are told synchronously, before the call that made them returns.
 */
export class LocalRooms implements RoomDirectory {
  readonly #capacity: number;
  readonly #rooms = new Map<string, Map<string, Member>>();
  #listener: RoomListener | undefined;

  constructor(capacity = 2) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`room capacity must be a whole number ≥ 1, not ${capacity}`);
    this.#capacity = capacity;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** The server told of every event (one per directory). */
  listen(listener: RoomListener): void {
    this.#listener = listener;
  }

  join(member: Member, claimed?: string): Promise<JoinResult> {
    return Promise.resolve(this.joinNow(member, claimed));
  }

  /** join(), at once. */
  joinNow(member: Member, claimed?: string): JoinResult {
    const members = this.#rooms.get(member.room) ?? new Map<string, Member>();
    let previous = member.previous;
    if (previous) {
      const held = members.get(previous);
      if (held && claimed !== undefined && sameSecret(claimed, held.secret)) {
        members.delete(previous);
        this.#tell({ type: 'left', room: member.room, id: held.id, name: held.name, moved: true });
      } else if (held) {
        // Someone else's seat: not this client's to claim.
        previous = undefined;
      }
    }
    if (members.size >= this.#capacity) return { ok: false };
    const peers = [...members.values()].map(describe);
    const { id, name, room, secret, lobby } = member;
    members.set(id, { id, name, room, secret, ...(previous ? { previous } : {}), ...(lobby ? { lobby } : {}) });
    this.#rooms.set(room, members);
    this.#tell({ type: 'joined', room, id, name, ...(previous ? { previous } : {}), ...(lobby ? { lobby } : {}) });
    return { ok: true, peers };
  }

  leave(room: string, id: string): Promise<void> {
    this.leaveNow(room, id);
    return Promise.resolve();
  }

  /** leave(), at once. */
  leaveNow(room: string, id: string): void {
    const members = this.#rooms.get(room);
    const member = members?.get(id);
    if (!members || !member) return;
    members.delete(id);
    if (members.size === 0) this.#rooms.delete(room);
    this.#tell({ type: 'left', room, id, name: member.name });
  }

  relay(room: string, from: string, to: string, text: string): void {
    if (from !== to && this.#rooms.get(room)?.has(to)) this.#tell({ type: 'signal', room, from, to, text });
  }

  decide(room: string, by: string, id: string, admitted: boolean): void {
    const members = this.#rooms.get(room);
    if (by !== id && members?.has(by) && members.has(id))
      this.#tell({ type: admitted ? 'admitted' : 'declined', room, by, id });
  }

  holds(member: Member): Promise<boolean> {
    return Promise.resolve(this.#rooms.get(member.room)?.get(member.id) !== undefined);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  get roomCount(): number {
    return this.#rooms.size;
  }

  #tell(event: RoomEvent): void {
    this.#listener?.onEvent(event);
  }
}

function describe({ id, name, previous, lobby }: Member): RoomPeer {
  return { id, name, ...(previous ? { previous } : {}), ...(lobby ? { lobby } : {}) };
}
