import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { LIMITS, parseClientMessage, type IceServer, type ServerErrorCode, type ServerMessage } from '../protocol.js';
import { TOKEN_REFUSALS, verifyJoinToken } from './auth.js';
import { TokenBucket, checkRateLimit, type RateLimit } from './rate-limit.js';
import { ReplayBuffer } from './replay.js';
import { Rooms, type Member } from './rooms.js';

export interface SignalingOptions {
  /** Peers per room (default 2). */
  capacity?: number;
  /** ICE servers handed to each peer when it joins and again when it resumes (fresh TURN credentials). */
  iceServers?: (peerId: string) => IceServer[];
  /**
   * When set, a fresh join needs a token for its room signed with this secret (auth.ts), else
   * `unauthorized`. A resume needs only the seat's own secret, so an expired token keeps its seat.
   */
  joinSecret?: string;
  log?: (line: string) => void;
  /**
   * How often each socket is pinged, in ms (default 4000; 0: never). A socket that has not
   * answered the previous ping (a frozen or vanished peer: its TCP connection may look open for
   * minutes) is cut off, and its room hears `peer-left` within two intervals.
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
} as const;

/** How long close() waits for clients to answer its close frame before it cuts them off, in ms. */
const CLOSE_GRACE_MS = 5000;

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
  /** Sockets pinged by the last heartbeat that have not answered yet. */
  readonly #awaitingPong = new WeakSet<WebSocket>();
  /** Sockets the heartbeat cut off: their seats are not held. */
  readonly #silent = new WeakSet<WebSocket>();
  readonly #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(options: SignalingOptions = {}) {
    this.#options = options;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes;
    this.#messageRate = checkRateLimit(options.messageRate ?? DEFAULTS.messageRate, 'messageRate');
    this.#joinRate = checkRateLimit(options.joinRate ?? DEFAULTS.joinRate, 'joinRate');
    this.rooms = new Rooms(options.capacity ?? 2);
    // A bigger frame closes its socket with 1009 before any of it is buffered.
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.message });
    this.#wss.on('connection', (socket) => this.#accept(socket));
    const heartbeatMs = options.heartbeatMs ?? DEFAULTS.heartbeatMs;
    if (heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => this.#ping(), heartbeatMs);
      // The heartbeat alone must not keep the process alive.
      this.#heartbeat.unref();
    }
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
    return new Promise((resolve) =>
      this.#wss.close(() => {
        clearTimeout(stragglers);
        resolve();
      }),
    );
  }

  get connectionCount(): number {
    return this.#wss.clients.size;
  }

  /** The `ws` README heartbeat: whoever did not answer the last ping is gone. */
  #ping(): void {
    for (const socket of this.#wss.clients) {
      if (this.#awaitingPong.has(socket)) {
        // Its 'close' follows, and with it the usual `peer-left`.
        this.#silent.add(socket);
        socket.terminate();
        continue;
      }
      this.#awaitingPong.add(socket);
      socket.ping();
    }
  }

  #accept(socket: WebSocket): void {
    let peerId: string | undefined;
    // An 'error' without a handler would crash the process: attach it first. `ws` then closes
    // the socket itself, with the code that says why (1009 too big, 1007 not UTF-8); terminating
    // here would cut that close frame off.
    socket.on('error', () => {});
    socket.on('close', () => {
      if (peerId) this.#disconnected(peerId, socket);
      peerId = undefined;
    });
    // Browsers answer pings by themselves, even where the page cannot see them.
    socket.on('pong', () => this.#awaitingPong.delete(socket));
    const messageRate = new TokenBucket(this.#messageRate);
    const joinRate = new TokenBucket(this.#joinRate);
    const handle = (data: RawData, isBinary: boolean): void => {
      if (isBinary) return this.#error(socket, 'protocol', 'binary frames are not accepted: send JSON text');
      const parsed = parseClientMessage(data.toString());
      if (!parsed.ok) return this.#error(socket, 'protocol', parsed.error);
      const message = parsed.message;
      switch (message.type) {
        case 'join': {
          // Counted before anything else, so failed joins (room-full, already joined) count too.
          if (!joinRate.take()) return socket.close(1008, 'join rate limit');
          if (peerId) return this.#error(socket, 'protocol', 'already joined a room: leave first');
          let previous: string | undefined;
          if (message.resume) {
            const { id, secret, received } = message.resume;
            const member = this.rooms.claim(id, secret);
            const seat = this.#seats.get(id);
            const missed = member?.room === message.room ? seat?.replay.since(received) : undefined;
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
          // Before the room is looked at, so a refused client learns nothing about it.
          let name = message.name ?? '';
          if (this.#options.joinSecret) {
            const check = verifyJoinToken(this.#options.joinSecret, message.token, message.room);
            if (!check.ok) return this.#error(socket, 'unauthorized', TOKEN_REFUSALS[check.reason]);
            name = check.claims.name ?? name;
          }
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
          this.#send(socket, {
            type: 'joined',
            room: member.room,
            id: member.id,
            peers: peers.map(describe),
            polite: false,
            iceServers: this.#options.iceServers?.(member.id) ?? [],
            secret: member.secret,
          });
          return;
        }
        case 'signal': {
          if (!peerId) return this.#error(socket, 'protocol', 'join a room before signaling');
          const target = this.rooms.route(peerId, message.to);
          // Not in your room (it may have left a moment ago: you hear `peer-left`): dropped.
          if (!target) return;
          const seat = this.#seats.get(peerId);
          if (seat && message.seq !== undefined) {
            // Re-sent after a resume: already relayed once.
            if (message.seq <= seat.received) return;
            seat.received = message.seq;
          }
          // `from` is stamped here, whatever the sender wrote.
          this.#relay(target.id, { type: 'signal', from: peerId, data: message.data });
          return;
        }
        case 'leave':
          if (peerId) this.#leave(peerId);
          peerId = undefined;
          return;
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
      // After we closed it (rate limit), whatever the client still sends is not read.
      if (socket.readyState !== socket.OPEN) return;
      if (!messageRate.take()) return socket.close(1008, 'rate limit');
      try {
        handle(data, isBinary);
      } catch (error) {
        // A bug must cost one message, not the process and every call on it.
        this.#options.log?.(
          `signaling: message handler failed: ${error instanceof Error ? error.stack : String(error)}`,
        );
        this.#error(socket, 'protocol', 'the server could not handle that message');
      }
    });
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
      iceServers: this.#options.iceServers?.(id) ?? [],
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

  #leave(id: string): void {
    const seat = this.#seats.get(id);
    clearTimeout(seat?.graceTimer);
    this.#seats.delete(id);
    const left = this.rooms.leave(id);
    if (!left) return;
    for (const other of left.others) this.#relay(other.id, { type: 'peer-left', id, name: left.member.name });
  }

  /** Relayed messages are numbered and kept, so a member that resumes gets what it missed. */
  #relay(id: string, message: ServerMessage): void {
    const seat = this.#seats.get(id);
    if (!seat) return;
    const text = seat.replay.add(message);
    this.#sendText(seat.socket, text);
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
