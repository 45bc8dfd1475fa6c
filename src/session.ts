// What a call itself is made of (peer connections, the room, the in-page loopback), fetched when
// the camera is asked for, as a chunk beside the bundle: a page that never calls does not load it.
export { RoomSession } from './room-session.js';
export { createLoopbackPair } from './signaling/loopback.js';
