import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  LIMITS,
  parseClientMessage,
  type IceServer,
  type JoinMessage,
  type ServerErrorCode,
  type ServerMessage,
  type SignalData,
} from '../protocol.js';
import { TOKEN_REFUSALS, verifyJoinToken } from './auth.js';
import { requestHost } from './http.js';
import { TokenBucket, checkRateLimit, type RateLimit } from './rate-limit.js';
import type { RedisRooms, RoomEvent } from './redis-rooms.js';
import { ReplayBuffer } from './replay.js';
import { Rooms, createMember, type Member } from './rooms.js';

export interface SignalingOptions {
  /** Peers per room (default 2). */
  capacity?: number;
  /**
   * ICE servers handed to each peer when it joins and again when it resumes (fresh TURN
   * credentials), given the host the client reached us by (its `Host` header, without the port).
   */
  iceServers?: (peerId: string, client: { host: string | undefined }) => IceServer[];
  /**
   * When set, a fresh join needs a token for its room signed with this secret (auth.ts), else
   * `unauthorized`. A resume needs only the seat's own secret, so an expired token keeps its seat.
   */
  joinSecret?: string;
  log?: (line: string) => void;
  /**
   * The heartbeat's interval, in ms (default 4000; 0: none). Any frame from a socket (a message,
   * a pong) shows it is alive; one that sent nothing for a whole interval is pinged, and if that
   * goes unanswered (a frozen or vanished peer: its TCP connection may look open for minutes) it
   * is cut off: its room hears `peer-left` within two intervals of its last frame. The sockets
   * are looked at a slice at a time (every 100 ms at most), never all in one go.
   */
  heartbeatMs?: number;
  /**
   * Messages per socket (default burst 100, then 50/s): a peer trickling ICE candidates sends
   * dozens at once, a runaway or hostile one is closed with 1008 `rate limit`.
   */
  messageRate?: RateLimit;
  /**
   * Joins per socket (default burst 5, then one per 2 s: 5 in 10 s), so one socket cannot
   * probe rooms for who is in them; over it, the socket is closed with 1008 `join rate limit`.
   */
  joinRate?: RateLimit;
  /**
   * Bytes queued for one socket beyond which it is cut off (default 1 MiB): a client that stopped
   * reading must not grow the server's memory with everything its peers send it.
   */
  maxBufferedBytes?: number;
  /**
   * How long a seat whose socket closed is held for its client to resume it (default 20000 ms):
   * same peer id, nothing missed, and the room hears nothing. A socket cut off by the heartbeat
   * (a frozen client) loses its seat at once, so its room knows within two heartbeats.
   */
  resumeGraceMs?: number;
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

/** A member's place on this server: its socket while connected, what it was sent, what it sent. */
interface Seat {
  socket: WebSocket | undefined;
  readonly replay: ReplayBuffer;
  /** The highest `seq` of the member's own signals handled, so a re-sent one is not relayed twice. */
  received: number;
  graceTimer?: ReturnType<typeof setTimeout> | undefined;
}

const DEFAULTS = {
  heartbeatMs: 4000,
  resumeGraceMs: 20000,
  messageRate: { burst: 100, perSecond: 50 },
  joinRate: { burst: 5, perSecond: 0.5 },
  maxBufferedBytes: 1024 * 1024,
  redisPresenceTtlMs: 10_000,
} as const;

/** How many times per heartbeat interval every socket is looked at. */
const HEARTBEAT_ROUNDS = 4;

/** The heartbeat looks at a slice of the sockets this often, at most, in ms. */
const HEARTBEAT_TICK_MS = 100;

const ignore = (): void => {};

/** What the heartbeat knows of one socket. */
interface Liveness {
  readonly socket: WebSocket;
  /** The heartbeat's clock when the socket's last frame came. */
  heard: number;
  /** The clock when it was pinged and had not answered yet, else -1. */
  pinged: number;
}

/** How long close() waits for clients to answer its close frame before it cuts them off, in ms. */
const CLOSE_GRACE_MS = 5000;

/** How long a join admitted by Redis waits for its own `joined` event to come round, in ms. */
const ADMIT_TIMEOUT_MS = 5000;

/**
 * The WebSocket side of the server: parse (protocol.ts) → room → relay to the other members.
 * One instance serves every room of one process.
 */
export class SignalingServer {
  readonly rooms: Rooms;
  readonly #wss: WebSocketServer;
  readonly #seats = new Map<string, Seat>();
  readonly #options: SignalingOptions;
  readonly #maxBufferedBytes: number;
  readonly #messageRate: RateLimit;
  readonly #joinRate: RateLimit;
  /** Every open socket, for the heartbeat (none without one). */
  readonly #alive = new Map<WebSocket, Liveness>();
  /** Where the heartbeat's current round has got to in #alive. */
  #round: Iterator<Liveness> | undefined;
  /** The heartbeat's clock (ms), read once per slice: stamping a frame with it costs nothing. */
  #clock = performance.now();
  readonly #heartbeatMs: number;
  /** Sockets the heartbeat cut off: their seats are not held. */
  readonly #silent = new WeakSet<WebSocket>();
  readonly #heartbeat: ReturnType<typeof setInterval> | undefined;
  /** Set while rooms are shared through Redis: connecting, then connected. */
  readonly #sharing: Promise<void> | undefined;
  #shared: RedisRooms | undefined;
  /** The host each client reached us by, for the ICE servers it is handed. */
  readonly #hosts = new WeakMap<WebSocket, string | undefined>();
  /** Joins Redis admitted whose own `joined` event has not come round yet, by member id. */
  readonly #admitting = new Map<string, { member: Member; admitted: () => void }>();

  constructor(options: SignalingOptions = {}) {
    this.#options = options;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes;
    this.#messageRate = checkRateLimit(options.messageRate ?? DEFAULTS.messageRate, 'messageRate');
    this.#joinRate = checkRateLimit(options.joinRate ?? DEFAULTS.joinRate, 'joinRate');
    this.rooms = new Rooms(options.capacity ?? 2);
    // A bigger frame closes its socket with 1009 before any of it is buffered.
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.message });
    this.#wss.on('connection', (socket, request: IncomingMessage) => {
      this.#hosts.set(socket, requestHost(request));
      this.#accept(socket);
    });
    const heartbeatMs = options.heartbeatMs ?? DEFAULTS.heartbeatMs;
    this.#heartbeatMs = heartbeatMs > 0 ? heartbeatMs : 0;
    if (heartbeatMs > 0) {
      const tickMs = Math.min(HEARTBEAT_TICK_MS, heartbeatMs / HEARTBEAT_ROUNDS);
      this.#heartbeat = setInterval(() => this.#beat(tickMs), tickMs);
      // The heartbeat alone must not keep the process alive.
      this.#heartbeat.unref();
    }
    if (options.redisUrl) this.#sharing = this.#connectRedis(options.redisUrl);
  }

  /** Resolves once the server can take joins: at once, or once Redis is reached (rejects if not). */
  async ready(): Promise<void> {
    await this.#sharing;
  }

  #connectRedis(url: string): Promise<void> {
    const connecting = import('./redis-rooms.js').then(async ({ RedisRooms }) => {
      this.#shared = await RedisRooms.connect({
        url,
        capacity: this.rooms.capacity,
        presenceTtlMs: this.#options.redisPresenceTtlMs ?? DEFAULTS.redisPresenceTtlMs,
        onEvent: (event) => this.#roomEvent(event),
        onLost: (ids) => ids.forEach((id) => this.#drop(id)),
        log: this.#options.log,
      });
    });
    // ready() reports a failure; unobserved, it would end the process as an unhandled rejection.
    connecting.catch(() => {});
    return connecting;
  }

  /** Completes a WebSocket upgrade on `/signal` (call from the HTTP server's `upgrade` event). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#wss.emit('connection', ws, request));
  }

  /**
   * Closes every socket (clients see `code`; 1012 "service restart" tells them to reconnect,
   * elsewhere if need be) and stops accepting. Resolves once every socket is closed; one that does
   * not answer the close handshake within a few seconds is cut off.
   */
  close(code = 1001, reason = 'server shutting down'): Promise<void> {
    clearInterval(this.#heartbeat);
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
    // Once the sockets are gone (clients told to go elsewhere may have taken their seats there),
    // the members still left here leave Redis at once, rather than when the TTL runs out.
    return closed.then(async () => {
      await this.#sharing?.catch(() => {});
      await this.#shared?.close();
    });
  }

  get connectionCount(): number {
    return this.#wss.clients.size;
  }

  /**
   * One slice of the heartbeat: each socket is looked at HEARTBEAT_ROUNDS times per interval, a
   * slice every tick, so no pass holds the event loop for long whatever the number of sockets.
   * A socket heard from within the interval is left alone; one silent for a whole interval is
   * pinged; one still silent two rounds after its ping is cut off. Its last frame came at `heard`:
   * the ping goes out by `heard` + 1¼ intervals, the cut-off by `heard` + 1¾, within the two
   * intervals promised with a quarter to spare for a busy event loop.
   */
  #beat(tickMs: number): void {
    const now = (this.#clock = performance.now());
    const interval = this.#heartbeatMs;
    const roundMs = interval / HEARTBEAT_ROUNDS;
    const total = this.#alive.size;
    let count = Math.min(total, Math.ceil((total * tickMs) / roundMs));
    while (count-- > 0) {
      let next = this.#round?.next();
      if (!next || next.done) {
        this.#round = this.#alive.values();
        next = this.#round.next();
        if (next.done) return;
      }
      const life = next.value;
      if (now - life.heard < interval) {
        life.pinged = -1;
      } else if (life.pinged < 0) {
        life.pinged = now;
        life.socket.ping();
      } else if (now - life.pinged >= 1.5 * roundMs) {
        // Two rounds (half an interval) unanswered, allowing for a round that came early. Its
        // 'close' follows, and with it the usual `peer-left`.
        this.#alive.delete(life.socket);
        this.#silent.add(life.socket);
        life.socket.terminate();
      }
    }
  }

  #accept(socket: WebSocket): void {
    let peerId: string | undefined;
    // An 'error' without a handler would crash the process: attach it first. `ws` then closes
    // the socket itself, with the code that says why (1009 too big, 1007 not UTF-8); terminating
    // here would cut that close frame off.
    socket.on('error', ignore);
    // Shared rooms answer asynchronously: one queue per socket keeps its messages, and its close,
    // in the order they came. Local rooms answer at once, as they always did.
    const serially = this.#sharing ? this.#queue(socket) : undefined;
    const life: Liveness = { socket, heard: this.#clock, pinged: -1 };
    const heartbeat = this.#heartbeatMs > 0;
    if (heartbeat) this.#alive.set(socket, life);
    socket.on('close', () => {
      this.#alive.delete(socket);
      const closed = (): void => {
        if (peerId) this.#disconnected(peerId, socket);
        peerId = undefined;
      };
      if (serially) serially(closed);
      else closed();
    });
    // Browsers answer pings by themselves, even where the page cannot see them.
    if (heartbeat) socket.on('pong', () => (life.heard = this.#clock));
    const messageRate = new TokenBucket(this.#messageRate);
    const joinRate = new TokenBucket(this.#joinRate);
    const handle = (data: RawData, isBinary: boolean): void | Promise<void> => {
      if (isBinary) return this.#error(socket, 'protocol', 'binary frames are not accepted: send JSON text');
      const parsed = parseClientMessage(data.toString());
      if (!parsed.ok) return this.#error(socket, 'protocol', parsed.error);
      const message = parsed.message;
      switch (message.type) {
        case 'join': {
          // Counted before anything else, so failed joins (room-full, already joined) count too.
          if (!joinRate.take()) return socket.close(1008, 'join rate limit');
          if (peerId) return this.#error(socket, 'protocol', 'already joined a room: leave first');
          if (this.#sharing) {
            return this.#joinShared(socket, message).then((id) => {
              if (id) peerId = id;
            });
          }
          let previous: string | undefined;
          if (message.resume) {
            const { id } = message.resume;
            const { member, seat, missed } = this.#claim(message);
            if (seat && missed) {
              peerId = id;
              this.#resume(id, seat, socket, missed);
              return;
            }
            // The seat is gone (the server restarted, or the client was away too long): join
            // afresh, and tell the room who this was, so calls in progress can carry on.
            if (member && seat) this.#leave(id);
            if (!member) previous = this.rooms.get(id) ? undefined : id;
          }
          const name = this.#authorize(socket, message);
          if (name === undefined) return;
          const result = this.rooms.join(message.room, name, previous);
          if (!result.ok) return this.#error(socket, 'room-full', `room is full (${this.rooms.capacity} peers)`);
          const { member, peers } = result;
          peerId = member.id;
          this.#seats.set(member.id, { socket, replay: new ReplayBuffer(), received: 0 });
          for (const peer of peers) {
            this.#relay(peer.id, {
              type: 'peer-joined',
              id: member.id,
              name,
              polite: true,
              ...(previous ? { previous } : {}),
            });
          }
          this.#sendJoined(socket, member, peers.map(describe));
          return;
        }
        case 'signal': {
          if (!peerId) return this.#error(socket, 'protocol', 'join a room before signaling');
          const target = this.rooms.route(peerId, message.to);
          // Not a member here: it may be one on another server sharing the room (Redis checks).
          const shared = !target && !this.rooms.get(message.to) ? this.#shared : undefined;
          // Not in your room (it may have left a moment ago: you hear `peer-left`): dropped.
          if (!target && !shared) return;
          const seat = this.#seats.get(peerId);
          if (seat && message.seq !== undefined) {
            // Re-sent after a resume: already relayed once.
            if (message.seq <= seat.received) return;
            seat.received = message.seq;
          }
          // `from` is stamped here, whatever the sender wrote.
          if (target) this.#relaySignal(target.id, peerId, message.data);
          else return shared?.relay(this.rooms.get(peerId)!.room, peerId, message.to, message.data);
          return;
        }
        case 'leave': {
          const id = peerId;
          peerId = undefined;
          return id ? this.#leave(id) : undefined;
        }
        case 'ping': {
          const seat = peerId ? this.#seats.get(peerId) : undefined;
          if (!seat) return this.#send(socket, { type: 'pong' });
          if (message.received !== undefined) seat.replay.confirm(message.received);
          this.#send(socket, { type: 'pong', received: seat.received });
          return;
        }
      }
    };
    socket.on('message', (data: RawData, isBinary: boolean) => {
      // Any frame shows the socket is alive: no need to ping it.
      life.heard = this.#clock;
      // After we closed it (rate limit), whatever the client still sends is not read.
      if (socket.readyState !== socket.OPEN) return;
      if (!messageRate.take()) return socket.close(1008, 'rate limit');
      if (serially) return serially(() => handle(data, isBinary));
      try {
        void handle(data, isBinary);
      } catch (error) {
        this.#failed(socket, error);
      }
    });
  }

  /** Runs a socket's tasks one after the other, each once the one before has settled. */
  #queue(socket: WebSocket): (task: () => void | Promise<void>) => void {
    let queue = Promise.resolve();
    return (task) => {
      queue = queue.then(task).catch((error: unknown) => this.#failed(socket, error));
    };
  }

  /** A bug, or Redis out of reach, must cost one message, not the process and every call on it. */
  #failed(socket: WebSocket, error: unknown): void {
    this.#options.log?.(`signaling: message handler failed: ${error instanceof Error ? error.stack : String(error)}`);
    this.#error(socket, 'protocol', 'the server could not handle that message');
  }

  /**
   * The name to join under, or undefined when the token is refused (the client is told). Before
   * the room is looked at, so a refused client learns nothing about it.
   */
  #authorize(socket: WebSocket, message: JoinMessage): string | undefined {
    if (!this.#options.joinSecret) return message.name ?? '';
    const check = verifyJoinToken(this.#options.joinSecret, message.token, message.room);
    if (!check.ok) {
      this.#error(socket, 'unauthorized', TOKEN_REFUSALS[check.reason]);
      return undefined;
    }
    return check.claims.name ?? message.name ?? '';
  }

  /** You are in: your id and secret, who was there, your role (the newcomer is impolite), ICE servers. */
  #sendJoined(socket: WebSocket, member: Member, peers: { id: string; name: string; previous?: string }[]): void {
    this.#send(socket, {
      type: 'joined',
      room: member.room,
      id: member.id,
      peers,
      polite: false,
      iceServers: this.#iceServers(socket, member.id),
      secret: member.secret,
    });
  }

  #iceServers(socket: WebSocket, peerId: string): IceServer[] {
    return this.#options.iceServers?.(peerId, { host: this.#hosts.get(socket) }) ?? [];
  }

  /**
   * The seat a resume asks for, as this server holds it: the member (if the secret proves it is
   * theirs), its seat, and what it missed (when it is still in the room it names).
   */
  #claim({ room, resume }: JoinMessage): {
    member?: Member | undefined;
    seat?: Seat | undefined;
    missed?: string[] | undefined;
  } {
    if (!resume) return {};
    const member = this.rooms.claim(resume.id, resume.secret);
    const seat = this.#seats.get(resume.id);
    return { member, seat, missed: member?.room === room ? seat?.replay.since(resume.received) : undefined };
  }

  /** The join and resume of local rooms, with Redis doing the room's part. Resolves with the seat's id. */
  async #joinShared(socket: WebSocket, message: JoinMessage): Promise<string | undefined> {
    await this.#sharing;
    const shared = this.#shared!;
    let previous: string | undefined;
    let claimed: string | undefined;
    if (message.resume) {
      const { id, secret } = message.resume;
      const { member, seat, missed } = this.#claim(message);
      // Redis may have let the seat go while this server looked dead: then it is lost, as in a restart.
      const held = member && seat && missed ? await shared.holds(member) : false;
      if (held && seat && missed && this.#seats.get(id) === seat) {
        this.#resume(id, seat, socket, missed);
        return id;
      }
      if (member && seat) await this.#leave(id);
      // The seat may be on another server, or on one that died: Redis lets the secret's owner take it.
      if (!member && !this.rooms.get(id)) {
        previous = id;
        claimed = secret;
      }
    }
    const name = this.#authorize(socket, message);
    if (name === undefined) return undefined;
    const member = createMember(message.room, name, previous);
    let admitted = (): void => {};
    const admission = new Promise<void>((resolve) => (admitted = resolve));
    this.#admitting.set(member.id, { member, admitted });
    try {
      const result = await shared.join(member, claimed);
      if (!result.ok) {
        this.#error(socket, 'room-full', `room is full (${this.rooms.capacity} peers)`);
        return undefined;
      }
      // Everything relayed to the seat from then on is in its replay buffer already.
      await withTimeout(admission, ADMIT_TIMEOUT_MS, "the join's own event from Redis");
      const seat = this.#seats.get(member.id);
      if (!seat) throw new Error('the seat was lost while joining');
      const own = this.rooms.get(member.id)!;
      this.#sendJoined(socket, own, result.peers);
      for (const text of seat.replay.since(0) ?? []) this.#sendText(socket, text);
      seat.socket = socket;
      return own.id;
    } catch (error) {
      if (this.rooms.get(member.id)) await this.#leave(member.id);
      else await shared.leave(member.room, member.id);
      throw error;
    } finally {
      this.#admitting.delete(member.id);
    }
  }

  /** What Redis says happened in a room with members here, in the order it happened. */
  #roomEvent(event: RoomEvent): void {
    switch (event.type) {
      case 'joined': {
        const admitting = this.#admitting.get(event.id);
        if (admitting) {
          // Our own join: from here on, events for the room are the seat's too.
          // Redis keeps `previous` only if it is no one else's seat.
          const { id, name, room, secret } = admitting.member;
          this.rooms.admit({ id, name, room, secret, ...(event.previous ? { previous: event.previous } : {}) });
          this.#seats.set(event.id, { socket: undefined, replay: new ReplayBuffer(), received: 0 });
          admitting.admitted();
        }
        for (const peer of this.rooms.membersOf(event.room)) {
          if (peer.id === event.id) continue;
          this.#relay(peer.id, {
            type: 'peer-joined',
            id: event.id,
            name: event.name,
            polite: true,
            ...(event.previous ? { previous: event.previous } : {}),
          });
        }
        return;
      }
      case 'left':
        // Ours, dropped by Redis (this server looked dead) or taken back elsewhere by its client.
        if (this.rooms.get(event.id)?.room === event.room) this.#drop(event.id);
        // Its client re-joined elsewhere naming its old id: the peers carry on with it.
        if (event.moved) return;
        for (const peer of this.rooms.membersOf(event.room)) {
          this.#relay(peer.id, { type: 'peer-left', id: event.id, name: event.name });
        }
        return;
      case 'signal':
        if (this.rooms.get(event.to)?.room !== event.room) return;
        this.#relaySignal(event.to, event.from, event.data);
        return;
    }
  }

  /** A seat Redis no longer has: gone here too, and its client told to reconnect (it re-joins). */
  #drop(id: string): void {
    const seat = this.#seats.get(id);
    if (!seat) return;
    clearTimeout(seat.graceTimer);
    this.#seats.delete(id);
    this.rooms.leave(id);
    seat.socket?.close(1012, 'seat lost');
  }

  /** The client is back on a new socket: same seat, and what it missed, in order. */
  #resume(id: string, seat: Seat, socket: WebSocket, missed: string[]): void {
    clearTimeout(seat.graceTimer);
    seat.graceTimer = undefined;
    const old = seat.socket;
    // Set first: the old socket's 'close' then finds the seat taken and does nothing.
    seat.socket = socket;
    old?.terminate();
    this.#send(socket, {
      type: 'resumed',
      id,
      received: seat.received,
      iceServers: this.#iceServers(socket, id),
    });
    for (const text of missed) this.#sendText(socket, text);
  }

  /** A member's socket closed: hold the seat for a resume, unless it went silent or left. */
  #disconnected(id: string, socket: WebSocket): void {
    const seat = this.#seats.get(id);
    if (!seat || seat.socket !== socket) return;
    seat.socket = undefined;
    const grace = this.#options.resumeGraceMs ?? DEFAULTS.resumeGraceMs;
    if (this.#silent.has(socket) || grace <= 0) {
      this.#leave(id);
      return;
    }
    seat.graceTimer = setTimeout(() => this.#leave(id), grace);
    seat.graceTimer.unref();
  }

  #leave(id: string): void | Promise<void> {
    const seat = this.#seats.get(id);
    clearTimeout(seat?.graceTimer);
    this.#seats.delete(id);
    const left = this.rooms.leave(id);
    if (!left) return;
    // Its room, here included, hears `peer-left` from Redis.
    if (this.#shared) return this.#shared.leave(left.member.room, id);
    for (const other of left.others) this.#relay(other.id, { type: 'peer-left', id, name: left.member.name });
  }

  /** Relayed messages are numbered and kept, so a member that resumes gets what it missed. */
  #relay(id: string, message: ServerMessage): void {
    const seat = this.#seats.get(id);
    if (!seat) return;
    this.#sendText(seat.socket, seat.replay.add(message));
  }

  /**
   * A `signal` relayed: its text made around the validated data, serialised once (the whole
   * message is not serialised again to number it).
   */
  #relaySignal(to: string, from: string, data: SignalData): void {
    const seat = this.#seats.get(to);
    if (!seat) return;
    const json = `{"type":"signal","from":${JSON.stringify(from)},"data":${JSON.stringify(data)}}`;
    this.#sendText(seat.socket, seat.replay.addJson(json));
  }

  #error(socket: WebSocket, code: ServerErrorCode, message: string): void {
    this.#send(socket, { type: 'error', code, message });
  }

  #send(socket: WebSocket | undefined, message: ServerMessage): void {
    this.#sendText(socket, JSON.stringify(message));
  }

  #sendText(socket: WebSocket | undefined, text: string): void {
    if (!socket || socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > this.#maxBufferedBytes) {
      // It stopped reading: cut it off rather than queue more. Its 'close' tells its room.
      this.#options.log?.(`signaling: dropping a socket with ${socket.bufferedAmount} bytes unread`);
      socket.terminate();
      return;
    }
    socket.send(text);
  }
}

function describe({ id, name, previous }: Member): { id: string; name: string; previous?: string } {
  return previous ? { id, name, previous } : { id, name };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
