import { expect, fixture, html } from '@open-wc/testing';
import { emulateMedia, executeServerCommand, sendKeys } from '@web/test-runner-commands';
import type { RtcCall } from '../../src/rtc-call.js';
import { part, untilState } from './helpers.js';

/** The element whose focus the shadow root holds, by part name. */
const focusedPart = (el: RtcCall) => el.shadowRoot!.activeElement?.getAttribute('part');

describe('<rtc-call> accessibility', () => {
  it('is axe-clean in every state it passes through, with the chat panel, in light and dark', async () => {
    const url = await executeServerCommand<string, undefined>('signaling-url');
    const room = `a11y-${Math.random().toString(36).slice(2)}`;
    const el = await fixture<RtcCall>(html`<rtc-call chat room=${room} name="Ada" signaling-url=${url}></rtc-call>`);
    const checked: string[] = [];
    const check = async () => {
      await el.updateComplete;
      for (const colorScheme of ['light', 'dark'] as const) {
        await emulateMedia({ colorScheme });
        await expect(el).to.be.accessible();
      }
      await emulateMedia({ colorScheme: 'light' });
      checked.push(el.state);
    };
    await check(); // idle
    await el.start();
    await check(); // ready
    await el.call();
    await check(); // waiting
    const peer = await fixture<RtcCall>(html`<rtc-call room=${room} name="Bo" signaling-url=${url}></rtc-call>`);
    await peer.call();
    await untilState(el, 'connected');
    await check(); // connected, the chat enabled
    await peer.hangup();
    await untilState(el, 'waiting');
    await el.hangup();
    await check(); // ended
    const failed = await fixture<RtcCall>(html`<rtc-call chat loopback constraints="oops"></rtc-call>`);
    await failed.start().catch(() => {});
    await failed.updateComplete;
    expect(failed.state).to.equal('failed');
    await expect(failed).to.be.accessible();
    checked.push(failed.state);
    expect(checked).to.deep.equal(['idle', 'ready', 'waiting', 'connected', 'ended', 'failed']);
  });

  it('is axe-clean while starting and connecting too', async () => {
    const url = await executeServerCommand<string, undefined>('signaling-url');
    const room = `a11y-${Math.random().toString(36).slice(2)}`;
    const media = navigator.mediaDevices;
    const getUserMedia = media.getUserMedia;
    // A camera prompt nobody answers: the element stays in `starting`.
    media.getUserMedia = () => new Promise<MediaStream>(() => {});
    const waiting = await fixture<RtcCall>(html`<rtc-call chat loopback></rtc-call>`);
    try {
      void waiting.start().catch(() => {});
      await untilState(waiting, 'starting');
      await waiting.updateComplete;
      await expect(waiting).to.be.accessible();
    } finally {
      media.getUserMedia = getUserMedia;
      await waiting.hangup();
    }
    // A peer that joins and never answers: the element stays `connecting`.
    const el = await fixture<RtcCall>(html`<rtc-call chat room=${room} signaling-url=${url}></rtc-call>`);
    await el.call();
    const silent = new WebSocket(url);
    await new Promise((resolve) => silent.addEventListener('open', resolve, { once: true }));
    silent.send(JSON.stringify({ type: 'join', room, name: 'Silent' }));
    try {
      await untilState(el, 'connecting');
      await el.updateComplete;
      await expect(el).to.be.accessible();
    } finally {
      silent.close();
      await el.hangup();
    }
  });

  it('the lobby: a knock is axe-clean, announced, and Admit / Decline are reached with Tab and pressed with Enter', async () => {
    const url = await executeServerCommand<string, undefined>('signaling-url');
    const room = `a11y-${Math.random().toString(36).slice(2)}`;
    const el = await fixture<RtcCall>(html`<rtc-call lobby room=${room} signaling-url=${url}></rtc-call>`);
    await el.call();
    const knocker = new WebSocket(url);
    const heard: string[] = [];
    knocker.addEventListener('message', ({ data }) => heard.push(JSON.parse(data as string).type));
    await new Promise((resolve) => knocker.addEventListener('open', resolve, { once: true }));
    try {
      const knocked = new Promise<CustomEvent>((resolve) =>
        el.addEventListener('rtc-call-knock', resolve, { once: true }),
      );
      knocker.send(JSON.stringify({ type: 'join', room, name: 'Knocker' }));
      expect((await knocked).detail.name).to.equal('Knocker');
      await el.updateComplete;
      await expect(el).to.be.accessible();
      expect(part(el, 'knock').getAttribute('aria-label')).to.equal('Knocker wants to join');
      // The lobby comes before the controls: Admit, then Decline, in Tab order.
      part(el, 'admit-button').focus();
      expect(focusedPart(el)).to.equal('admit-button');
      await sendKeys({ press: 'Tab' });
      expect(focusedPart(el)).to.equal('decline-button');
      await sendKeys({ press: 'Enter' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await el.updateComplete;
      expect(el.knocks).to.deep.equal([]);
      expect(el.shadowRoot!.querySelector('[part="lobby"]')).to.equal(null);
      expect(heard).to.include('error');
      expect(heard).to.not.include('peer-joined');
    } finally {
      knocker.close();
      await el.hangup();
    }
  });

  it('keyboard only: Tab in control order, Start → Call → Mute → Hang up with Enter and Space', async () => {
    const el = await fixture<RtcCall>(html`<rtc-call loopback></rtc-call>`);
    part(el, 'start-button').focus();
    const order = [focusedPart(el)];
    for (let i = 0; i < 5; i++) {
      await sendKeys({ press: 'Tab' });
      order.push(focusedPart(el));
    }
    // Disabled buttons (Hang up, Share screen while idle) are skipped.
    expect(order.slice(0, 4)).to.deep.equal(['start-button', 'call-button', 'mute-button', 'camera-button']);

    part(el, 'start-button').focus();
    await sendKeys({ press: 'Enter' });
    await untilState(el, 'ready');
    await el.updateComplete;
    part(el, 'call-button').focus();
    await sendKeys({ press: 'Enter' });
    await untilState(el, 'connected');
    await el.updateComplete;
    part(el, 'mute-button').focus();
    await sendKeys({ press: 'Space' });
    await el.updateComplete;
    expect(el.muted).to.equal(true);
    expect(part(el, 'mute-button').getAttribute('aria-pressed')).to.equal('true');
    expect(el.localStream!.getAudioTracks().every((t) => !t.enabled)).to.equal(true);
    part(el, 'hangup-button').focus();
    await sendKeys({ press: 'Enter' });
    await untilState(el, 'ended');
    await el.updateComplete;
    // And Space on Call begins again.
    part(el, 'call-button').focus();
    await sendKeys({ press: 'Space' });
    await untilState(el, 'connected');
    await el.hangup();
  });

  it('visible focus: a keyboard-focused button has an outline', async () => {
    const el = await fixture<RtcCall>(html`<rtc-call loopback></rtc-call>`);
    part(el, 'start-button').focus();
    await sendKeys({ press: 'Tab' });
    const style = getComputedStyle(part(el, 'call-button'));
    expect(style.outlineStyle).to.equal('solid');
    expect(parseFloat(style.outlineWidth)).to.be.at.least(2);
  });

  it('shortcuts: m mutes, c turns the camera off, h hangs up (announced with aria-keyshortcuts); not while typing; no-shortcuts turns them off', async () => {
    const el = await fixture<RtcCall>(html`<rtc-call loopback chat></rtc-call>`);
    expect(part(el, 'mute-button').getAttribute('aria-keyshortcuts')).to.equal('m');
    expect(part(el, 'camera-button').getAttribute('aria-keyshortcuts')).to.equal('c');
    expect(part(el, 'hangup-button').getAttribute('aria-keyshortcuts')).to.equal('h');
    await el.call();
    await untilState(el, 'connected');
    await el.updateComplete;
    part(el, 'mute-button').focus();
    await sendKeys({ press: 'm' });
    expect(el.muted).to.equal(true);
    await sendKeys({ press: 'c' });
    expect(el.cameraOff).to.equal(true);
    await sendKeys({ press: 'm' });
    expect(el.muted).to.equal(false);

    // Typing an "m" in the chat is a letter, not a shortcut.
    part<HTMLInputElement>(el, 'chat-input').focus();
    await sendKeys({ type: 'mhc' });
    expect(part<HTMLInputElement>(el, 'chat-input').value).to.equal('mhc');
    expect([el.muted, el.state]).to.deep.equal([false, 'connected']);

    el.noShortcuts = true;
    await el.updateComplete;
    expect(part(el, 'mute-button').hasAttribute('aria-keyshortcuts')).to.equal(false);
    part(el, 'mute-button').focus();
    await sendKeys({ press: 'm' });
    expect(el.muted).to.equal(false);

    el.noShortcuts = false;
    part(el, 'mute-button').focus();
    await sendKeys({ press: 'h' });
    await untilState(el, 'ended');
  });
});
