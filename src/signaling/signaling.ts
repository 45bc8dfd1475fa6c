import type { RtcCallError } from '../errors.js';
import type { IceServer, PeerInfo, SignalData } from '../protocol.js';

export interface JoinedInfo {
  /** Our own peer id. */
  id: string;
  /** The peers already in the room, each with our perfect-negotiation role towards it. */
  peers: RemotePeer[];
  /** ICE servers the server hands out (e.g. short-lived TURN credentials). */
  iceServers: IceServer[];
}

export interface RemotePeer extends PeerInfo {
  polite: boolean;
}

/** What a signaling channel reports. `error` is final: the channel is closed after it. */
export interface SignalingListener {
  joined(info: JoinedInfo): void;
  peerJoined(peer: RemotePeer): void;
  peerLeft(peer: PeerInfo): void;
  signal(from: string, data: SignalData): void;
  error(error: RtcCallError): void;
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
  /** Leave the room (the peers hear `peerLeft`) and release the channel. */
  leave(): void;
}
