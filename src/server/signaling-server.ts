import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { BlockList } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  LIMITS,
  gate,
  parseClientMessage,
  pongText,
  relayedSignalText,
  type IceServer,
  type JoinMessage,
  type MemberInfo,
  type RoomEvent,
  type ServerErrorCode,
  type ServerMessage,
} from '../protocol.js';
import { TOKEN_REFUSALS, turnCredentials, verifyJoinToken } from './auth.js';
import { requestHost } from './http.js';
import {
  Addresses,
  CLOSES,
  DEFAULT_LIMITS,
  clientAddress,
  trustedProxies,
  type AddressEntry,
  type LimitName,
  type Limits,
} from './limits.js';
import { SILENT, Throttle, type LogLevel, type Logger } from './log.js';
import { TokenBucket, checkRateLimit } from './rate-limit.js';
import { ReplayBuffer, type ReplayTotal } from './replay.js';
import {
  LocalRooms,
  createMember,
  idOf,
  sameSecret,
  type Member,
  type RoomDirectory,
  type RoomListener,
  type RoomPeer,
} from './rooms.js';

export interface SignalingOptions extends Partial<Limits> {
  /** Peers per room (default 2). */
  capacity?: number;
  /**
   * ICE servers handed to each peer when it joins and again when it resumes, given the host the
   * client reached us by (its `Host` header, without the port) and `until`, the Unix time (s)
   * past which the seat's relay access must not last (see `turn`).
   */
  iceServers?: (peerId: string, client: { host: string | undefined; until: number }) => IceServer[];
  /**
   * coturn's `use-auth-secret` secret and TURN URLs: each peer is handed credentials when it
   * joins and fresh ones when it resumes, valid `ttlSeconds` (default 3600), but never past its
   * seat's relay deadline: its join token's expiry (with `joinSecret`), and at most
   * `turnMaxSeconds` after the seat was first taken, however often it resumes.
   */
  turn?: { secret: string; urls: string[]; ttlSeconds?: number };
  /** The longest a seat has relay access, from its join, in seconds (default 43200: 12 hours). */
  turnMaxSeconds?: number;
  /**
   * How long someone knocking in a lobby waits to be let in before the server turns them away
   * (`declined`), in ms (default 120000).
   */
  knockTimeoutMs?: number;
  /**
   * When set, a fresh join needs a token for its room signed with this secret (auth.ts), else
   * `unauthorized`. A resume needs only the seat's own secret, so an expired token keeps its seat.
   */
  joinSecret?: string;
  /** Where the server logs (pino's shape); default: nowhere. */
  logger?: Logger;
  /**
   * The heartbeat's interval, in ms (default 4000; 0: none). Any frame from a socket (a message,
   * a pong) shows it is alive, and clients send one every interval; only one that sent nothing for
   * longer is pinged, and if that goes unanswered (a frozen or vanished peer: its TCP connection
   * may look open for minutes) it is cut off: its room hears `peer-left` within two intervals of
   * its last frame. The sockets are looked at a slice at a time, never all in one go.
   */
  heartbeatMs?: number;
  /**
   * Bytes queued for one socket beyond which it is cut off (default 1 MiB): a client that stopped
   * reading must not grow the server's memory with everything its peers send it.
   */
  maxBufferedBytes?: number;
  /**
   * How long a seat whose socket closed is held for its client to resume it (default 20000 ms):
   * same peer id, nothing missed, and the room hears nothing. A socket cut off by the heartbeat
   * (a frozen client) or by a limit loses its seat at once, so its room knows.
   */
  resumeGraceMs?: number;
  /**
   * Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client, for the
   * per-address limits and the logs. Unset: the socket's peer is the client.
   */
  trustProxy?: readonly string[];
  /**
   * A Redis URL (`redis://host:6379`): rooms then span every server that shares it. Membership
   * and the capacity check live there, and relayed messages cross between servers; resuming a
   * seat works on the server that holds it. Unset: rooms are this process's alone, and Redis is
   * never loaded. `startServer()` resolves once Redis is reached, and rejects if it cannot be.
   */
  redisUrl?: string;
  /**
   * How long a server that stopped refreshing its presence in Redis still counts as alive, in ms
   * (default 10000). Then its members are dropped and their rooms hear `peer-left`.
   */
  redisPresenceTtlMs?: number;
}

const DEFAULTS = {
  heartbeatMs: 4000,
  turnMaxSeconds: 12 * 3600,
  knockTimeoutMs: 120_000,
  resumeGraceMs: 20000,
  maxBufferedBytes: 1024 * 1024,
  redisPresenceTtlMs: 10_000,
} as const;

/** How many times per heartbeat interval every socket is looked at (at least once a second). */
const ROUNDS = 4;

/** The sweep looks at a slice of the sockets this often, at most, in ms. */
const TICK_MS = 100;

/** Addresses and held-back log lines are tidied this often, in ms. */
const TIDY_MS = 10_000;

/** How long close() waits for clients to answer its close frame before it cuts them off, in ms. */
const CLOSE_GRACE_MS = 5000;
/**
 * On shutdown with rooms in Redis, how long the seats of clients told to reconnect wait for them
 * to re-join on another server, in ms: the element's first three retries come within 1.75 s, and
 * a load balancer may send one back to this server (answering 503) before it learns.
 */
export const HANDOFF_MS = 3000;

/** How long a join the directory admitted waits for its own `joined` event to come round, in ms. */
const ADMIT_TIMEOUT_MS = 5000;

const ignore = (): void => {};

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A member of the seat's room on the other side of the lobby (protocol.ts `gate`). */
interface Waiting {
  peer: MemberInfo;
  /** `gate`: it knocks at this seat; `knock`: this seat knocks at it. */
  role: 'gate' | 'knock';
  /** The seat's role towards it, once let in. */
  polite: boolean;
}

/** A member's place on this server: its connection while connected, what it was sent, what it sent. */
interface Seat {
  /** Replaced once, when the directory says which `previous` it kept. */
  member: Member;
  connection: Connection | undefined;
  readonly replay: ReplayBuffer;
  /** The highest `seq` of the member's own signals handled, so a re-sent one is not relayed twice. */
  received: number;
  /** Its own `joined` event came round: from then on, its room's events are its own too. */
  admitted: boolean;
  onAdmitted?: (() => void) | undefined;
  graceTimer?: ReturnType<typeof setTimeout> | undefined;
  /** Members of its room it is not let in with yet, by id: nothing passes between them. */
  readonly lobby: Map<string, Waiting>;
  /** While it knocks: when it is turned away. */
  knockTimer?: ReturnType<typeof setTimeout> | undefined;
  /** Unix time (s) past which no relay credential it is handed is valid. */
  readonly relayUntil: number;
}

/** One socket's state, as `ws` keeps a socket's own in its instance. */
class Connection {
  readonly socket: WebSocket;
  readonly address: AddressEntry;
  /** The host the client reached us by, for the ICE servers it is handed. */
  readonly host: string | undefined;
  readonly messages: TokenBucket;
  seat: Seat | undefined;
  /** The sweep's clock when the socket's last frame came. */
  heard: number;
  /** The clock when it was pinged and had not answered yet, else -1. */
  pinged = -1;
  /** Since when it has held no seat (the clock), or since it took the one it has. */
  since: number;
  /** Cut off by the heartbeat or a limit: its seat is not held for a resume. */
  cut = false;
  /** Set while a task that had to wait (for Redis) runs: later ones queue behind it. */
  #tail: Promise<void> | undefined;

  constructor(socket: WebSocket, address: AddressEntry, host: string | undefined, now: number, limits: Limits) {
    this.socket = socket;
    this.address = address;
    this.host = host;
    this.messages = new TokenBucket(limits.messageRate);
    this.heard = now;
    this.since = now;
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /**
   * Runs the socket's tasks (its messages, then its close) in the order they came: at once while
   * none is waiting, else once the one before has settled.
   */
  run(task: () => void | Promise<void>, failed: (error: unknown) => void): void {
    if (this.#tail) {
      this.#chain(this.#tail.then(task), failed);
      return;
    }
    let result: void | Promise<void>;
    try {
      result = task();
    } catch (error) {
      failed(error);
      return;
    }
    if (result) this.#chain(result, failed);
  }

  #chain(promise: Promise<void>, failed: (error: unknown) => void): void {
    const link: Promise<void> = promise.catch(failed).then(() => {
      if (this.#tail === link) this.#tail = undefined;
    });
    this.#tail = link;
  }
}

/** A room, in logs: a short hash, since a room's name is what lets people into it. */
const roomTag = (room: string): string => createHash('sha256').update(room).digest('base64url').slice(0, 10);

/**
 * The WebSocket side of the server: thin wiring between sockets and one room directory (local
 * rooms, or rooms shared through Redis), which tells it what happens in the rooms of its members.
 * Parse (protocol.ts) → limits → directory → events → relay to the members here.
 */
export class SignalingServer implements RoomListener {
  readonly #wss: WebSocketServer;
  readonly #options: SignalingOptions;
  readonly #limits: Limits;
  readonly #logger: Logger;
  readonly #throttle: Throttle;
  readonly #proxies: BlockList | undefined;
  readonly #addresses: Addresses;
  readonly #maxBufferedBytes: number;
  readonly #graceMs: number;
  /** Seats on this server, by member id, and by room (for the room's events). */
  readonly #seats = new Map<string, Seat>();
  readonly #here = new Map<string, Set<Seat>>();
  readonly #replayTotal: ReplayTotal = { bytes: 0 };
  readonly #connections = new Set<Connection>();
  /** Where the sweep's current round has got to in #connections. */
  #round: Iterator<Connection> | undefined;
  /** The sweep's clock (ms), read once per slice: stamping a frame with it costs nothing. */
  #clock = performance.now();
  #tidied = this.#clock;
  readonly #heartbeatMs: number;
  readonly #roundMs: number;
  readonly #sweep: ReturnType<typeof setInterval>;
  #directory: RoomDirectory | undefined;
  readonly #local: LocalRooms | undefined;
  /** Set while rooms are shared through Redis: connecting, then connected. */
  readonly #sharing: Promise<void> | undefined;
  readonly #capacity: number;

  constructor(options: SignalingOptions = {}) {
    this.#options = options;
    this.#limits = {
      ...DEFAULT_LIMITS,
      ...Object.fromEntries(
        Object.entries(options).filter(([key, value]) => key in DEFAULT_LIMITS && value !== undefined),
      ),
    };
    checkRateLimit(this.#limits.messageRate, 'messageRate');
    checkRateLimit(this.#limits.joinRate, 'joinRate');
    for (const key of [
      'connectionsPerAddress',
      'maxConnections',
      'joinTimeoutMs',
      'confirmTimeoutMs',
      'replayTotalBytes',
    ] as const) {
      if (!(this.#limits[key] >= 1)) throw new RangeError(`${key} must be ≥ 1, not ${this.#limits[key]}`);
    }
    this.#logger = options.logger ?? SILENT;
    this.#throttle = new Throttle(this.#logger);
    this.#proxies = options.trustProxy?.length ? trustedProxies(options.trustProxy) : undefined;
    this.#addresses = new Addresses(this.#limits);
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes;
    this.#graceMs = options.resumeGraceMs ?? DEFAULTS.resumeGraceMs;
    this.#capacity = options.capacity ?? 2;
    // A bigger frame closes its socket with 1009 before any of it is buffered.
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.message });
    const heartbeatMs = options.heartbeatMs ?? DEFAULTS.heartbeatMs;
    this.#heartbeatMs = heartbeatMs > 0 ? heartbeatMs : 0;
    this.#roundMs = Math.min(1000, (this.#heartbeatMs || DEFAULTS.heartbeatMs) / ROUNDS);
    const tickMs = Math.min(TICK_MS, this.#roundMs);
    this.#sweep = setInterval(() => this.#tick(tickMs), tickMs);
    // The sweep alone must not keep the process alive.
    this.#sweep.unref();
    if (options.redisUrl) {
      this.#sharing = this.#connectRedis(options.redisUrl);
    } else {
      this.#local = new LocalRooms(this.#capacity);
      this.#local.listen(this);
      this.#directory = this.#local;
    }
  }

  /** Resolves once the server can take joins: at once, or once Redis is reached (rejects if not). */
  async ready(): Promise<void> {
    await this.#sharing;
  }

  #connectRedis(url: string): Promise<void> {
    const connecting = import('./redis-rooms.js').then(async ({ RedisRooms }) => {
      this.#directory = await RedisRooms.connect({
        url,
        capacity: this.#capacity,
        presenceTtlMs: this.#options.redisPresenceTtlMs ?? DEFAULTS.redisPresenceTtlMs,
        listener: this,
        logger: this.#logger,
      });
    });
    // ready() reports a failure; unobserved, it would end the process as an unhandled rejection.
    connecting.catch(() => {});
    return connecting;
  }

  /** Logs a line at most once a minute per key (see Throttle): for what a client can repeat. */
  note(level: LogLevel, key: string, fields: object, message: string): void {
    this.#throttle.log(level, key, fields, message);
  }

  /** The client's address for `request`: the socket's peer, or what a trusted proxy says. */
  clientAddress(request: IncomingMessage): string {
    return clientAddress(request, this.#proxies);
  }

  /** Completes a WebSocket upgrade on `/signal` (call from the HTTP server's `upgrade` event). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const address = this.clientAddress(request);
    const host = requestHost(request);
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, address, host));
  }

  /**
   * Closes every socket (clients see `code`; 1012 "service restart" tells them to reconnect,
   * elsewhere if need be) and stops accepting. Resolves once every socket is closed; one that does
   * not answer the close handshake within a few seconds is cut off.
   */
  close(code = 1001, reason = 'server shutting down'): Promise<void> {
    clearInterval(this.#sweep);
    for (const seat of this.#seats.values()) clearTimeout(seat.graceTimer);
    for (const socket of this.#wss.clients) socket.close(code, reason);
    const stragglers = setTimeout(() => {
      for (const socket of this.#wss.clients) socket.terminate();
    }, CLOSE_GRACE_MS);
    stragglers.unref();
    const closed = new Promise<void>((resolve) =>
      this.#wss.close(() => {
        clearTimeout(stragglers);
        resolve();
      }),
    );
    // Once the sockets are gone, clients told to go elsewhere take their seats on another server
    // (a re-join naming their old id, which moves the seat: their peers carry on). Those that have
    // not within HANDOFF_MS leave Redis then, rather than when the TTL runs out.
    return closed.then(async () => {
      await this.#sharing?.catch(() => {});
      if (this.#sharing) {
        const until = Date.now() + HANDOFF_MS;
        while (this.#seats.size > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await this.#directory?.close();
    });
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Members seated on this server. */
  get memberCount(): number {
    return this.#seats.size;
  }

  /** Rooms with members seated on this server. */
  get roomCount(): number {
    return this.#here.size;
  }

  /** A member seated on this server. */
  member(id: string): Member | undefined {
    return this.#seats.get(id)?.member;
  }

  /** Characters of replay text held for every seat together. */
  get replayBytes(): number {
    return this.#replayTotal.bytes;
  }

  // --- Sockets ---------------------------------------------------------------------------------

  #accept(socket: WebSocket, address: string, host: string | undefined): void {
    // An 'error' without a handler would crash the process: attach it first. `ws` then closes
    // the socket itself, with the code that says why (1009 too big, 1007 not UTF-8); terminating
    // here would cut that close frame off.
    socket.on('error', ignore);
    if (this.#connections.size >= this.#limits.maxConnections) return this.#refuse(socket, address, 'maxConnections');
    const entry = this.#addresses.open(address);
    if (!entry) return this.#refuse(socket, address, 'connectionsPerAddress');
    const connection = new Connection(socket, entry, host, this.#clock, this.#limits);
    this.#connections.add(connection);
    const failed = (error: unknown): void => this.#failed(connection, error);
    socket.on('close', () => {
      this.#connections.delete(connection);
      this.#addresses.close(entry);
      connection.run(() => this.#disconnected(connection), failed);
    });
    // Browsers answer pings by themselves, even where the page cannot see them.
    socket.on('pong', () => (connection.heard = this.#clock));
    socket.on('message', (data: RawData, isBinary: boolean) => {
      // Any frame shows the socket is alive: no need to ping it.
      connection.heard = this.#clock;
      // After we closed it (a limit), whatever the client still sends is not read.
      if (!connection.open) return;
      if (!connection.messages.take()) return this.#cut(connection, 'messageRate');
      connection.run(() => this.#message(connection, data, isBinary), failed);
    });
  }

  /** Closes a socket for a limit before it holds anything: the close says which. */
  #refuse(socket: WebSocket, address: string, limit: LimitName): void {
    this.note('warn', `limit:${limit}:${address}`, { address, limit }, 'connection refused: over a limit');
    const { code, reason } = CLOSES[limit];
    socket.close(code, reason);
  }

  /** Closes a connection for a limit; its seat, if any, is not held for a resume. */
  #cut(connection: Connection, limit: LimitName): void {
    const { address } = connection.address;
    this.note('warn', `limit:${limit}:${address}`, { address, limit }, 'connection closed: over a limit');
    connection.cut = true;
    const { code, reason } = CLOSES[limit];
    connection.socket.close(code, reason);
    // Its close handshake may never finish: the seat goes now.
    const seat = connection.seat;
    if (seat) void this.#leave(seat);
  }

  #message(connection: Connection, data: RawData, isBinary: boolean): void | Promise<void> {
    if (isBinary) return this.#error(connection, 'protocol', 'binary frames are not accepted: send JSON text');
    const text = data.toString();
    const parsed = parseClientMessage(text);
    if (!parsed.ok) return this.#error(connection, 'protocol', parsed.error);
    const message = parsed.message;
    const seat = connection.seat;
    switch (message.type) {
      case 'signal': {
        if (!seat) return this.#error(connection, 'protocol', 'join a room before signaling');
        if (message.seq !== undefined) {
          // Re-sent after a resume: already relayed once.
          if (message.seq <= seat.received) return;
          seat.received = message.seq;
        }
        const { room } = seat.member;
        // Nothing crosses the lobby, either way.
        if (seat.lobby.has(message.to)) return;
        const to = this.#seats.get(message.to);
        // A member here: straight to it, if it is in the sender's room (else dropped: it may have
        // left a moment ago, and the sender hears `peer-left`). Otherwise, the directory knows.
        if (to) {
          if (to !== seat && to.admitted && to.member.room === room && !to.lobby.has(seat.member.id))
            this.#relaySignal(to, seat.member.id, text);
          return;
        }
        return this.#directory!.relay(room, seat.member.id, message.to, text);
      }
      case 'ping':
        if (!seat) return this.#send(connection, pongText());
        if (message.received !== undefined) seat.replay.confirm(message.received);
        return this.#send(connection, pongText(seat.received));
      case 'join':
        return this.#join(connection, message);
      case 'admit':
      case 'decline': {
        // Only for someone knocking at this seat; an answer to one who has gone is no error.
        if (seat?.lobby.get(message.id)?.role !== 'gate') return;
        return this.#directory!.decide(seat.member.room, seat.member.id, message.id, message.type === 'admit');
      }
      case 'leave':
        if (!seat) return;
        connection.seat = undefined;
        connection.since = this.#clock;
        return this.#leave(seat);
    }
  }

  /** A bug, or Redis out of reach, must cost one message, not the process and every call on it. */
  #failed(connection: Connection, error: unknown): void {
    const { address } = connection.address;
    const reason = error instanceof Error ? error.message : String(error);
    this.note('error', 'failed', { address, error: reason }, 'a message could not be handled');
    this.#logger.debug({ address, error: error instanceof Error ? error.stack : reason }, 'handler failure');
    this.#error(connection, 'protocol', 'the server could not handle that message');
  }

  // --- Joining and leaving ---------------------------------------------------------------------

  /** A fresh join, or a resume of a seat held here; the directory does the room's part. */
  async #join(connection: Connection, message: JoinMessage): Promise<void> {
    const { address } = connection.address;
    // Counted before anything else, so failed joins (room-full, already joined) count too.
    if (!connection.address.joins.take()) {
      const wait = Math.ceil(connection.address.joins.waitMs() / 1000);
      this.#error(connection, 'rate-limited', `too many joins from your address: try again in ${wait} s`);
      return this.#cut(connection, 'joinRate');
    }
    if (connection.seat) return this.#error(connection, 'protocol', 'already joined a room: leave first');
    await this.#sharing;
    const directory = this.#directory!;
    let previous: string | undefined;
    let claimed: string | undefined;
    if (message.resume) {
      const { id, secret, received } = message.resume;
      const seat = this.#seats.get(id);
      if (seat && sameSecret(secret, seat.member.secret)) {
        const missed = seat.member.room === message.room ? seat.replay.since(received) : undefined;
        // The directory may have let the seat go while this server looked dead: then it is lost.
        const held = missed !== undefined && (this.#local ? true : await directory.holds(seat.member));
        if (!connection.open) return;
        if (held && this.#seats.get(id) === seat) return this.#resume(connection, seat, missed!);
        // The seat is gone (the client was away too long): join afresh; the room hears it left.
        if (this.#seats.get(id) === seat) await this.#leave(seat);
      } else if (!seat && idOf(secret) === id) {
        // Held on another server, or on one that died or restarted: the secret proves the id was
        // this client's, so the directory lets it take that seat back, or tells the room who this
        // was, so calls can carry on. Anyone else's claim is a plain join.
        previous = id;
        claimed = secret;
      }
    }
    const authorized = this.#authorize(connection, message);
    if (!authorized) return;
    const member = createMember(message.room, authorized.name, { previous, lobby: message.lobby });
    const seat = this.#seat(member, authorized.expires);
    const admission = new Promise<void>((resolve) => (seat.onAdmitted = resolve));
    let peers: RoomPeer[];
    try {
      const result = await directory.join(member, claimed);
      if (!result.ok) {
        this.#forget(seat);
        this.note('info', `room-full:${address}`, { address, room: roomTag(member.room) }, 'join refused: room full');
        return this.#error(connection, 'room-full', `room is full (${this.#capacity} peers)`);
      }
      peers = result.peers;
      // Everything relayed to the seat from then on is in its replay buffer already.
      if (!seat.admitted) await withTimeout(admission, ADMIT_TIMEOUT_MS, "the join's own event");
    } catch (error) {
      if (this.#seats.get(member.id) === seat) await this.#leave(seat);
      throw error;
    }
    if (this.#seats.get(member.id) !== seat) throw new Error('the seat was lost while joining');
    if (!connection.open) return this.#leave(seat);
    this.#logger.debug({ address, room: roomTag(member.room), id: member.id }, 'joined');
    // Those on the other side of the lobby are not named to it: they knock, or it does.
    const open: MemberInfo[] = [];
    for (const { lobby, ...peer } of peers) {
      const role = gate({ lobby: member.lobby === true }, { lobby: lobby === true }, false);
      if (role === 'open') open.push(peer);
      else this.#hold(seat, peer, role, false);
    }
    this.#take(connection, seat);
    this.#send(connection, {
      type: 'joined',
      room: member.room,
      id: member.id,
      peers: open,
      polite: false,
      iceServers: this.#iceServers(connection, seat),
      secret: member.secret,
    });
    for (const text of seat.replay.since(0) ?? []) this.#sendText(connection, text);
  }

  /**
   * The name to join under and the token's expiry, or undefined when the token is refused (the
   * client is told). Before the room is looked at, so a refused client learns nothing about it.
   */
  #authorize(connection: Connection, message: JoinMessage): { name: string; expires?: number } | undefined {
    if (!this.#options.joinSecret) return { name: message.name ?? '' };
    const check = verifyJoinToken(this.#options.joinSecret, message.token, message.room);
    if (!check.ok) {
      const { address } = connection.address;
      this.note('warn', `token:${address}`, { address, reason: check.reason }, 'join refused: token');
      this.#error(connection, 'unauthorized', TOKEN_REFUSALS[check.reason]);
      return undefined;
    }
    return { name: check.claims.name ?? message.name ?? '', expires: check.claims.expires };
  }

  /** The seat's ICE servers: TURN credentials valid until its relay deadline at the latest, and none past it. */
  #iceServers(connection: Connection, seat: Seat): IceServer[] {
    const { id } = seat.member;
    const until = seat.relayUntil;
    const servers = this.#options.iceServers?.(id, { host: connection.host, until }) ?? [];
    const turn = this.#options.turn;
    const left = until - nowSeconds();
    if (!turn || left <= 0) return servers;
    const ttlSeconds = Math.min(turn.ttlSeconds ?? 3600, left);
    return [...servers, turnCredentials(turn.secret, turn.urls, id, { ttlSeconds })];
  }

  /** A seat here for a member being admitted: its room's events reach it once admitted. */
  #seat(member: Member, tokenExpires?: number): Seat {
    const relayUntil = nowSeconds() + (this.#options.turnMaxSeconds ?? DEFAULTS.turnMaxSeconds);
    const seat: Seat = {
      member,
      connection: undefined,
      replay: new ReplayBuffer(undefined, this.#replayTotal),
      received: 0,
      admitted: false,
      lobby: new Map(),
      relayUntil: tokenExpires === undefined ? relayUntil : Math.min(relayUntil, tokenExpires),
    };
    this.#seats.set(member.id, seat);
    let here = this.#here.get(member.room);
    if (!here) this.#here.set(member.room, (here = new Set()));
    here.add(seat);
    return seat;
  }

  /** The connection takes the seat (a join, or a resume). */
  #take(connection: Connection, seat: Seat): void {
    clearTimeout(seat.graceTimer);
    seat.graceTimer = undefined;
    seat.connection = connection;
    connection.seat = seat;
    connection.since = this.#clock;
  }

  /** The seat is no longer here: gone from the maps, its replay freed. */
  #forget(seat: Seat): void {
    clearTimeout(seat.graceTimer);
    clearTimeout(seat.knockTimer);
    if (this.#seats.get(seat.member.id) === seat) this.#seats.delete(seat.member.id);
    const here = this.#here.get(seat.member.room);
    here?.delete(seat);
    if (here?.size === 0) this.#here.delete(seat.member.room);
    seat.replay.clear();
    if (seat.connection?.seat === seat) seat.connection.seat = undefined;
  }

  /** The member leaves (hung up, gone too long, or cut): the directory tells its room. */
  #leave(seat: Seat): void | Promise<void> {
    this.#forget(seat);
    if (this.#local) return this.#local.leaveNow(seat.member.room, seat.member.id);
    return this.#directory!.leave(seat.member.room, seat.member.id);
  }

  /** A seat the directory no longer has: gone here too, and its client told to reconnect (it re-joins). */
  #drop(seat: Seat): void {
    const connection = seat.connection;
    this.#forget(seat);
    connection?.socket.close(1012, 'seat lost');
  }

  /** The client is back on a new socket: same seat, and what it missed, in order. */
  #resume(connection: Connection, seat: Seat, missed: string[]): void {
    const old = seat.connection;
    // Taken first: the old socket's close then finds the seat taken and does nothing.
    this.#take(connection, seat);
    if (old) {
      old.seat = undefined;
      old.socket.terminate();
    }
    this.#send(connection, {
      type: 'resumed',
      id: seat.member.id,
      received: seat.received,
      iceServers: this.#iceServers(connection, seat),
    });
    for (const text of missed) this.#sendText(connection, text);
  }

  /** A socket closed: hold its seat for a resume, unless it was cut or left. */
  #disconnected(connection: Connection): void | Promise<void> {
    const seat = connection.seat;
    connection.seat = undefined;
    if (!seat || seat.connection !== connection) return;
    seat.connection = undefined;
    if (connection.cut || this.#graceMs <= 0) return this.#leave(seat);
    seat.graceTimer = setTimeout(() => {
      if (this.#seats.get(seat.member.id) === seat && !seat.connection) void this.#leave(seat);
    }, this.#graceMs);
    seat.graceTimer.unref();
  }

  // --- The lobby -------------------------------------------------------------------------------

  /** `peer` and the seat are on two sides of the lobby: it knocks at the seat (`gate`), or the seat at it. */
  #hold(seat: Seat, peer: MemberInfo, role: 'gate' | 'knock', polite: boolean): void {
    seat.lobby.set(peer.id, { peer, role, polite });
    if (role === 'gate') return this.#relay(seat, { type: 'knock', id: peer.id, name: peer.name });
    this.#relay(seat, { type: 'knocking' });
    if (seat.knockTimer) return;
    const timeoutMs = this.#options.knockTimeoutMs ?? DEFAULTS.knockTimeoutMs;
    seat.knockTimer = setTimeout(() => {
      if (this.#seats.get(seat.member.id) !== seat) return;
      void this.#turnAway(seat, `nobody let you in within ${Math.round(timeoutMs / 1000)} s`);
    }, timeoutMs);
    seat.knockTimer.unref();
  }

  /** The seat knocked and is not let in: it is told why, and leaves the room. */
  #turnAway(seat: Seat, reason: string): void | Promise<void> {
    const connection = seat.connection;
    if (connection) {
      this.#error(connection, 'declined', reason);
      connection.since = this.#clock;
    }
    return this.#leave(seat);
  }

  /** The lobby's answer, as the directory tells it: both sides hear, if here. */
  #decided(event: Extract<RoomEvent, { type: 'admitted' | 'declined' }>): void | Promise<void> {
    const gatekeeper = this.#seats.get(event.by);
    const waiting = gatekeeper?.admitted && gatekeeper.member.room === event.room && gatekeeper.lobby.get(event.id);
    // Declined: the gate hears `peer-left` once the other has gone.
    if (waiting && waiting.role === 'gate' && event.type === 'admitted') {
      gatekeeper.lobby.delete(event.id);
      this.#relay(gatekeeper, { type: 'peer-joined', ...waiting.peer, polite: waiting.polite });
    }
    const knocker = this.#seats.get(event.id);
    const asked = knocker?.admitted && knocker.member.room === event.room && knocker.lobby.get(event.by);
    if (!knocker || !asked || asked.role !== 'knock') return;
    if (event.type === 'declined') return this.#turnAway(knocker, 'you were not let in');
    knocker.lobby.delete(event.by);
    if (![...knocker.lobby.values()].some((w) => w.role === 'knock')) {
      clearTimeout(knocker.knockTimer);
      knocker.knockTimer = undefined;
    }
    this.#relay(knocker, { type: 'peer-joined', ...asked.peer, polite: asked.polite });
  }

  // --- What the directory tells -----------------------------------------------------------------

  /** What happened in a room with members here, in the order the directory saw it. */
  onEvent(event: RoomEvent): void {
    switch (event.type) {
      case 'signal': {
        const seat = this.#seats.get(event.to);
        if (seat?.admitted && seat.member.room === event.room && !seat.lobby.has(event.from))
          this.#relaySignal(seat, event.from, event.text);
        return;
      }
      case 'admitted':
      case 'declined':
        void this.#decided(event);
        return;
      case 'joined': {
        const own = this.#seats.get(event.id);
        if (own && !own.admitted && own.member.room === event.room) {
          // Our own join: from here on, the room's events are the seat's too. The directory
          // keeps `previous` only if it is no one else's seat.
          own.admitted = true;
          if (event.previous !== own.member.previous) {
            const { id, name, room, secret } = own.member;
            own.member = { id, name, room, secret, ...(event.previous ? { previous: event.previous } : {}) };
          }
          own.onAdmitted?.();
          own.onAdmitted = undefined;
        }
        const peer = { id: event.id, name: event.name, ...(event.previous ? { previous: event.previous } : {}) };
        for (const seat of this.#here.get(event.room) ?? []) {
          if (!seat.admitted || seat.member.id === event.id) continue;
          const role = gate({ lobby: seat.member.lobby === true }, { lobby: event.lobby === true }, true);
          if (role === 'open') this.#relay(seat, { type: 'peer-joined', ...peer, polite: true });
          else this.#hold(seat, peer, role, true);
        }
        return;
      }
      case 'left': {
        // Ours, dropped by the directory (this server looked dead) or taken back elsewhere by its client.
        const own = this.#seats.get(event.id);
        if (own && own.member.room === event.room) this.#drop(own);
        // Its client re-joined elsewhere naming its old id: the peers carry on with it.
        if (event.moved) return;
        const message = { type: 'peer-left', id: event.id, name: event.name } as const;
        for (const seat of this.#here.get(event.room) ?? []) {
          if (!seat.admitted) continue;
          // One it knocked at is gone: it was never told of it. One knocking at it is gone: it was.
          const waiting = seat.lobby.get(event.id);
          seat.lobby.delete(event.id);
          if (waiting?.role !== 'knock') this.#relay(seat, message);
        }
        return;
      }
    }
  }

  onLost(ids: string[]): void {
    for (const id of ids) {
      const seat = this.#seats.get(id);
      if (seat) this.#drop(seat);
    }
  }

  // --- Sending ---------------------------------------------------------------------------------

  /** Relayed messages are numbered and kept, so a member that resumes gets what it missed. */
  #relay(seat: Seat, message: ServerMessage): void {
    this.#relayText(seat, JSON.stringify(message));
  }

  /**
   * A `signal`: the sender's checked message, verbatim, in an envelope stamped with `from` and
   * numbered in front, so the long text is joined once and never cut.
   */
  #relaySignal(seat: Seat, from: string, text: string): void {
    this.#sent(
      seat,
      seat.replay.addMade((seq) => relayedSignalText(from, text, seq)),
    );
  }

  #relayText(seat: Seat, json: string): void {
    this.#sent(seat, seat.replay.addJson(json));
  }

  /** A numbered message kept for the seat: sent now if it is connected. */
  #sent(seat: Seat, text: string): void {
    if (this.#replayTotal.bytes > this.#limits.replayTotalBytes) this.#shed();
    if (seat.connection) this.#sendText(seat.connection, text);
  }

  /** Replay memory is full: the seats holding most lose their seats until it is not. */
  #shed(): void {
    while (this.#replayTotal.bytes > this.#limits.replayTotalBytes) {
      let biggest: Seat | undefined;
      for (const seat of this.#seats.values()) {
        if (!biggest || seat.replay.length > biggest.replay.length) biggest = seat;
      }
      if (!biggest || biggest.replay.length === 0) return;
      if (biggest.connection) this.#cut(biggest.connection, 'replayTotal');
      else void this.#leave(biggest);
    }
  }

  #error(connection: Connection, code: ServerErrorCode, message: string): void {
    this.#send(connection, { type: 'error', code, message });
  }

  #send(connection: Connection, message: ServerMessage | string): void {
    this.#sendText(connection, typeof message === 'string' ? message : JSON.stringify(message));
  }

  #sendText(connection: Connection, text: string): void {
    const { socket } = connection;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > this.#maxBufferedBytes) {
      // It stopped reading: cut it off rather than queue more. Its seat goes with it.
      this.#cut(connection, 'unread');
      socket.terminate();
      return;
    }
    socket.send(text);
  }

  // --- The sweep ---------------------------------------------------------------------------------

  /**
   * One slice of the sweep: each socket is looked at once a round (a quarter of the heartbeat
   * interval, a second at most), a slice every tick, so
   * no pass holds the event loop for long whatever the number of sockets. It closes a socket that
   * held no seat for `joinTimeoutMs`, cuts a seat whose client left what it was sent unconfirmed
   * for `confirmTimeoutMs`, and runs the heartbeat: a socket heard from within the interval (and
   * half a round) is left alone; one silent for longer is pinged; one still silent two looks after
   * its ping is cut off. Its last frame came at `heard`: the ping goes out by `heard` + 1⅜
   * intervals, the cut-off by `heard` + 1⅞, within the two promised.
   */
  #tick(tickMs: number): void {
    const now = (this.#clock = performance.now());
    if (now - this.#tidied >= TIDY_MS) {
      this.#tidied = now;
      this.#addresses.sweep();
      this.#throttle.sweep();
    }
    const roundMs = this.#roundMs;
    const interval = this.#heartbeatMs;
    const { joinTimeoutMs, confirmTimeoutMs } = this.#limits;
    const total = this.#connections.size;
    let count = Math.min(total, Math.ceil((total * tickMs) / roundMs));
    while (count-- > 0) {
      let next = this.#round?.next();
      if (!next || next.done) {
        this.#round = this.#connections.values();
        next = this.#round.next();
        if (next.done) return;
      }
      const connection = next.value;
      if (!connection.open) continue;
      const seat = connection.seat;
      if (!seat) {
        if (now - connection.since >= joinTimeoutMs) {
          this.#cut(connection, 'joinTimeout');
          continue;
        }
      } else {
        const unconfirmed = seat.replay.unconfirmedSince;
        if (unconfirmed !== undefined && now - Math.max(unconfirmed, connection.since) >= confirmTimeoutMs) {
          this.#cut(connection, 'confirmTimeout');
          continue;
        }
      }
      if (!interval) continue;
      if (now - connection.heard < interval + roundMs / 2) {
        connection.pinged = -1;
      } else if (connection.pinged < 0) {
        connection.pinged = now;
        connection.socket.ping();
      } else if (now - connection.pinged >= 1.5 * roundMs) {
        // Two looks unanswered, allowing for one that came early. Its 'close' follows.
        connection.cut = true;
        this.#connections.delete(connection);
        connection.socket.terminate();
      }
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
