import { RtcCallError } from './errors.js';
import { Peer, type PeerStatus } from './peer.js';
import type { IceServer, PeerInfo } from './protocol.js';
import type { RemotePeer, Signaling } from './signaling/signaling.js';

export interface RoomListener {
  /** We are in the room; `peers` were there before us. */
  joined(peers: PeerInfo[]): void;
  peerJoined(peer: PeerInfo): void;
  peerLeft(peer: PeerInfo): void;
  /** With `lobby`: someone waits to be let in (`decide`), or waits no more (let in, turned away, gone). */
  knock(peer: PeerInfo): void;
  knockGone(peer: PeerInfo, admitted: boolean): void;
  /** We wait in the lobby for someone in the room to let us in. */
  knocking(): void;
  /** A remote stream started; `replaces` when it is the first of a connection that took over from another. */
  remoteStream(peerId: string, stream: MediaStream, replaces: boolean): void;
  /** With `failed`: whether a TURN relay was tried too. */
  peerStatus(peerId: string, status: PeerStatus, detail: { relay: boolean }): void;
  /** The data channel to that peer (it may not be open yet). */
  channel(peerId: string, channel: RTCDataChannel, connection: RTCPeerConnection): void;
  /** The signaling channel dropped and is coming back (calls carry on meanwhile), or is back. */
  signaling(status: 'reconnecting' | 'connected'): void;
  error(error: RtcCallError): void;
  /** Something the server sent that we could not read: ignored, the call carries on. */
  warning(error: RtcCallError): void;
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
  readonly polite: boolean;
  /** The polite side closed this connection and waits for the peer's relay-only one (`ready`). */
  replacing?: boolean;
  /** The impolite side asked the polite one to move to relays only. */
  asked?: boolean;
  /** Mutable: a peer that re-joins gets a new id and keeps its connection. */
  remote: PeerInfo;
  orphanTimer?: ReturnType<typeof setTimeout> | undefined;
  /** Gives the connection its remote peer: what it did before (its offer, say) goes out now. */
  bind(remote: PeerInfo): void;
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
  /** Who knocks at our lobby: nothing of ours goes to them until we let them in. */
  readonly #knocks = new Map<string, PeerInfo>();
  /**
   * While we wait alone in the room: a connection with our media added, its offer made and its
   * candidates gathered, for whoever joins next (towards whom we are the polite side, the one
   * that offers). Setting up a connection and its offer takes tens of ms; this way they are not
   * on the path from the newcomer's Call to the first frame.
   */
  #spare: Connection | undefined;
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
        this.#prepareSpare();
      },
      peerJoined: (peer) => {
        if (this.#closed) return;
        this.#knockGone(peer.id, true);
        if (this.#adopt(peer)) return;
        this.#connect(peer);
        this.#listener.peerJoined({ id: peer.id, name: peer.name });
      },
      peerLeft: (peer) => {
        if (this.#closed) return;
        this.#knockGone(peer.id, false);
        const connection = this.#connections.get(peer.id);
        if (connection) this.#drop(connection);
      },
      knock: (peer) => {
        if (this.#closed || this.#knocks.has(peer.id)) return;
        this.#knocks.set(peer.id, peer);
        this.#listener.knock(peer);
      },
      knocking: () => {
        if (!this.#closed) this.#listener.knocking();
      },
      warning: (error) => {
        if (!this.#closed) this.#listener.warning(error);
      },
      signal: (from, data) => {
        if (this.#closed) return;
        if ('relayOnly' in data) this.#relayStep(from, data.relayOnly);
        else void this.#connections.get(from)?.peer.receive(data);
      },
      iceServers: (servers) => {
        if (this.#closed) return;
        this.#useIceServers(servers);
        // For the ICE restarts to come; the paths in use are not touched.
        for (const { peer } of this.#connections.values()) {
          const pc = peer.connection;
          pc.setConfiguration({ ...pc.getConfiguration(), iceServers: this.#configuration.iceServers ?? [] });
        }
        // Its candidates came from the old servers: prepare it again.
        if (this.#spare) {
          this.#spare.peer.close();
          this.#spare = undefined;
          this.#prepareSpare();
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

  /** Who knocks at our lobby, in the order they knocked. */
  get knocks(): PeerInfo[] {
    return [...this.#knocks.values()];
  }

  /** Lets in (`admit`) or turns away someone knocking; false if no one with that id knocks. */
  decide(id: string, admit: boolean): boolean {
    if (this.#closed || !this.#knocks.has(id) || !this.#signaling.decide) return false;
    this.#signaling.decide(id, admit);
    // Let in, they come as `peerJoined`; turned away, they are gone now.
    if (!admit) this.#knockGone(id, false);
    return true;
  }

  #knockGone(id: string, admitted: boolean): void {
    const peer = this.#knocks.get(id);
    if (!peer) return;
    this.#knocks.delete(id);
    this.#listener.knockGone(peer, admitted);
  }

  /** The server's ICE servers (its TURN credentials, say) first, then the element's own. */
  #useIceServers(servers: IceServer[]): void {
    const own = this.#options.configuration.iceServers ?? [];
    this.#configuration = { ...this.#options.configuration, iceServers: [...servers, ...own] };
  }

  /**
   * What the peer says it sends (its data channel tells us): a kind it does not send is not
   * waited for, nor a shared screen's video (a still screen sends no frames).
   */
  expectMedia(peerId: string, sends: { audio: boolean; video: boolean; screen?: boolean | undefined }): void {
    this.#connections.get(peerId)?.peer.expectMedia({ audio: sends.audio, video: sends.video && !sends.screen });
  }

  /** The peer connections, by remote peer id (for stats and tests). */
  get peers(): ReadonlyMap<string, Peer> {
    return new Map([...this.#connections].map(([id, connection]) => [id, connection.peer]));
  }

  /** Leave the room (the others are told) and close every peer connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#knocks.clear();
    this.#spare?.peer.close();
    this.#spare = undefined;
    for (const connection of this.#connections.values()) {
      clearTimeout(connection.orphanTimer);
      connection.peer.close();
    }
    this.#connections.clear();
    this.#signaling.leave();
  }

  #connect(remote: RemotePeer): void {
    this.#connections.get(remote.id)?.peer.close();
    let connection = this.#spare;
    this.#spare = undefined;
    if (connection && !remote.polite) {
      // Prepared to offer, but this peer offers to us: not the connection for it.
      connection.peer.close();
      connection = undefined;
    }
    connection ??= this.#newConnection(remote.polite);
    this.#connections.set(remote.id, connection);
    connection.bind({ id: remote.id, name: remote.name });
  }

  /** Alone in the room, with media to send: make the connection for the next one now. */
  #prepareSpare(): void {
    if (this.#closed || this.#spare || this.#connections.size > 0 || !this.#options.stream) return;
    this.#spare = this.#newConnection(true);
  }

  /**
   * The call to `id` moves to TURN relays only, on a new connection on each side (its path froze
   * twice). In order, so that no signal of an old connection reaches a new one: the polite side
   * closes its connection and says `replace`; the impolite side closes its own, makes a relay-only
   * one and says `ready`; the polite side then makes its own, which offers. The impolite side
   * that wants it first says `ask`.
   */
  #relayStep(id: string, step: 'ask' | 'replace' | 'ready' | 'want'): void {
    const connection = this.#connections.get(id);
    if (!connection) return;
    const { peer, polite } = connection;
    if (step === 'want' && !polite) {
      if (connection.asked) return;
      connection.asked = true;
      this.#signaling.signal(id, { relayOnly: 'ask' });
    } else if ((step === 'want' || step === 'ask') && polite) {
      if (connection.replacing || peer.relayOnly || !peer.relayAvailable) return;
      connection.replacing = true;
      peer.close();
      this.#signaling.signal(id, { relayOnly: 'replace' });
    } else if (step === 'replace' && !polite) {
      this.#replace(connection, peer.relayAvailable);
      this.#signaling.signal(id, { relayOnly: 'ready' });
    } else if (step === 'ready' && polite && connection.replacing) {
      this.#replace(connection, true);
    }
  }

  /** A new connection to the same peer instead of `old` (relay-only, if `relay`). */
  #replace(old: Connection, relay: boolean): void {
    old.peer.close();
    const configuration = relay
      ? { ...this.#configuration, iceTransportPolicy: 'relay' as const }
      : this.#configuration;
    const connection = this.#newConnection(old.polite, configuration, true);
    this.#connections.set(old.remote.id, connection);
    connection.bind({ ...old.remote });
  }

  #newConnection(
    polite: boolean,
    configuration: RTCConfiguration = this.#configuration,
    replacement = false,
  ): Connection {
    let replaces = replacement;
    // The callbacks read `info.id` when they run: it is set by bind(), and changes if the peer re-joins.
    const info: PeerInfo = { id: '', name: '' };
    let held: (() => void)[] | undefined = [];
    const whenBound = (action: () => void) => (held ? held.push(action) : action());
    const peer = new Peer(polite, configuration, {
      signal: (data) => whenBound(() => this.#signaling.signal(info.id, data)),
      stream: (stream) => {
        this.#listener.remoteStream(info.id, stream, replaces);
        replaces = false;
      },
      status: (status, detail) => this.#listener.peerStatus(info.id, status, detail),
      channel: (channel) =>
        whenBound(() => queueMicrotask(() => this.#listener.channel(info.id, channel, peer.connection))),
      error: (cause) =>
        this.#listener.error(
          new RtcCallError('protocol', `Negotiation with the peer failed: ${describe(cause)}`, { cause }),
        ),
      relayOnly: () => this.#relayStep(info.id, 'want'),
    });
    const stream = this.#options.stream;
    // The polite side opens the negotiation; the impolite one answers with its media. This way
    // round, the only side that ever rolls back an offer (the polite one) made the first offer:
    // Chromium stops showing remote video on a side whose transceivers came from the remote
    // offer once it rolls back an offer of its own (a glare or two ICE restarts at once).
    if (stream && !polite) peer.addStreamOnOffer(stream);
    else if (stream) peer.addStream(stream);
    return {
      peer,
      polite,
      remote: info,
      bind(remote) {
        Object.assign(info, remote);
        if (stream) peer.useTracksOf(stream);
        const actions = held ?? [];
        held = undefined;
        for (const action of actions) action();
        peer.begin();
      },
    };
  }

  /** A peer that re-joined under a new id: carry on with the connection we have. */
  #adopt(peer: RemotePeer): boolean {
    // After our own re-join, a peer that kept its seat (it is on another server, or resumed
    // there) is still the one our connection goes to.
    const same = this.#connections.get(peer.id);
    if (same?.orphanTimer) {
      clearTimeout(same.orphanTimer);
      same.orphanTimer = undefined;
      return true;
    }
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
    this.#prepareSpare();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
