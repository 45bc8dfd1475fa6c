import { expect, fixture, html } from '@open-wc/testing';
import type { RtcCallErrorCode } from '../../src/errors.js';
import type { RtcCall } from '../../src/rtc-call.js';
import { nextEvent, statusText, watchUncaught } from './helpers.js';

/** Runs `action` and checks the contract for a failure: one typed event, state failed, the message shown. */
async function expectFailure(
  el: RtcCall,
  action: () => Promise<unknown>,
  code: RtcCallErrorCode,
  messagePattern: RegExp,
): Promise<void> {
  const uncaught = watchUncaught();
  const events: CustomEvent[] = [];
  el.addEventListener('rtc-call-error', (e) => events.push(e));
  const rejection = await action().then(
    () => undefined,
    (error: unknown) => error,
  );
  await el.updateComplete;
  await new Promise((resolve) => setTimeout(resolve, 50));
  uncaught.stop();
  expect(rejection, 'the method rejects').to.have.property('code', code);
  expect(events.map((e) => e.detail.code)).to.deep.equal([code]);
  expect(events[0]!.detail.message).to.match(messagePattern);
  expect(el.state).to.equal('failed');
  expect(el.getAttribute('state')).to.equal('failed');
  expect(statusText(el)).to.equal(events[0]!.detail.message);
  expect(uncaught.errors, 'no uncaught exception').to.deep.equal([]);
  expect(el.localStream, 'no camera left running').to.equal(undefined);
}

/** Replaces getUserMedia for one test with one that rejects like the browser does. */
function rejectGetUserMedia(name: string): () => void {
  const original = navigator.mediaDevices.getUserMedia;
  navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('stubbed', name));
  return () => {
    navigator.mediaDevices.getUserMedia = original;
  };
}

describe('errors a user can act on', () => {
  it('a camera that does not exist → media-not-found (real: an exact deviceId nobody has)', async () => {
    const el = await fixture<RtcCall>(
      html`<rtc-call loopback constraints='{"video":{"deviceId":{"exact":"no-such-camera"}}}'></rtc-call>`,
    );
    await expectFailure(el, () => el.start(), 'media-not-found', /No camera or microphone/);
  });

  it('permission denied → media-denied, and Start again works once allowed', async () => {
    const el = await fixture<RtcCall>(html`<rtc-call loopback></rtc-call>`);
    const restore = rejectGetUserMedia('NotAllowedError');
    try {
      await expectFailure(el, () => el.call(), 'media-denied', /permission was denied/);
    } finally {
      restore();
    }
    await el.start();
    expect(el.state).to.equal('ready');
    await el.hangup();
  });

  it('camera busy → media-in-use', async () => {
    const el = await fixture<RtcCall>(html`<rtc-call loopback></rtc-call>`);
    const restore = rejectGetUserMedia('NotReadableError');
    try {
      await expectFailure(el, () => el.start(), 'media-in-use', /in use by another program/);
    } finally {
      restore();
    }
  });

  it('malformed ice-servers JSON → bad-config naming the attribute, before the camera starts', async () => {
    const el = await fixture<RtcCall>(html`<rtc-call loopback ice-servers="[{urls:"></rtc-call>`);
    let asked = false;
    const original = navigator.mediaDevices.getUserMedia;
    navigator.mediaDevices.getUserMedia = (c) => ((asked = true), original.call(navigator.mediaDevices, c));
    try {
      await expectFailure(el, () => el.call(), 'bad-config', /ice-servers attribute is not valid JSON/);
    } finally {
      navigator.mediaDevices.getUserMedia = original;
    }
    expect(asked, 'camera not requested').to.equal(false);
  });

  it('ice-servers that are JSON but not ICE servers → bad-config', async () => {
    const el = await fixture<RtcCall>(html`<rtc-call loopback ice-servers='[{"url":"stun:x"}]'></rtc-call>`);
    await expectFailure(el, () => el.call(), 'bad-config', /ice-servers attribute entry 0 needs "urls"/);
  });

  it('malformed constraints JSON → bad-config naming the attribute', async () => {
    const el = await fixture<RtcCall>(html`<rtc-call loopback constraints="{video: true"></rtc-call>`);
    await expectFailure(el, () => el.start(), 'bad-config', /constraints attribute is not valid JSON/);
  });

  it('an unknown ice-transport-policy → bad-config', async () => {
    const el = await fixture<RtcCall>(html`<rtc-call loopback ice-transport-policy="turn-only"></rtc-call>`);
    await expectFailure(el, () => el.call(), 'bad-config', /ice-transport-policy attribute must be "all" or "relay"/);
  });

  it('a signaled call with no room → bad-config', async () => {
    const el = await fixture<RtcCall>(html`<rtc-call signaling-url="ws://127.0.0.1:9/signal"></rtc-call>`);
    await expectFailure(el, () => el.call(), 'bad-config', /room attribute is empty/);
  });

  it('pressing the Start button on a failure never throws out of the click', async () => {
    const el = await fixture<RtcCall>(html`<rtc-call loopback constraints="nope"></rtc-call>`);
    const uncaught = watchUncaught();
    const error = nextEvent(el, 'rtc-call-error');
    el.shadowRoot!.querySelector<HTMLButtonElement>('[part=start-button]')!.click();
    expect((await error).detail.code).to.equal('bad-config');
    await new Promise((resolve) => setTimeout(resolve, 50));
    uncaught.stop();
    expect(uncaught.errors).to.deep.equal([]);
  });
});
