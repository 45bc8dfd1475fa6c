import { RtcCallError } from './errors.js';
import { Peer, type PeerStatus } from './peer.js';
import type { IceServer, PeerInfo } from './protocol.js';
import type { RemotePeer, Signaling } from './signaling/signaling.js';

export interface RoomListener {
  /** We are in the room; `peers` were there before us. */
  joined(peers: PeerInfo[]): void;
  peerJoined(peer: PeerInfo): void;
  peerLeft(peer: PeerInfo): void;
  remoteStream(peerId: string, stream: MediaStream): void;
  peerStatus(peerId: string, status: PeerStatus): void;
  /** The data channel to that peer (it may not be open yet). */
  channel(peerId: string, channel: RTCDataChannel, connection: RTCPeerConnection): void;
  /** The signaling channel dropped and is coming back (calls carry on meanwhile), or is back. */
  signaling(status: 'reconnecting' | 'connected'): void;
  error(error: RtcCallError): void;
}

export interface RoomOptions {
  /** What we send; none for a receive-only side (the far end of a loopback call). */
  stream?: MediaStream | undefined;
  /** Our own ICE configuration; the server's ICE servers are added to it on joining. */
  configuration: RTCConfiguration;
  /** After a re-join, how long a call waits for its peer to come back, in ms. */
  rejoinGraceMs?: number;
}

interface Connection {
  peer: Peer;
  /** Mutable: a peer that re-joins gets a new id and keeps its connection. */
  remote: PeerInfo;
  orphanTimer?: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Our membership in one room: a peer connection to every other member, whichever signaling
 * channel carries it (loopback or WebSocket).
 */
export class RoomSession {
  readonly #signaling: Signaling;
  readonly #options: RoomOptions;
  readonly #listener: RoomListener;
  readonly #connections = new Map<string, Connection>();
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
      joined: ({ peers, iceServers, rejoin }) => {
        if (this.#closed) return;
        this.#useIceServers(iceServers);
        if (rejoin) {
          // The server lost our seat (e.g. it restarted) while calls went on peer to peer: keep
          // them for peers that come back, and let go of those that do not.
          for (const connection of this.#connections.values()) this.#orphan(connection);
          for (const peer of peers) {
            if (this.#adopt(peer)) continue;
            this.#connect(peer);
            this.#listener.peerJoined({ id: peer.id, name: peer.name });
          }
          return;
        }
        for (const peer of peers) this.#connect(peer);
        this.#listener.joined(peers.map(({ id, name }) => ({ id, name })));
      },
      peerJoined: (peer) => {
        if (this.#closed || this.#adopt(peer)) return;
        this.#connect(peer);
        this.#listener.peerJoined({ id: peer.id, name: peer.name });
      },
      peerLeft: (peer) => {
        const connection = this.#connections.get(peer.id);
        if (this.#closed || !connection) return;
        this.#drop(connection);
      },
      signal: (from, data) => {
        if (!this.#closed) void this.#connections.get(from)?.peer.receive(data);
      },
      iceServers: (servers) => {
        if (this.#closed) return;
        this.#useIceServers(servers);
        // For the ICE restarts to come; the paths in use are not touched.
        for (const { peer } of this.#connections.values()) {
          const pc = peer.connection;
          pc.setConfiguration({ ...pc.getConfiguration(), iceServers: this.#configuration.iceServers ?? [] });
        }
      },
      connection: (status) => {
        if (!this.#closed) this.#listener.signaling(status);
      },
      error: (error) => {
        if (!this.#closed) this.#listener.error(error);
      },
    });
  }

  /** The server's ICE servers (its TURN credentials, say) first, then the element's own. */
  #useIceServers(servers: IceServer[]): void {
    const own = this.#options.configuration.iceServers ?? [];
    this.#configuration = { ...this.#options.configuration, iceServers: [...servers, ...own] };
  }

  /** The peer connections, by remote peer id (for stats and tests). */
  get peers(): ReadonlyMap<string, Peer> {
    return new Map([...this.#connections].map(([id, connection]) => [id, connection.peer]));
  }

  /** Leave the room (the others are told) and close every peer connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const connection of this.#connections.values()) {
      clearTimeout(connection.orphanTimer);
      connection.peer.close();
    }
    this.#connections.clear();
    this.#signaling.leave();
  }

  #connect(remote: RemotePeer): void {
    this.#connections.get(remote.id)?.peer.close();
    // The callbacks read `info.id` when they run: it changes if the peer re-joins.
    const info: PeerInfo = { id: remote.id, name: remote.name };
    const peer = new Peer(remote.polite, this.#configuration, {
      signal: (data) => this.#signaling.signal(info.id, data),
      stream: (stream) => this.#listener.remoteStream(info.id, stream),
      status: (status) => this.#listener.peerStatus(info.id, status),
      channel: (channel) => queueMicrotask(() => this.#listener.channel(info.id, channel, peer.connection)),
      error: (cause) =>
        this.#listener.error(
          new RtcCallError('protocol', `Negotiation with the peer failed: ${describe(cause)}`, { cause }),
        ),
    });
    const connection: Connection = { peer, remote: info };
    this.#connections.set(remote.id, connection);
    const stream = this.#options.stream;
    // The polite side opens the negotiation; the impolite one answers with its media. This way
    // round, the only side that ever rolls back an offer (the polite one) made the first offer:
    // Chromium stops showing remote video on a side whose transceivers came from the remote
    // offer once it rolls back an offer of its own (a glare or two ICE restarts at once).
    if (stream && !remote.polite) peer.addStreamOnOffer(stream);
    else if (stream) peer.addStream(stream);
  }

  /** A peer that re-joined under a new id: carry on with the connection we have. */
  #adopt(peer: RemotePeer): boolean {
    const connection = peer.previous ? this.#connections.get(peer.previous) : undefined;
    if (!connection || !peer.previous) return false;
    clearTimeout(connection.orphanTimer);
    connection.orphanTimer = undefined;
    this.#connections.delete(peer.previous);
    connection.remote.id = peer.id;
    this.#connections.set(peer.id, connection);
    return true;
  }

  #orphan(connection: Connection): void {
    clearTimeout(connection.orphanTimer);
    connection.orphanTimer = setTimeout(() => this.#drop(connection), this.#options.rejoinGraceMs ?? 20000);
  }

  #drop(connection: Connection): void {
    clearTimeout(connection.orphanTimer);
    connection.peer.close();
    this.#connections.delete(connection.remote.id);
    this.#listener.peerLeft({ ...connection.remote });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
