import { randomBytes, timingSafeEqual } from 'node:crypto';

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

export type JoinResult = { ok: true; member: Member; peers: Member[] } | { ok: false; code: 'room-full' };

export const newPeerId = (): string => randomBytes(16).toString('base64url');

/** A new member of `room`, with a fresh secret. */
export function createMember(room: string, name: string, previous?: string, id = newPeerId()): Member {
  return { id, name, room, secret: newPeerId(), ...(previous ? { previous } : {}) };
}

/**
 * Who is in which room: pure data, no sockets. Rooms appear on the first join and vanish
 * with their last member.
 */
export class Rooms {
  readonly #capacity: number;
  readonly #newId: () => string;
  readonly #rooms = new Map<string, Map<string, Member>>();
  readonly #members = new Map<string, Member>();

  constructor(capacity = 2, newId: () => string = newPeerId) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`room capacity must be a whole number ≥ 1, not ${capacity}`);
    this.#capacity = capacity;
    this.#newId = newId;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Adds a member, or refuses when the room already holds `capacity` members. */
  join(room: string, name: string, previous?: string): JoinResult {
    const members = this.#rooms.get(room);
    if (members && members.size >= this.#capacity) return { ok: false, code: 'room-full' };
    const peers = members ? [...members.values()] : [];
    const member = createMember(room, name, previous, this.#newId());
    this.admit(member);
    return { ok: true, member, peers };
  }

  /** Adds a member without the capacity check: rooms shared by several servers check it elsewhere. */
  admit(member: Member): void {
    let members = this.#rooms.get(member.room);
    if (!members) {
      members = new Map();
      this.#rooms.set(member.room, members);
    }
    members.set(member.id, member);
    this.#members.set(member.id, member);
  }

  /** Removes a member; returns it and the members still in its room (who must be told). */
  leave(id: string): { member: Member; others: Member[] } | undefined {
    const member = this.#members.get(id);
    if (!member) return undefined;
    this.#members.delete(id);
    const members = this.#rooms.get(member.room);
    members?.delete(id);
    if (members?.size === 0) this.#rooms.delete(member.room);
    return { member, others: members ? [...members.values()] : [] };
  }

  get(id: string): Member | undefined {
    return this.#members.get(id);
  }

  /** The member whose seat `id` is, if `secret` proves it (compared in constant time). */
  claim(id: string, secret: string): Member | undefined {
    const member = this.#members.get(id);
    if (!member) return undefined;
    const given = Buffer.from(secret);
    const expected = Buffer.from(member.secret);
    return given.length === expected.length && timingSafeEqual(given, expected) ? member : undefined;
  }

  /** The members of `room`. */
  membersOf(room: string): Member[] {
    return [...(this.#rooms.get(room)?.values() ?? [])];
  }

  /** The other members of `id`'s room. */
  peersOf(id: string): Member[] {
    const member = this.#members.get(id);
    if (!member) return [];
    return [...(this.#rooms.get(member.room)?.values() ?? [])].filter((m) => m.id !== id);
  }

  /** The recipient of a message from `from` to `to`, only when both are in the same room. */
  route(from: string, to: string): Member | undefined {
    const sender = this.#members.get(from);
    const recipient = this.#members.get(to);
    if (!sender || !recipient || sender.room !== recipient.room || from === to) return undefined;
    return recipient;
  }

  get roomCount(): number {
    return this.#rooms.size;
  }

  get memberCount(): number {
    return this.#members.size;
  }
}
