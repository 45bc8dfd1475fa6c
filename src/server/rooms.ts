import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { MemberInfo, RoomEvent } from '../protocol.js';

export interface Member {
  /** Unguessable: 128 random bits. Shared with the room. */
  readonly id: string;
  readonly name: string;
  readonly room: string;
  /** Proves a resume is the same client: 128 random bits, told to this member only. */
  readonly secret: string;
  /** The id this member had before the server lost its seat, as the member claims it. */
  readonly previous?: string;
}

export const newPeerId = (): string => randomBytes(16).toString('base64url');

/** A new member of `room`, with a fresh id and secret. */
export function createMember(room: string, name: string, previous?: string): Member {
  return { id: newPeerId(), name, room, secret: newPeerId(), ...(previous ? { previous } : {}) };
}

export type JoinResult = { ok: true; peers: MemberInfo[] } | { ok: false };

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
    const admitted: Member = { id: member.id, name: member.name, room: member.room, secret: member.secret };
    members.set(member.id, previous ? { ...admitted, previous } : admitted);
    this.#rooms.set(member.room, members);
    this.#tell({
      type: 'joined',
      room: member.room,
      id: member.id,
      name: member.name,
      ...(previous ? { previous } : {}),
    });
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

function describe({ id, name, previous }: Member): MemberInfo {
  return previous ? { id, name, previous } : { id, name };
}
