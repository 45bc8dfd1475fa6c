import { expect, fixture, html } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import type { RtcCall } from '../../src/rtc-call.js';
import { framesPresented, nextEvent, part, statusText, untilState } from './helpers.js';

/** Two elements, each with its own WebSocket to the real server the test runner started. */
async function pair(room: string): Promise<[RtcCall, RtcCall]> {
  const url = await executeServerCommand<string, undefined>('signaling-url');
  const container = await fixture<HTMLDivElement>(html`
    <div>
      <rtc-call room=${room} name="Ada" signaling-url=${url}></rtc-call>
      <rtc-call room=${room} name="Bob" signaling-url=${url}></rtc-call>
    </div>
  `);
  return [...container.querySelectorAll('rtc-call')] as [RtcCall, RtcCall];
}

const uniqueRoom = () => `room-${Math.random().toString(36).slice(2)}`;

describe('<rtc-call room> through the signaling server', () => {
  it('the first waits, the second connects, both remote videos play frames', async () => {
    const [ada, bob] = await pair(uniqueRoom());
    await ada.call();
    expect(ada.state).to.equal('waiting');
    expect(statusText(ada)).to.match(/^Waiting for someone to join/);

    const adaHearsBob = nextEvent(ada, 'rtc-call-peer-joined');
    const bobHearsAda = nextEvent(bob, 'rtc-call-peer-joined');
    await bob.call();
    expect((await adaHearsBob).detail.name).to.equal('Bob');
    expect((await bobHearsAda).detail.name).to.equal('Ada');

    await Promise.all([untilState(ada, 'connected'), untilState(bob, 'connected')]);
    await Promise.all([
      framesPresented(part<HTMLVideoElement>(ada, 'remote-video'), 10),
      framesPresented(part<HTMLVideoElement>(bob, 'remote-video'), 10),
    ]);
    await Promise.all([ada.hangup(), bob.hangup()]);
  });

  it('Start opens the signaling socket, Call joins on it; Hang-up closes it', async () => {
    const connections = () => executeServerCommand<number, undefined>('signaling-connections');
    const until = async (count: number) => {
      for (let i = 0; i < 100 && (await connections()) !== count; i++) await new Promise((r) => setTimeout(r, 50));
      return connections();
    };
    // The sockets of the tests before close as their elements are removed.
    const before = await until(0);
    const [ada] = await pair(uniqueRoom());
    await ada.start();
    // Open before Call, so joining does not wait for the handshake.
    expect(await until(before + 1)).to.equal(before + 1);
    await ada.call();
    expect(ada.state).to.equal('waiting');
    expect(await connections()).to.equal(before + 1);
    await ada.hangup();
    expect(await until(before)).to.equal(before);
  });

  it('waiting alone, the connection for the next peer is ready (offer made, candidates gathered) and is the one used', async () => {
    const made: RTCPeerConnection[] = [];
    const proto = RTCPeerConnection.prototype;
    const setLocalDescription = proto.setLocalDescription as (d?: RTCLocalSessionDescriptionInit) => Promise<void>;
    proto.setLocalDescription = function (this: RTCPeerConnection, description?: RTCLocalSessionDescriptionInit) {
      made.push(this);
      return setLocalDescription.call(this, description);
    };
    try {
      const [ada, bob] = await pair(uniqueRoom());
      await ada.call();
      expect(ada.state).to.equal('waiting');
      for (let i = 0; i < 100 && made[0]?.iceGatheringState !== 'complete'; i++)
        await new Promise((r) => setTimeout(r, 50));
      const [prepared] = made;
      expect(prepared?.localDescription?.type).to.equal('offer');
      expect(prepared?.iceGatheringState).to.equal('complete');
      expect(ada.connections).to.deep.equal([]);

      // A camera switched while waiting (as selectCamera does it) goes out on the prepared connection.
      const stream = ada.localStream!;
      const [old] = stream.getVideoTracks();
      const [fresh] = (await navigator.mediaDevices.getUserMedia({ video: true })).getVideoTracks();
      stream.removeTrack(old!);
      old!.stop();
      stream.addTrack(fresh!);

      await bob.call();
      await Promise.all([untilState(ada, 'connected'), untilState(bob, 'connected')]);
      expect(ada.connections[0]).to.equal(prepared);
      const sent = prepared!.getSenders().find((sender) => sender.track?.kind === 'video');
      expect(sent?.track).to.equal(fresh);
      await framesPresented(part<HTMLVideoElement>(bob, 'remote-video'), 10);

      // Alone again after the peer leaves: prepared again.
      const count = made.length;
      await bob.hangup();
      await untilState(ada, 'waiting');
      for (let i = 0; i < 100 && made.length === count; i++) await new Promise((r) => setTimeout(r, 50));
      expect(made.length).to.be.greaterThan(count);
      expect(made.at(-1)).to.not.equal(prepared);
      await ada.hangup();
      expect(made.at(-1)!.signalingState).to.equal('closed');
    } finally {
      proto.setLocalDescription = setLocalDescription;
    }
  });

  it('hang-up on one side sends the other back to waiting with rtc-call-peer-left', async () => {
    const [ada, bob] = await pair(uniqueRoom());
    await ada.call();
    await bob.call();
    await Promise.all([untilState(ada, 'connected'), untilState(bob, 'connected')]);
    const left = nextEvent(ada, 'rtc-call-peer-left');
    const bobTracks = bob.localStream!.getTracks();
    await bob.hangup();
    expect(bob.state).to.equal('ended');
    expect(bobTracks.every((t) => t.readyState === 'ended')).to.equal(true);
    const { detail } = await left;
    expect(detail.name).to.equal('Bob');
    await untilState(ada, 'waiting');
    expect(statusText(ada)).to.contain('Bob left');
    expect(part<HTMLVideoElement>(ada, 'remote-video').srcObject).to.equal(null);

    // The seat is free again: Bob calls back in and they reconnect.
    const history: string[] = [];
    for (const [who, el] of [
      ['ada', ada],
      ['bob', bob],
    ] as const) {
      for (const type of [
        'rtc-call-state-change',
        'rtc-call-peer-joined',
        'rtc-call-peer-left',
        'rtc-call-error',
      ] as const) {
        el.addEventListener(type, (e) => history.push(`${who} ${type} ${JSON.stringify((e as CustomEvent).detail)}`));
      }
    }
    await bob.call();
    await Promise.all([untilState(ada, 'connected'), untilState(bob, 'connected')]).catch((e) => {
      throw new Error(`${e}\n${history.join('\n')}`);
    });
    await Promise.all([ada.hangup(), bob.hangup()]);
  });

  it('a third element in a full room fails with room-full', async () => {
    const room = uniqueRoom();
    const [ada, bob] = await pair(room);
    const url = ada.getAttribute('signaling-url')!;
    const carol = await fixture<RtcCall>(html`<rtc-call room=${room} signaling-url=${url}></rtc-call>`);
    await ada.call();
    await bob.call();
    const error = nextEvent(carol, 'rtc-call-error');
    const rejected = await carol.call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(rejected).to.have.property('code', 'room-full');
    expect((await error).detail.code).to.equal('room-full');
    expect(carol.state).to.equal('failed');
    expect(statusText(carol)).to.contain('is full');
    expect(carol.localStream).to.equal(undefined);
    await Promise.all([ada.hangup(), bob.hangup()]);
  });

  it('an unreachable server gives signaling-unreachable naming the URL', async () => {
    const el = await fixture<RtcCall>(html`<rtc-call room="x" signaling-url="ws://127.0.0.1:9/signal"></rtc-call>`);
    const error = nextEvent(el, 'rtc-call-error');
    await el.call().catch(() => {});
    const { detail } = await error;
    expect(detail.code).to.equal('signaling-unreachable');
    expect(detail.message).to.contain('ws://127.0.0.1:9/signal');
    expect(el.state).to.equal('failed');
    expect(statusText(el)).to.contain('ws://127.0.0.1:9/signal');
  });
});
