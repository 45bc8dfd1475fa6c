import { RtcCallError } from './errors.js';
import { Peer, type PeerStatus } from './peer.js';
import type { PeerInfo } from './protocol.js';
import type { RemotePeer, Signaling } from './signaling/signaling.js';

export interface RoomListener {
  /** We are in the room; `peers` were there before us. */
  joined(peers: PeerInfo[]): void;
  peerJoined(peer: PeerInfo): void;
  peerLeft(peer: PeerInfo): void;
  remoteStream(peerId: string, stream: MediaStream): void;
  peerStatus(peerId: string, status: PeerStatus): void;
  error(error: RtcCallError): void;
}

export interface RoomOptions {
  /** What we send; none for a receive-only side (the far end of a loopback call). */
  stream?: MediaStream | undefined;
  /** Our own ICE configuration; the server's ICE servers are added to it on joining. */
  configuration: RTCConfiguration;
}

/**
 * Our membership in one room: a peer connection to every other member, whichever signaling
 * channel carries it (loopback or WebSocket).
 */
export class RoomSession {
  readonly #signaling: Signaling;
  readonly #options: RoomOptions;
  readonly #listener: RoomListener;
  readonly #peers = new Map<string, Peer>();
  #configuration: RTCConfiguration;
  #closed = false;

  constructor(signaling: Signaling, options: RoomOptions, listener: RoomListener) {
    this.#signaling = signaling;
    this.#options = options;
    this.#listener = listener;
    this.#configuration = options.configuration;
  }

  join(): void {
    this.#signaling.join({
      joined: ({ peers, iceServers }) => {
        if (this.#closed) return;
        const own = this.#options.configuration.iceServers ?? [];
        this.#configuration = { ...this.#options.configuration, iceServers: [...iceServers, ...own] };
        for (const peer of peers) this.#connect(peer);
        this.#listener.joined(peers.map(({ id, name }) => ({ id, name })));
      },
      peerJoined: (peer) => {
        if (this.#closed) return;
        this.#connect(peer);
        this.#listener.peerJoined({ id: peer.id, name: peer.name });
      },
      peerLeft: (peer) => {
        const connection = this.#peers.get(peer.id);
        if (this.#closed || !connection) return;
        connection.close();
        this.#peers.delete(peer.id);
        this.#listener.peerLeft(peer);
      },
      signal: (from, data) => {
        if (!this.#closed) void this.#peers.get(from)?.receive(data);
      },
      error: (error) => {
        if (!this.#closed) this.#listener.error(error);
      },
    });
  }

  /** The peer connections, by remote peer id (for stats and tests). */
  get peers(): ReadonlyMap<string, Peer> {
    return this.#peers;
  }

  /** Leave the room (the others are told) and close every peer connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const peer of this.#peers.values()) peer.close();
    this.#peers.clear();
    this.#signaling.leave();
  }

  #connect(remote: RemotePeer): void {
    this.#peers.get(remote.id)?.close();
    const peer = new Peer(remote.polite, this.#configuration, {
      signal: (data) => this.#signaling.signal(remote.id, data),
      stream: (stream) => this.#listener.remoteStream(remote.id, stream),
      status: (status) => this.#listener.peerStatus(remote.id, status),
      error: (cause) =>
        this.#listener.error(
          new RtcCallError('protocol', `Negotiation with the peer failed: ${describe(cause)}`, { cause }),
        ),
    });
    this.#peers.set(remote.id, peer);
    if (this.#options.stream) peer.addStream(this.#options.stream);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
