import { createHash } from 'node:crypto';
import { createClient } from '@redis/client';
import { decodeRoomEvent, encodeSignalEvent, type RoomEvent } from '../protocol.js';
import { redact } from './config.js';
import type { Logger } from './log.js';
import { newPeerId, type JoinResult, type Member, type RoomDirectory, type RoomListener } from './rooms.js';

type RedisClient = ReturnType<typeof newClient>;

function newClient(url: string, connected: () => boolean) {
  return createClient({
    url,
    // Fail now rather than queue: the client is told at once, and nothing stale runs later.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5000,
      // Retry for ever once up; at start, an unreachable Redis is a configuration error.
      reconnectStrategy: (retries, cause) => (connected() ? Math.min(50 * 2 ** retries, 2000) : cause),
    },
  });
}

export interface RedisRoomsOptions {
  url: string;
  capacity: number;
  /** How long a server that stopped refreshing its presence still counts as alive, in ms. */
  presenceTtlMs: number;
  listener: RoomListener;
  logger: Logger;
}

const PREFIX = 'rtc-call:';

// Shared by the scripts below. A room is a hash: member id → {name, server, proof, previous?, lobby?},
// where `proof` is the SHA-256 of the member's secret. A server's presence is a key with a TTL
// that it refreshes; a member whose server's key is gone is a member of a dead server.
const LUA_HELPERS = `
local prefix = '${PREFIX}'
local function alive(server)
  return redis.call('EXISTS', prefix .. 'server:' .. server) == 1
end
local function members(key)
  local list = {}
  local entries = redis.call('HGETALL', key)
  for i = 1, #entries, 2 do
    local member = cjson.decode(entries[i + 1])
    member.id = entries[i]
    list[#list + 1] = member
  end
  return list
end
-- Once to each server with a member in list, and to also.
local function tell(list, event, also)
  local servers = {}
  if also then servers[also] = true end
  for _, member in ipairs(list) do servers[member.server] = true end
  local text = cjson.encode(event)
  for server in pairs(servers) do redis.call('PUBLISH', prefix .. 'events:' .. server, text) end
end
`;

/**
 * KEYS: room hash, this server's set of rooms. ARGV: room, id, name, server, proof, capacity,
 * previous, proof of previous, lobby ('1' or ''). Members of dead servers are dropped first, so they never hold a
 * seat; a re-join that proves it is `previous` takes that member's place.
 */
const JOIN = `${LUA_HELPERS}
local room, id, name, server, proof = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local capacity, previous, previousProof = tonumber(ARGV[6]), ARGV[7], ARGV[8]
local staying, gone = {}, {}
for _, member in ipairs(members(KEYS[1])) do
  if previous ~= '' and member.id == previous and previousProof ~= '' and member.proof == previousProof then
    member.moved = true
    gone[#gone + 1] = member
  elseif not alive(member.server) then
    gone[#gone + 1] = member
  else
    staying[#staying + 1] = member
    -- Someone else's seat: not this client's to claim.
    if member.id == previous then previous = '' end
  end
end
for _, member in ipairs(gone) do
  redis.call('HDEL', KEYS[1], member.id)
  local event = { type = 'left', room = room, id = member.id, name = member.name }
  if member.moved then event.moved = true end
  tell(staying, event, member.server)
end
if #staying >= capacity then return cjson.encode({ ok = false }) end
local record = { name = name, server = server, proof = proof }
local event = { type = 'joined', room = room, id = id, name = name }
if previous ~= '' then
  record.previous = previous
  event.previous = previous
end
if ARGV[9] == '1' then
  record.lobby = true
  event.lobby = true
end
redis.call('HSET', KEYS[1], id, cjson.encode(record))
redis.call('SADD', KEYS[2], room)
tell(staying, event, server)
local peers = {}
for _, member in ipairs(staying) do
  peers[#peers + 1] = { id = member.id, name = member.name, previous = member.previous, lobby = member.lobby }
end
return cjson.encode({ ok = true, peers = peers })
`;

/** KEYS: room hash, this server's set of rooms. ARGV: room, id, server. */
const LEAVE = `${LUA_HELPERS}
local raw = redis.call('HGET', KEYS[1], ARGV[2])
if not raw then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
local rest = members(KEYS[1])
tell(rest, { type = 'left', room = ARGV[1], id = ARGV[2], name = cjson.decode(raw).name })
local mine = false
for _, member in ipairs(rest) do
  if member.server == ARGV[3] then mine = true end
end
if not mine then redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
`;

/** KEYS: room hash. ARGV: recipient id, the event's text. Published only to a member of that room. */
const RELAY = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
redis.call('PUBLISH', '${PREFIX}events:' .. cjson.decode(raw).server, ARGV[2])
return 1
`;

/**
 * KEYS: room hash. ARGV: the event's text, its two member ids. Told to the servers with members
 * in the room, if both still are.
 */
const DECIDE = `${LUA_HELPERS}
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 or redis.call('HEXISTS', KEYS[1], ARGV[3]) == 0 then return 0 end
local servers = {}
for _, member in ipairs(members(KEYS[1])) do servers[member.server] = true end
for server in pairs(servers) do redis.call('PUBLISH', prefix .. 'events:' .. server, ARGV[1]) end
return 1
`;

/** ARGV: a server to forget even if alive (one shutting down), or ''. Drops the members of dead servers. */
const SWEEP = `${LUA_HELPERS}
local swept = 0
for _, server in ipairs(redis.call('SMEMBERS', prefix .. 'servers')) do
  if server == ARGV[1] or not alive(server) then
    local roomsKey = prefix .. 'server:' .. server .. ':rooms'
    for _, room in ipairs(redis.call('SMEMBERS', roomsKey)) do
      local key = prefix .. 'room:' .. room
      local staying, gone = {}, {}
      for _, member in ipairs(members(key)) do
        if member.server == server then gone[#gone + 1] = member else staying[#staying + 1] = member end
      end
      for _, member in ipairs(gone) do
        redis.call('HDEL', key, member.id)
        tell(staying, { type = 'left', room = room, id = member.id, name = member.name })
        swept = swept + 1
      end
    end
    redis.call('DEL', roomsKey)
    redis.call('SREM', prefix .. 'servers', server)
  end
end
return swept
`;

const roomKey = (room: string): string => `${PREFIX}room:${room}`;
const proofOf = (secret: string): string => createHash('sha256').update(secret).digest('base64url');

/**
 * Rooms shared by every server on one Redis: membership and the capacity check there (in Lua
 * scripts, so two joins on two servers at once cannot overfill a room), and each server's events
 * on its own pub/sub channel. The scripts publish the events themselves, so a server hears of
 * each change in the order Redis made them.
 */
export class RedisRooms implements RoomDirectory {
  readonly #client: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #options: RedisRoomsOptions;
  readonly #server = newPeerId();
  /** Our members, by id: their rooms, to check after our presence lapsed. */
  readonly #members = new Map<string, string>();
  /** Leaves Redis did not take (it was unreachable): retried on every heartbeat. */
  readonly #unfinished = new Map<string, string>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #connected = false;
  #reachable = true;
  #beating = false;
  #closed = false;

  private constructor(options: RedisRoomsOptions) {
    this.#options = options;
    this.#client = newClient(options.url, () => this.#connected);
    this.#subscriber = this.#client.duplicate();
    // Without a listener, a lost connection would crash the process.
    this.#client.on('error', (error: Error) => this.#unreachable(error));
    this.#subscriber.on('error', (error: Error) => this.#unreachable(error));
  }

  /** Connects (two connections: commands, and this server's event channel); rejects if Redis is unreachable. */
  static async connect(options: RedisRoomsOptions): Promise<RedisRooms> {
    const rooms = new RedisRooms(options);
    try {
      await rooms.#client.connect();
      await rooms.#subscriber.connect();
      rooms.#connected = true;
      await rooms.#refresh();
      await rooms.#subscriber.subscribe(`${PREFIX}events:${rooms.#server}`, (text) => rooms.#deliver(text));
    } catch (error) {
      rooms.#client.destroy();
      rooms.#subscriber.destroy();
      throw new Error(`cannot reach Redis at ${redact(options.url)}: ${describe(error)}`, { cause: error });
    }
    // Four refreshes per TTL, each also a sweep: a dead server's members go within about one TTL.
    rooms.#heartbeat = setInterval(() => void rooms.#beat(), Math.max(50, Math.floor(options.presenceTtlMs / 4)));
    rooms.#heartbeat.unref();
    return rooms;
  }

  get server(): string {
    return this.#server;
  }

  get capacity(): number {
    return this.#options.capacity;
  }

  /**
   * Adds `member` if its room has a seat. `claimed` is the secret of `member.previous`, as the
   * client gave it: with it, the member takes the place of its previous seat wherever that is.
   * Resolves before or after this server's own `joined` event arrives.
   */
  async join(member: Member, claimed?: string): Promise<JoinResult> {
    const reply = await this.#client.eval(JOIN, {
      keys: [roomKey(member.room), this.#roomsKey],
      arguments: [
        member.room,
        member.id,
        member.name,
        this.#server,
        proofOf(member.secret),
        String(this.#options.capacity),
        member.previous ?? '',
        member.previous && claimed ? proofOf(claimed) : '',
        member.lobby ? '1' : '',
      ],
    });
    const result = parseJoinReply(reply);
    if (result.ok) this.#members.set(member.id, member.room);
    return result;
  }

  /** Whether Redis still has `member` on this server. */
  async holds(member: Member): Promise<boolean> {
    const raw = await this.#client.hGet(roomKey(member.room), member.id);
    if (typeof raw !== 'string') return false;
    const record: unknown = JSON.parse(raw);
    return typeof record === 'object' && record !== null && 'server' in record && record.server === this.#server;
  }

  /** Sends a signal to `to` on whichever server holds it, if it is in `room`. */
  async relay(room: string, from: string, to: string, text: string): Promise<void> {
    if (from === to) return;
    await this.#client.eval(RELAY, { keys: [roomKey(room)], arguments: [to, encodeSignalEvent(room, from, to, text)] });
  }

  /** Tells the room's servers that `by` admitted or declined `id`, if both are in `room`. */
  async decide(room: string, by: string, id: string, admitted: boolean): Promise<void> {
    if (by === id) return;
    const event = { type: admitted ? 'admitted' : 'declined', room, by, id } satisfies RoomEvent;
    await this.#client.eval(DECIDE, { keys: [roomKey(room)], arguments: [JSON.stringify(event), by, id] });
  }

  /** Removes a member; never rejects: if Redis cannot be reached, it is retried until it can. */
  async leave(room: string, id: string): Promise<void> {
    this.#members.delete(id);
    if (this.#closed) return;
    try {
      await this.#client.eval(LEAVE, { keys: [roomKey(room), this.#roomsKey], arguments: [room, id, this.#server] });
      this.#unfinished.delete(id);
    } catch (error) {
      // Until then the member holds a seat that no sweep frees: this server is alive.
      this.#unfinished.set(id, room);
      this.#unreachable(error);
    }
  }

  /** Removes this server's members at once (their rooms hear `peer-left`) and disconnects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    try {
      await this.#client.del(this.#presenceKey);
      await this.#client.eval(SWEEP, { arguments: [this.#server] });
    } catch (error) {
      this.#options.logger.warn({ error: describe(error) }, "could not remove this server's members from Redis");
    }
    this.#client.destroy();
    this.#subscriber.destroy();
  }

  get #presenceKey(): string {
    return `${PREFIX}server:${this.#server}`;
  }

  get #roomsKey(): string {
    return `${this.#presenceKey}:rooms`;
  }

  /** Refreshes our presence; resolves whether it had lapsed (others may have dropped our members). */
  async #refresh(): Promise<boolean> {
    const before = await this.#client.set(this.#presenceKey, '1', {
      expiration: { type: 'PX', value: this.#options.presenceTtlMs },
      GET: true,
    });
    await this.#client.sAdd(`${PREFIX}servers`, this.#server);
    return before === null;
  }

  async #beat(): Promise<void> {
    // A slow Redis must not pile heartbeats up.
    if (this.#beating) return;
    this.#beating = true;
    try {
      if (await this.#refresh()) await this.#recheck();
      for (const [id, room] of this.#unfinished) await this.leave(room, id);
      await this.#client.eval(SWEEP, { arguments: [''] });
      if (!this.#reachable) this.#options.logger.info({ redis: redact(this.#options.url) }, 'Redis reachable again');
      this.#reachable = true;
    } catch (error) {
      this.#unreachable(error);
    } finally {
      this.#beating = false;
    }
  }

  /** After a lapse: which of our members are still there. */
  async #recheck(): Promise<void> {
    const lost: string[] = [];
    for (const [id, room] of this.#members) {
      if (!(await this.#client.hExists(roomKey(room), id))) lost.push(id);
    }
    for (const id of lost) this.#members.delete(id);
    if (lost.length > 0) this.#options.listener.onLost(lost);
  }

  #deliver(text: string): void {
    let event;
    try {
      event = decodeRoomEvent(text);
    } catch (error) {
      this.#options.logger.warn({ error: describe(error) }, 'ignoring a Redis event that is not one');
      return;
    }
    if (event.type === 'left' && this.#members.delete(event.id)) this.#unfinished.delete(event.id);
    this.#options.listener.onEvent(event);
  }

  /** One line per outage, not one per retry. */
  #unreachable(error: unknown): void {
    if (this.#closed || !this.#reachable) return;
    this.#reachable = false;
    this.#options.logger.error(
      { redis: redact(this.#options.url), error: describe(error) },
      'Redis unreachable: joins and relays across servers fail until it is back; retrying',
    );
  }
}

function parseJoinReply(reply: unknown): JoinResult {
  const parsed: unknown = typeof reply === 'string' ? JSON.parse(reply) : undefined;
  if (!isRecord(parsed) || typeof parsed['ok'] !== 'boolean') throw new Error(`unexpected join reply ${String(reply)}`);
  if (!parsed['ok']) return { ok: false };
  // Lua's cjson writes an empty list as {}.
  const peers = Array.isArray(parsed['peers']) ? parsed['peers'] : [];
  return {
    ok: true,
    peers: peers.filter(isRecord).map(({ id, name, previous, lobby }) => ({
      id: String(id),
      name: String(name),
      ...(typeof previous === 'string' ? { previous } : {}),
      ...(lobby === true ? { lobby: true } : {}),
    })),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
