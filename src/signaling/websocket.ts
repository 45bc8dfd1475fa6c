import { RtcCallError } from '../errors.js';
import { parseServerMessage, type ClientMessage, type SignalData } from '../protocol.js';
import type { Signaling, SignalingListener } from './signaling.js';

export interface JoinRequest {
  room: string;
  name: string;
  token?: string | undefined;
}

/** Signaling through the rtc-call server's WebSocket at `/signal`. */
export class WebSocketSignaling implements Signaling {
  readonly #url: string;
  readonly #request: JoinRequest;
  #socket: WebSocket | undefined;
  #listener: SignalingListener | undefined;
  #joined = false;

  constructor(url: string, request: JoinRequest) {
    this.#url = url;
    this.#request = request;
  }

  join(listener: SignalingListener): void {
    this.#listener = listener;
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.#url);
    } catch (cause) {
      // A malformed URL throws synchronously (SyntaxError).
      this.#fail(new RtcCallError('bad-config', `The signaling-url "${this.#url}" is not a WebSocket URL.`, { cause }));
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      const { room, name, token } = this.#request;
      this.#send({ type: 'join', room, name, ...(token ? { token } : {}) });
    };
    socket.onmessage = ({ data }) => this.#receive(data);
    socket.onclose = ({ code, reason }) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      const detail = reason ? ` (${code} ${reason})` : ` (${code})`;
      this.#fail(
        new RtcCallError(
          'signaling-unreachable',
          this.#joined
            ? `Lost the connection to the signaling server at ${this.#url}${detail}.`
            : `Cannot reach the signaling server at ${this.#url}${detail} — is it running?`,
        ),
      );
    };
  }

  signal(to: string, data: SignalData): void {
    this.#send({ type: 'signal', to, data });
  }

  leave(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#listener = undefined;
    if (!socket) return;
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'leave' } satisfies ClientMessage));
    socket.close(1000, 'leave');
  }

  #send(message: ClientMessage): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  #receive(data: unknown): void {
    const listener = this.#listener;
    if (!listener) return;
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      this.#fail(new RtcCallError('protocol', `The signaling server sent a message we cannot read: ${parsed.error}.`));
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case 'joined':
        this.#joined = true;
        listener.joined({
          id: message.id,
          peers: message.peers.map((peer) => ({ ...peer, polite: message.polite })),
          iceServers: message.iceServers,
        });
        break;
      case 'peer-joined':
        listener.peerJoined({ id: message.id, name: message.name, polite: message.polite });
        break;
      case 'peer-left':
        listener.peerLeft({ id: message.id, name: message.name });
        break;
      case 'signal':
        listener.signal(message.from, message.data);
        break;
      case 'error':
        this.#fail(new RtcCallError(message.code, serverErrorText(message.code, message.message, this.#request.room)));
        break;
    }
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
    default:
      return `The signaling server refused a message: ${message}`;
  }
}
