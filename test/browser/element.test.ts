import { expect, fixture, html } from '@open-wc/testing';
import { DEFAULT_MAX_FILE_SIZE } from '../../src/config.js';
import type { RtcCall } from '../../src/rtc-call.js';
import { loopbackCall, part, untilState } from './helpers.js';

describe('<rtc-call> element', () => {
  it('has every contract part', async () => {
    const el = await loopbackCall();
    for (const name of [
      'local-video',
      'remote-video',
      'controls',
      'start-button',
      'call-button',
      'hangup-button',
      'status',
    ]) {
      expect(el.shadowRoot!.querySelector(`[part~="${name}"]`), name).to.not.equal(null);
    }
  });

  it('reflects attributes to camelCase properties', async () => {
    const el = await fixture<RtcCall>(html`
      <rtc-call
        room="r1"
        name="Ada"
        token="t0k"
        signaling-url="ws://example.test/signal"
        ice-servers='[{"urls":"stun:stun.example.test"}]'
        ice-transport-policy="relay"
        constraints='{"audio":false,"video":true}'
        loopback
        lobby
        max-file-size="1000"
      ></rtc-call>
    `);
    expect(el.room).to.equal('r1');
    expect(el.name).to.equal('Ada');
    expect(el.token).to.equal('t0k');
    expect(el.signalingUrl).to.equal('ws://example.test/signal');
    expect(el.iceServers).to.deep.equal([{ urls: 'stun:stun.example.test' }]);
    expect(el.iceTransportPolicy).to.equal('relay');
    expect(el.constraints).to.deep.equal({ audio: false, video: true });
    expect(el.loopback).to.equal(true);
    expect(el.lobby).to.equal(true);
    expect(el.maxFileSize).to.equal(1000);
    // The default, written out in the element, is the one the in-call features fall back on.
    const plain = await fixture<RtcCall>(html`<rtc-call></rtc-call>`);
    expect(plain.maxFileSize).to.equal(DEFAULT_MAX_FILE_SIZE);
    expect(plain.lobby).to.equal(false);
  });

  it('a max-file-size that is not a whole number of bytes is a bad-config error', async () => {
    const el = await fixture<RtcCall>(html`<rtc-call></rtc-call>`);
    const error = new Promise<CustomEvent>((resolve) => el.addEventListener('rtc-call-error', resolve, { once: true }));
    el.setAttribute('max-file-size', 'lots');
    expect((await error).detail.code).to.equal('bad-config');
  });

  it('state is reflected and read-only', async () => {
    const el = await loopbackCall();
    expect(el.getAttribute('state')).to.equal('idle');
    el.setAttribute('state', 'connected');
    expect(el.getAttribute('state')).to.equal('idle');
    expect(el.state).to.equal('idle');
    expect(() => ((el as unknown as { state: string }).state = 'connected')).to.throw(TypeError);
    await el.start();
    expect(el.getAttribute('state')).to.equal('ready');
    el.removeAttribute('state');
    expect(el.getAttribute('state')).to.equal('ready');
    await el.hangup();
  });

  it('buttons are enabled only when they can act', async () => {
    const el = await loopbackCall();
    const enabled = () =>
      ['start-button', 'call-button', 'hangup-button'].filter((name) => !part<HTMLButtonElement>(el, name).disabled);
    expect(enabled()).to.deep.equal(['start-button', 'call-button']);
    await el.call();
    await untilState(el, 'connected');
    await el.updateComplete;
    expect(enabled()).to.deep.equal(['hangup-button']);
    await el.hangup();
    await el.updateComplete;
    expect(enabled()).to.deep.equal(['start-button', 'call-button']);
  });

  it('buttons have accessible names and the status is a live region', async () => {
    const el = await loopbackCall();
    expect(part(el, 'start-button').textContent?.trim()).to.equal('Start');
    expect(part(el, 'call-button').textContent?.trim()).to.equal('Call');
    expect(part(el, 'hangup-button').textContent?.trim()).to.equal('Hang up');
    expect(part(el, 'status').getAttribute('role')).to.equal('status');
  });

  it('rtc-call/element is the class alone: importing it registers nothing; rtc-call/define registers it', async () => {
    const frame = document.createElement('iframe');
    document.body.append(frame);
    try {
      const win = frame.contentWindow as Window & typeof globalThis & { result?: Promise<unknown> };
      const script = win.document.createElement('script');
      script.type = 'module';
      script.textContent = `window.result = (async () => {
        const { RtcCall } = await import('${new URL('../../src/rtc-call.ts', import.meta.url).href}');
        const before = customElements.get('rtc-call');
        await import('${new URL('../../src/define.ts', import.meta.url).href}');
        return [typeof RtcCall, before === undefined, customElements.get('rtc-call') === RtcCall];
      })();`;
      win.document.body.append(script);
      for (let i = 0; i < 100 && !win.result; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await win.result).to.deep.equal(['function', true, true]);
    } finally {
      frame.remove();
    }
  });

  it('loading the bundle after the element is already defined does not throw', async () => {
    const defined = customElements.get('rtc-call');
    // The built single-file bundle (npm test builds it first): a second copy on the same page.
    const bundle = '/dist/rtc-call.js';
    await import(/* @vite-ignore */ bundle);
    expect(customElements.get('rtc-call')).to.equal(defined);
  });
});
