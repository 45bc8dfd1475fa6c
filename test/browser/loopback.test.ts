import { expect, fixture, html } from '@open-wc/testing';
import type { RtcCall } from '../../src/rtc-call.js';
import { framesPresented, loopbackCall, nextEvent, part, statusText, untilState } from './helpers.js';

describe('<rtc-call loopback>', () => {
  it('connects and the remote video plays frames', async () => {
    const el = await loopbackCall();
    const remoteStream = nextEvent(el, 'rtc-call-remote-stream');
    await el.call();
    await untilState(el, 'connected');
    const { detail } = await remoteStream;
    expect(detail.stream).to.be.instanceOf(MediaStream);
    expect(detail.peerId).to.be.a('string').and.not.equal('');
    const remote = part<HTMLVideoElement>(el, 'remote-video');
    expect(remote.srcObject).to.equal(detail.stream);
    expect(await framesPresented(remote, 10)).to.equal(10);
    expect(statusText(el)).to.equal('Connected');
    await el.hangup();
  });

  it('a call video left paused (autoplay did not start it) is played at the next render', async () => {
    const el = await loopbackCall();
    await el.call();
    await untilState(el, 'connected');
    const remote = part<HTMLVideoElement>(el, 'remote-video');
    await framesPresented(remote, 2);
    remote.pause();
    expect(remote.paused).to.equal(true);
    el.requestUpdate();
    await el.updateComplete;
    expect(await framesPresented(remote, 5)).to.equal(5);
    expect(remote.paused).to.equal(false);
    await el.hangup();
  });

  it('goes ready → connecting → connected, with one state event per change', async () => {
    const el = await loopbackCall();
    const seen: string[] = [];
    el.addEventListener('rtc-call-state-change', ({ detail }) => seen.push(`${detail.previous}→${detail.state}`));
    await el.call();
    await untilState(el, 'connected');
    expect(seen).to.deep.equal(['idle→starting', 'starting→ready', 'ready→connecting', 'connecting→connected']);
    expect(el.getAttribute('state')).to.equal('connected');
    await el.hangup();
  });

  it('hang-up ends every local track and closes the connections; Call again connects', async () => {
    const el = await loopbackCall();
    await el.call();
    await untilState(el, 'connected');
    const tracks = el.localStream!.getTracks();
    const connections = el.connections;
    expect(tracks).to.have.length(2);
    expect(connections).to.have.length(2);

    await el.hangup();
    expect(el.state).to.equal('ended');
    expect(tracks.map((t) => t.readyState)).to.deep.equal(['ended', 'ended']);
    expect(connections.map((pc) => pc.connectionState)).to.deep.equal(['closed', 'closed']);
    expect(el.localStream).to.equal(undefined);
    expect(part<HTMLVideoElement>(el, 'local-video').srcObject).to.equal(null);

    await el.call();
    await untilState(el, 'connected');
    expect(await framesPresented(part<HTMLVideoElement>(el, 'remote-video'), 5)).to.equal(5);
    await el.hangup();
  });

  it('removed from the page mid-call: camera off, connections closed', async () => {
    const el = await loopbackCall();
    await el.call();
    await untilState(el, 'connected');
    const tracks = el.localStream!.getTracks();
    const connections = el.connections;
    el.remove();
    expect(tracks.every((t) => t.readyState === 'ended')).to.equal(true);
    expect(connections.every((pc) => pc.connectionState === 'closed')).to.equal(true);
    expect(el.state).to.equal('ended');
  });

  it('several elements on one page do not interfere', async () => {
    const container = await fixture<HTMLDivElement>(
      html`<div><rtc-call loopback></rtc-call><rtc-call loopback></rtc-call></div>`,
    );
    const [first, second] = [...container.querySelectorAll('rtc-call')] as [RtcCall, RtcCall];
    await Promise.all([first.call(), second.call()]);
    await Promise.all([untilState(first, 'connected'), untilState(second, 'connected')]);
    await first.hangup();
    expect(first.state).to.equal('ended');
    expect(second.state).to.equal('connected');
    expect(second.localStream!.getTracks().every((t) => t.readyState === 'live')).to.equal(true);
    expect(await framesPresented(part<HTMLVideoElement>(second, 'remote-video'), 5)).to.equal(5);
    await second.hangup();
  });

  it('events bubble out of the element and its shadow root to document', async () => {
    const el = await loopbackCall();
    const heard: string[] = [];
    const types = ['rtc-call-state-change', 'rtc-call-local-stream', 'rtc-call-remote-stream'] as const;
    const listener = (event: Event) => {
      expect((event as CustomEvent).bubbles && (event as CustomEvent).composed).to.equal(true);
      heard.push(event.type);
    };
    for (const type of types) document.addEventListener(type, listener);
    await el.call();
    await untilState(el, 'connected');
    await el.hangup();
    for (const type of types) document.removeEventListener(type, listener);
    expect(new Set(heard)).to.deep.equal(new Set(types));
  });

  it('Start shows the local preview before any call', async () => {
    const el = await loopbackCall();
    const local = nextEvent(el, 'rtc-call-local-stream');
    await el.start();
    expect(el.state).to.equal('ready');
    const { detail } = await local;
    const video = part<HTMLVideoElement>(el, 'local-video');
    expect(video.srcObject).to.equal(detail.stream);
    expect(video.muted).to.equal(true);
    expect(await framesPresented(video, 3)).to.equal(3);
    await el.hangup();
  });
});

describe('<rtc-call loopback> data channel', () => {
  it('send() before the call connects throws not-connected, fires rtc-call-error, and leaves the state alone', async () => {
    const el = await loopbackCall();
    const error = nextEvent(el, 'rtc-call-error');
    let thrown: unknown;
    try {
      el.send('too early');
    } catch (caught) {
      thrown = caught;
    }
    expect((thrown as { code?: string }).code).to.equal('not-connected');
    expect((await error).detail.code).to.equal('not-connected');
    expect(el.state).to.equal('idle');
    // Nor can the screen be shared outside a call.
    const rejected = await el.shareScreen().then(
      () => 'shared',
      (caught: { code?: string }) => caught.code,
    );
    expect(rejected).to.equal('not-connected');
    expect(el.sharingScreen).to.equal(false);
  });

  it('opens with the call: what you send comes back from the other end, text, JSON and a file', async () => {
    const el = await loopbackCall();
    await el.call();
    await untilState(el, 'connected');
    const messages: unknown[] = [];
    el.addEventListener('rtc-call-message', ({ detail }) => messages.push(detail.data));
    const deadline = Date.now() + 10000;
    // The channel opens a moment after the media connects.
    for (;;) {
      try {
        el.send('héllo 👋');
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    el.send({ list: [1, 'two'], ok: true });
    const bytes = new Uint8Array(300_000);
    for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
    const received = nextEvent(el, 'rtc-call-file');
    await el.sendFile(new File([bytes], 'echo.bin', { type: 'application/octet-stream' }));
    const { file } = (await received).detail;
    expect(file.name).to.equal('echo.bin');
    expect(file.type).to.equal('application/octet-stream');
    expect(new Uint8Array(await file.arrayBuffer())).to.deep.equal(bytes);
    expect(messages).to.deep.equal(['héllo 👋', { list: [1, 'two'], ok: true }]);
    await el.hangup();
  });
});
