import type { RtcCallError } from '../errors.js';
import type { IceServer, PeerInfo, SignalData } from '../protocol.js';

export interface JoinedInfo {
  /** Our own peer id. */
  id: string;
  /** The peers already in the room, each with our perfect-negotiation role towards it. */
  peers: RemotePeer[];
  /** ICE servers the server hands out (e.g. short-lived TURN credentials). */
  iceServers: IceServer[];
  /**
   * True when we were in the room before and the server no longer knew our seat (it restarted,
   * or we were away too long): we joined afresh, and peers that come back carry `previous`.
   */
  rejoin: boolean;
}

export interface RemotePeer extends PeerInfo {
  polite: boolean;
  /** The id this peer had before it re-joined, so a call in progress can carry on with it. */
  previous?: string | undefined;
}

/** What a signaling channel reports. `error` is final: the channel is closed after it. */
export interface SignalingListener {
  joined(info: JoinedInfo): void;
  peerJoined(peer: RemotePeer): void;
  /** Someone left; also one who knocked (`knock`) and went. */
  peerLeft(peer: PeerInfo): void;
  /** With `lobby`: someone waits to be let in (`decide`). */
  knock(peer: PeerInfo): void;
  /** We wait in the lobby, for someone in the room to let us in (`peerJoined`) or not (`declined`). */
  knocking(): void;
  signal(from: string, data: SignalData): void;
  /** Fresh ICE servers from the server (its TURN credentials expire), e.g. after a resume. */
  iceServers(servers: IceServer[]): void;
  /** The channel to the server was lost and is being re-established, or is back. */
  connection(status: 'reconnecting' | 'connected'): void;
  error(error: RtcCallError): void;
  /** Something we could not read, ignored: the channel carries on. */
  warning(error: RtcCallError): void;
}

/**
 * One interface for every way two peers find each other: in-page loopback and the WebSocket
 * server. The room session above it does not know which it has.
 */
export interface Signaling {
  /** Join the room; the listener hears `joined` first, then presence and signals. */
  join(listener: SignalingListener): void;
  /** Send to one peer of the room. */
  signal(to: string, data: SignalData): void;
  /** Let in (`admit`) or turn away someone who knocked. Only where there is a lobby. */
  decide?(id: string, admit: boolean): void;
  /** Leave the room (the peers hear `peerLeft`) and release the channel. */
  leave(): void;
}
