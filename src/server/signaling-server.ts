import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { LIMITS, parseClientMessage, type IceServer, type ServerErrorCode, type ServerMessage } from '../protocol.js';
import { Rooms } from './rooms.js';

export interface SignalingOptions {
  /** Peers per room (default 2). */
  capacity?: number;
  /** ICE servers handed to each peer when it joins. */
  iceServers?: (peerId: string) => IceServer[];
  log?: (line: string) => void;
}

/**
 * The WebSocket side of the server: parse (protocol.ts) → room → relay to the other members.
 * One instance serves every room of one process.
 */
export class SignalingServer {
  readonly rooms: Rooms;
  readonly #wss: WebSocketServer;
  readonly #sockets = new Map<string, WebSocket>();
  readonly #options: SignalingOptions;

  constructor(options: SignalingOptions = {}) {
    this.#options = options;
    this.rooms = new Rooms(options.capacity ?? 2);
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.message });
    this.#wss.on('connection', (socket) => this.#accept(socket));
  }

  /** Completes a WebSocket upgrade on `/signal` (call from the HTTP server's `upgrade` event). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#wss.emit('connection', ws, request));
  }

  /** Closes every socket (clients see `code`) and stops accepting. */
  close(code = 1001, reason = 'server shutting down'): Promise<void> {
    for (const socket of this.#wss.clients) socket.close(code, reason);
    return new Promise((resolve) => this.#wss.close(() => resolve()));
  }

  get connectionCount(): number {
    return this.#wss.clients.size;
  }

  #accept(socket: WebSocket): void {
    let peerId: string | undefined;
    // An 'error' without a handler would crash the process: attach it first.
    socket.on('error', () => socket.terminate());
    socket.on('close', () => {
      if (peerId) this.#leave(peerId);
      peerId = undefined;
    });
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return this.#error(socket, 'protocol', 'binary frames are not accepted: send JSON text');
      const parsed = parseClientMessage(data.toString());
      if (!parsed.ok) return this.#error(socket, 'protocol', parsed.error);
      const message = parsed.message;
      switch (message.type) {
        case 'join': {
          if (peerId) return this.#error(socket, 'protocol', 'already joined a room: leave first');
          const name = message.name ?? '';
          const result = this.rooms.join(message.room, name);
          if (!result.ok) return this.#error(socket, 'room-full', `room is full (${this.rooms.capacity} peers)`);
          const { member, peers } = result;
          peerId = member.id;
          this.#sockets.set(member.id, socket);
          for (const peer of peers) {
            this.#send(this.#sockets.get(peer.id), { type: 'peer-joined', id: member.id, name, polite: true });
          }
          this.#send(socket, {
            type: 'joined',
            room: member.room,
            id: member.id,
            peers: peers.map(({ id, name }) => ({ id, name })),
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
          // `from` is stamped here, whatever the sender wrote.
          this.#send(this.#sockets.get(target.id), { type: 'signal', from: peerId, data: message.data });
          return;
        }
        case 'leave':
          if (peerId) this.#leave(peerId);
          peerId = undefined;
          return;
      }
    });
  }

  #leave(id: string): void {
    this.#sockets.delete(id);
    const left = this.rooms.leave(id);
    if (!left) return;
    for (const other of left.others) {
      this.#send(this.#sockets.get(other.id), { type: 'peer-left', id, name: left.member.name });
    }
  }

  #error(socket: WebSocket, code: ServerErrorCode, message: string): void {
    this.#send(socket, { type: 'error', code, message });
  }

  #send(socket: WebSocket | undefined, message: ServerMessage): void {
    if (socket && socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  }
}
