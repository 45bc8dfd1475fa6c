import { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from '../backoff.js';
import { RtcCallError } from '../errors.js';
import { parseServerMessage, type ClientMessage, type ServerMessage, type SignalData } from '../protocol.js';
import type { Signaling, SignalingListener } from './signaling.js';

export interface JoinRequest {
  room: string;
  name: string;
  token?: string | undefined;
  /** People who join after us knock, and wait until we let them in. */
  lobby?: boolean | undefined;
}

export interface WebSocketSignalingOptions {
  backoff: BackoffOptions;
  /** How often we ping the server (browsers cannot see WebSocket ping frames), in ms. */
  pingIntervalMs: number;
  /** A socket that has said nothing for this long after a ping is taken for dead, in ms. */
  pongTimeoutMs: number;
  /** Signals kept until the server confirms them, at most. */
  outboxLimit: number;
  /**
   * A socket to this URL opened ahead of `join()` (when the camera starts), so joining does not
   * wait for the handshake; used for the first connection if it is still open or opening.
   */
  socket?: WebSocket | undefined;
}

export const DEFAULT_SIGNALING_OPTIONS: WebSocketSignalingOptions = {
  backoff: DEFAULT_BACKOFF,
  pingIntervalMs: 4000,
  pongTimeoutMs: 4000,
  outboxLimit: 512,
};

/** Messages received between confirms, at most (the ping every few seconds confirms the rest). */
const CONFIRM_EVERY = 16;

interface Seat {
  id: string;
  secret: string;
}

/**
 * Signaling through the rtc-call server's WebSocket at `/signal`, and back after a drop:
 * reconnects with backoff, resumes its seat (same peer id), and replays what either side
 * missed, using sequence numbers both ways.
 */
export class WebSocketSignaling implements Signaling {
  readonly #url: string;
  readonly #request: JoinRequest;
  readonly #options: WebSocketSignalingOptions;
  #socket: WebSocket | undefined;
  #listener: SignalingListener | undefined;
  #seat: Seat | undefined;
  /** The highest server sequence number we have handled, and the highest we have confirmed. */
  #received = 0;
  #confirmed = 0;
  /** Our last signal's sequence number, and the signals the server has not confirmed yet. */
  #sent = 0;
  #outbox: { seq: number; message: ClientMessage }[] = [];
  #lostAt: number | undefined;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #lastHeard = 0;

  constructor(url: string, request: JoinRequest, options: Partial<WebSocketSignalingOptions> = {}) {
    this.#url = url;
    this.#request = request;
    this.#options = { ...DEFAULT_SIGNALING_OPTIONS, ...options };
  }

  join(listener: SignalingListener): void {
    this.#listener = listener;
    this.#open();
  }

  signal(to: string, data: SignalData): void {
    const message: ClientMessage = { type: 'signal', to, data, seq: ++this.#sent };
    this.#outbox.push({ seq: message.seq!, message });
    if (this.#outbox.length > this.#options.outboxLimit) this.#outbox.shift();
    this.#send(message);
  }

  decide(id: string, admit: boolean): void {
    this.#send({ type: admit ? 'admit' : 'decline', id });
  }

  leave(): void {
    const socket = this.#socket;
    this.#listener = undefined;
    this.#stop();
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'leave' } satisfies ClientMessage));
    socket?.close(1000, 'leave');
  }

  #open(): void {
    const early = this.#options.socket;
    this.#options.socket = undefined;
    let socket: WebSocket;
    try {
      socket =
        early && early.readyState <= WebSocket.OPEN && early.url === new URL(this.#url).href
          ? early
          : new WebSocket(this.#url);
    } catch (cause) {
      // A malformed URL throws synchronously (SyntaxError).
      this.#fail(new RtcCallError('bad-config', `The signaling-url "${this.#url}" is not a WebSocket URL.`, { cause }));
      return;
    }
    this.#socket = socket;
    const opened = () => {
      const { room, name, token, lobby } = this.#request;
      const resume = this.#seat ? { resume: { ...this.#seat, received: this.#received } } : {};
      this.#send({ type: 'join', room, name, ...(token ? { token } : {}), ...(lobby ? { lobby } : {}), ...resume });
      this.#lastHeard = performance.now();
      this.#pingTimer = setInterval(() => this.#ping(), this.#options.pingIntervalMs);
    };
    socket.onopen = opened;
    socket.onmessage = ({ data }) => {
      this.#lastHeard = performance.now();
      this.#receive(data);
    };
    socket.onclose = ({ code, reason }) => {
      if (this.#socket === socket) this.#lost(code, reason);
    };
    // Every error is followed by `close`, which says what happened; Node's `ws` would throw an
    // error nobody listens to.
    socket.onerror = () => {};
    if (early && early !== socket) early.close(1000, 'unused');
    // An early socket may be open already: its `open` has passed.
    if (socket.readyState === WebSocket.OPEN) opened();
  }

  /** The socket is gone: retry with backoff if we were in the room, else report it. */
  #lost(code: number, reason: string): void {
    this.#detach();
    const detail = reason ? ` (${code} ${reason})` : ` (${code})`;
    if (!this.#seat) {
      this.#fail(
        new RtcCallError(
          'signaling-unreachable',
          `Cannot reach the signaling server at ${this.#url}${detail} — is it running?`,
        ),
      );
      return;
    }
    const now = performance.now();
    if (this.#lostAt === undefined) {
      this.#lostAt = now;
      this.#attempt = 0;
      this.#listener?.connection('reconnecting');
    }
    const waited = now - this.#lostAt;
    if (waited >= this.#options.backoff.giveUpMs) {
      this.#fail(
        new RtcCallError(
          'signaling-unreachable',
          `Lost the connection to the signaling server at ${this.#url}${detail} and could not get it back in ${Math.round(waited / 1000)} s.`,
        ),
      );
      return;
    }
    const delay = backoffDelay(this.#attempt++, this.#options.backoff);
    this.#retryTimer = setTimeout(() => this.#open(), delay);
  }

  #ping(): void {
    const silent = performance.now() - this.#lastHeard;
    if (silent > this.#options.pingIntervalMs + this.#options.pongTimeoutMs) {
      // Nothing back for too long: the connection is dead even if the browser has not noticed
      // (a blackholed network can keep a socket "open" for minutes).
      const socket = this.#socket;
      this.#lost(4000, 'no answer to ping');
      socket?.close();
      return;
    }
    this.#send({ type: 'ping', received: this.#received });
  }

  #send(message: ClientMessage): void {
    if (message.type === 'ping' && message.received !== undefined) this.#confirmed = message.received;
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  #receive(data: unknown): void {
    const listener = this.#listener;
    if (!listener) return;
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      const error = new RtcCallError(
        'protocol',
        `The signaling server sent a message we cannot read: ${parsed.error}.`,
      );
      // Before we are in the room, there is nothing to carry on with; after, one bad message (a
      // peer's name it should not have passed on, say) must not end the call.
      if (this.#seat) listener.warning(error);
      else this.#fail(error);
      return;
    }
    const message = parsed.message;
    // Relayed messages (signals, presence) are numbered so a replay after a resume is exact.
    if ('seq' in message && message.seq !== undefined) {
      // A replay can repeat what we already handled before the drop.
      if (message.seq <= this.#received) return;
      this.#received = message.seq;
      // Confirmed now and then between pings too, so the server can let its copies go soon.
      if (this.#received - this.#confirmed >= CONFIRM_EVERY) this.#send({ type: 'ping', received: this.#received });
    }
    this.#handle(message, listener);
  }

  #handle(message: ServerMessage, listener: SignalingListener): void {
    switch (message.type) {
      case 'joined': {
        const rejoin = this.#seat !== undefined;
        this.#seat = { id: message.id, secret: message.secret };
        // Sequence numbers count per seat: a new seat starts again.
        this.#received = this.#confirmed = 0;
        // A fresh seat: what we had queued was for the old one.
        this.#outbox = [];
        this.#reconnected();
        listener.joined({
          id: message.id,
          peers: message.peers.map((peer) => ({ ...peer, polite: message.polite })),
          iceServers: message.iceServers,
          rejoin,
        });
        break;
      }
      case 'resumed':
        this.#confirm(message.received);
        if (message.iceServers.length > 0) listener.iceServers(message.iceServers);
        // What the server never got, again, in order.
        for (const { message: unsent } of this.#outbox) this.#send(unsent);
        this.#reconnected();
        break;
      case 'pong':
        if (message.received !== undefined) this.#confirm(message.received);
        break;
      case 'peer-joined':
        listener.peerJoined({ id: message.id, name: message.name, polite: message.polite, previous: message.previous });
        break;
      case 'peer-left':
        listener.peerLeft({ id: message.id, name: message.name });
        break;
      case 'knock':
        listener.knock({ id: message.id, name: message.name });
        break;
      case 'knocking':
        listener.knocking();
        break;
      case 'signal':
        listener.signal(message.from, message.data);
        break;
      case 'error':
        this.#fail(
          new RtcCallError(
            // Refused for now (too many joins from this address): the server is there but not reachable to us.
            message.code === 'rate-limited' ? 'signaling-unreachable' : message.code,
            serverErrorText(message.code, message.message, this.#request.room),
          ),
        );
        break;
    }
  }

  /** The server has our signals up to `seq`: forget them. */
  #confirm(seq: number): void {
    this.#outbox = this.#outbox.filter((entry) => entry.seq > seq);
  }

  #reconnected(): void {
    if (this.#lostAt === undefined) return;
    this.#lostAt = undefined;
    this.#attempt = 0;
    this.#listener?.connection('connected');
  }

  #detach(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    clearInterval(this.#pingTimer);
    if (socket) socket.onopen = socket.onmessage = socket.onclose = null;
  }

  #stop(): void {
    clearTimeout(this.#retryTimer);
    this.#detach();
  }

  #fail(error: RtcCallError): void {
    const listener = this.#listener;
    this.leave();
    listener?.error(error);
  }
}

function serverErrorText(code: string, message: string, room: string): string {
  switch (code) {
    case 'room-full':
      return `The room "${room}" is full — try another room name.`;
    case 'unauthorized':
      return `Not allowed to join "${room}": ${message}`;
    case 'rate-limited':
      return `The signaling server is refusing joins from your network for now: ${message}.`;
    case 'declined':
      return `Not let in to “${room}”: ${message}.`;
    default:
      return `The signaling server refused a message: ${message}`;
  }
}
