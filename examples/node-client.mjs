#!/usr/bin/env node
// A call peer without a browser: joins an rtc-call room, takes the call of the <rtc-call> element
// there, sends it a generated video, prints what it receives (video frames, chat) and answers the
// chat. It speaks the protocol of docs/protocol.md with `ws` and `@roamhq/wrtc` (libwebrtc for Node):
//
//   npm install ws @roamhq/wrtc
//   node examples/node-client.mjs --room team-standup [--url ws://localhost:8080/signal] [--name Robot]
//
// Open http://localhost:8080/?room=team-standup in a browser and press Call, before or after.
// The client leaves when the other side hangs up (exit 0), or on Ctrl-C.
import wrtc from '@roamhq/wrtc';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';

const { RTCPeerConnection, nonstandard } = wrtc;
const { values: options } = parseArgs({
  options: {
    room: { type: 'string' },
    url: { type: 'string', default: 'ws://localhost:8080/signal' },
    name: { type: 'string', default: 'Node client' },
    token: { type: 'string' },
    origin: { type: 'string' }, // for a server with ALLOWED_ORIGINS
  },
});
if (!options.room) {
  console.error('usage: node examples/node-client.mjs --room ROOM [--url ws://host:port/signal] [--name NAME]');
  process.exit(2);
}

const log = (...words) => console.log(...words);
const socket = new WebSocket(options.url, options.origin ? { origin: options.origin } : {});
/** The highest `seq` received: confirmed with every ping, so the server can drop its copies. */
let received = 0;
let iceServers = [];
/** The one call: its peer connection, the peer's id, and our video source. */
let call;

const send = (message) => socket.send(JSON.stringify(message));
const signal = (data) => send({ type: 'signal', to: call.peerId, data });

socket.on('open', () => {
  send({ type: 'join', room: options.room, name: options.name, ...(options.token ? { token: options.token } : {}) });
  // The server cuts a seat that leaves what it was sent unconfirmed for 20 s.
  setInterval(() => send({ type: 'ping', received }), 4000).unref();
});
socket.on('close', (code, reason) => {
  log(`signaling closed: ${code} ${reason}`);
  finish(code === 1000 ? 0 : 1);
});
socket.on('message', async (text) => {
  const message = JSON.parse(text);
  if (typeof message.seq === 'number') received = Math.max(received, message.seq);
  switch (message.type) {
    case 'joined':
      log(`joined room as ${message.id}`);
      iceServers = message.iceServers;
      // Someone was here first: they are polite towards us and make the first offer.
      if (message.peers.length > 0) startCall(message.peers[0], false);
      break;
    case 'peer-joined':
      // We were here first: we are polite towards them and make the first offer.
      if (!call) startCall(message, message.polite);
      break;
    case 'signal':
      if (call && message.from === call.peerId) await receive(message.signal.data);
      break;
    case 'peer-left':
      if (call && message.id === call.peerId) {
        log('call ended by the other side');
        send({ type: 'leave' });
        finish(0);
      }
      break;
    case 'error':
      log(`error from the server: ${message.code}: ${message.message}`);
      if (message.code !== 'protocol') finish(1);
      break;
  }
});

function startCall(peer, polite) {
  log(`calling with ${peer.name || peer.id}`);
  const pc = new RTCPeerConnection({ iceServers });
  const source = new nonstandard.RTCVideoSource();
  call = { pc, peerId: peer.id, source, track: source.createTrack(), tracksAdded: false, frames: 0 };
  pc.onicecandidate = ({ candidate }) => {
    if (candidate) {
      const { candidate: line, sdpMid, sdpMLineIndex, usernameFragment } = candidate;
      signal({ candidate: { candidate: line, sdpMid, sdpMLineIndex, usernameFragment: usernameFragment ?? null } });
    }
  };
  pc.onconnectionstatechange = () => log(`connection ${pc.connectionState}`);
  pc.ontrack = ({ track }) => {
    if (track.kind !== 'video') return;
    const sink = new nonstandard.RTCVideoSink(track);
    sink.onframe = ({ frame }) => {
      if (call.frames++ === 0) log(`video: first frame ${frame.width}x${frame.height}`);
      else if (call.frames % 100 === 0) log(`video: ${call.frames} frames`);
    };
    call.sink = sink;
  };
  // The side that makes the first offer opens the data channel, named "rtc-call".
  if (polite) useChannel(pc.createDataChannel('rtc-call'));
  else pc.ondatachannel = ({ channel }) => useChannel(channel);
  call.timer = setInterval(() => call.source.onFrame(testPattern(call.frames + Date.now() / 40)), 1000 / 15);
  if (polite) void offer();
}

/** Our video goes in the answer to the peer's first offer (or in our own first offer). */
function addTracks() {
  if (call.tracksAdded) return;
  call.tracksAdded = true;
  call.pc.addTrack(call.track);
}

async function offer() {
  addTracks();
  await call.pc.setLocalDescription(await call.pc.createOffer());
  signal({ description: { type: 'offer', sdp: call.pc.localDescription.sdp } });
}

async function receive(data) {
  const pc = call.pc;
  if (data.description) {
    // We never renegotiate after the first offer, so an offer from the peer (an ICE restart, a
    // screen share) only collides with our own first one; the newer one wins (an implicit rollback).
    await pc.setRemoteDescription(data.description);
    if (data.description.type === 'offer') {
      addTracks();
      await pc.setLocalDescription(await pc.createAnswer());
      signal({ description: { type: 'answer', sdp: pc.localDescription.sdp } });
    }
  } else if (data.candidate) {
    await pc.addIceCandidate(data.candidate).catch(() => {});
  }
  // `relayOnly` (moving a frozen call onto TURN relays) is left out here: see docs/protocol.md.
}

/** Data-channel frames are JSON text with a `t`; binary frames (file chunks) are ignored here. */
function useChannel(channel) {
  const frame = (value) => channel.send(JSON.stringify(value));
  channel.onopen = () => {
    log('data channel open');
    // What we send: video, no audio (the element then waits for no audio from us).
    frame({ t: 'media', a: false, v: true });
  };
  channel.onmessage = ({ data }) => {
    if (typeof data !== 'string') return;
    const message = JSON.parse(data);
    if (message.t === 'msg') {
      log(`chat: ${JSON.stringify(message.d)}`);
      frame({
        t: 'msg',
        d: `${options.name} got: ${typeof message.d === 'string' ? message.d : JSON.stringify(message.d)}`,
      });
    } else if (message.t === 'file') {
      frame({ t: 'refuse', name: message.name, reason: 'busy' });
    }
  };
}

/** A 320×240 I420 frame: a grey ramp that moves, so the picture is seen to play. */
function testPattern(phase) {
  const width = 320;
  const height = 240;
  const data = new Uint8ClampedArray(width * height * 1.5);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = (x + y + phase) % 256;
  }
  data.fill(128, width * height); // no colour
  return { width, height, data };
}

let finishing = false;
function finish(code) {
  if (finishing) return;
  finishing = true;
  if (call) {
    clearInterval(call.timer);
    call.sink?.stop();
    call.track.stop();
    call.pc.close();
  }
  // Exits once the close handshake is done (what was sent before it, a `leave`, has gone out).
  socket.once('close', () => process.exit(code));
  socket.close(1000);
  setTimeout(() => process.exit(code), 2000).unref();
}

process.on('SIGINT', () => {
  if (socket.readyState === WebSocket.OPEN) send({ type: 'leave' });
  finish(0);
});
