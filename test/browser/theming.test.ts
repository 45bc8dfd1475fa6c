import { expect, fixture, html } from '@open-wc/testing';
import { emulateMedia } from '@web/test-runner-commands';
import { DEFAULT_LABELS } from '../../src/labels.js';
import type { RtcCall } from '../../src/rtc-call.js';
import { loopbackCall, nextEvent, part, statusText, untilState } from './helpers.js';

const color = (element: Element, property = 'color') => getComputedStyle(element).getPropertyValue(property);

describe('<rtc-call> labels, theming, layout and slots', () => {
  afterEach(async () => {
    await emulateMedia({ colorScheme: 'light' });
  });

  it('every string can be replaced: buttons, names, status lines with their {placeholders}', async () => {
    const el = await fixture<RtcCall>(html`
      <rtc-call
        loopback
        chat
        labels='{"start":"Démarrer","call":"Appeler","hangup":"Raccrocher","mute":"Couper le micro","idleLoopback":"Appuyez sur Appeler.","connected":"Connecté","controls":"Commandes","message":"Message à envoyer"}'
      ></rtc-call>
    `);
    expect(part(el, 'start-button').textContent!.trim()).to.equal('Démarrer');
    expect(part(el, 'call-button').textContent!.trim()).to.equal('Appeler');
    expect(part(el, 'hangup-button').textContent!.trim()).to.equal('Raccrocher');
    expect(part(el, 'mute-button').textContent!.trim()).to.equal('Couper le micro');
    expect(part(el, 'camera-button').textContent!.trim()).to.equal(DEFAULT_LABELS.cameraOff);
    expect(part(el, 'controls').getAttribute('aria-label')).to.equal('Commandes');
    expect(part(el, 'chat-input').getAttribute('aria-label')).to.equal('Message à envoyer');
    expect(statusText(el)).to.equal('Appuyez sur Appeler.');
    await el.call();
    await untilState(el, 'connected');
    await el.updateComplete;
    expect(statusText(el)).to.equal('Connecté');
    await el.hangup();

    // Placeholders are filled in, and the property works as well as the attribute.
    const signaled = await fixture<RtcCall>(html`<rtc-call room="salle-7"></rtc-call>`);
    signaled.labels = { waiting: 'En attente de « {room} »…', ready: 'Caméra prête.' };
    await signaled.updateComplete;
    expect(statusText(signaled)).to.equal(DEFAULT_LABELS.idle);
    await signaled.start();
    await signaled.updateComplete;
    expect(statusText(signaled)).to.equal('Caméra prête.');
    await signaled.hangup();
  });

  it('an error shows in the page’s words by code; the event keeps the code and the English message', async () => {
    const el = await fixture<RtcCall>(html`
      <rtc-call loopback constraints="oops" labels='{"errors":{"bad-config":"Réglage invalide."}}'></rtc-call>
    `);
    const error = nextEvent(el, 'rtc-call-error');
    await el.start().catch(() => {});
    expect((await error).detail.code).to.equal('bad-config');
    expect((await error).detail.message).to.match(/constraints attribute/);
    await el.updateComplete;
    expect(statusText(el)).to.equal('Réglage invalide.');
  });

  it('bad labels are a bad-config error naming the attribute, and the English labels stay', async () => {
    for (const labels of ['{not json', '["a"]', '{"strat":"typo"}', '{"start":3}']) {
      const el = document.createElement('rtc-call');
      el.loopback = true;
      const error = nextEvent(el, 'rtc-call-error');
      el.setAttribute('labels', labels);
      document.body.append(el);
      try {
        const { detail } = await error;
        expect(detail.code, labels).to.equal('bad-config');
        expect(detail.message, labels).to.match(/labels attribute/);
        await el.updateComplete;
        expect(part(el, 'start-button').textContent!.trim(), labels).to.equal('Start');
        expect(el.state, labels).to.equal('idle');
      } finally {
        el.remove();
      }
    }
  });

  it('custom properties theme it; the dark scheme has its own defaults, and the page’s value wins in both', async () => {
    const el = await loopbackCall();
    const start = part(el, 'start-button');
    expect(color(start, 'background-color')).to.equal('rgb(11, 87, 208)');
    await emulateMedia({ colorScheme: 'dark' });
    expect(color(start, 'background-color')).to.equal('rgb(168, 199, 250)');
    expect(color(el)).to.equal('rgb(227, 230, 234)');
    el.style.setProperty('--rtc-call-accent', 'rgb(1, 2, 3)');
    el.style.setProperty('--rtc-call-radius', '0px');
    expect(color(start, 'background-color')).to.equal('rgb(1, 2, 3)');
    expect(color(start, 'border-top-left-radius')).to.equal('0px');
    await emulateMedia({ colorScheme: 'light' });
    expect(color(start, 'background-color')).to.equal('rgb(1, 2, 3)');
    // Every part can be styled from outside.
    const style = document.createElement('style');
    style.textContent = 'rtc-call::part(status) { color: rgb(4, 5, 6) }';
    document.head.append(style);
    try {
      expect(color(part(el, 'status'))).to.equal('rgb(4, 5, 6)');
    } finally {
      style.remove();
    }
  });

  it('side by side when wide, your camera as picture-in-picture when narrow; layout picks one', async () => {
    const container = await fixture<HTMLDivElement>(
      html`<div style="width: 800px"><rtc-call loopback></rtc-call></div>`,
    );
    const el = container.querySelector('rtc-call')!;
    const local = () => part(el, 'local-video').getBoundingClientRect();
    const remote = () => part(el, 'remote-video').getBoundingClientRect();
    // Wide: two columns, the same size.
    expect(local().left).to.be.greaterThan(remote().right - 1);
    expect(Math.round(local().width)).to.equal(Math.round(remote().width));

    container.style.width = '360px';
    await new Promise(requestAnimationFrame);
    // Narrow: the remote video takes the width, yours sits small inside its corner.
    expect(Math.round(remote().width)).to.equal(360);
    expect(local().width).to.be.lessThan(remote().width / 2);
    expect(local().bottom).to.be.at.most(remote().bottom + 1);
    expect(local().right).to.be.at.most(remote().right + 1);

    el.layout = 'stacked';
    await el.updateComplete;
    expect(local().top).to.be.at.least(remote().bottom);
    expect(Math.round(local().width)).to.equal(360);

    container.style.width = '800px';
    el.layout = 'pip';
    await el.updateComplete;
    expect(Math.round(remote().width)).to.equal(800);
    expect(local().width).to.be.lessThan(remote().width / 2);
    expect(el.getAttribute('layout')).to.equal('pip');
  });

  it('slots: the page’s own controls sit in the controls row, a placeholder over the remote video until it plays', async () => {
    const el = await fixture<RtcCall>(html`
      <rtc-call loopback>
        <button slot="controls" id="own">Invite</button>
        <span slot="placeholder" id="wait">Waiting for the host</span>
      </rtc-call>
    `);
    const controls = part(el, 'controls');
    const slot = controls.querySelector<HTMLSlotElement>('slot[name="controls"]')!;
    expect(slot.assignedElements().map((e) => e.id)).to.deep.equal(['own']);
    const placeholder = el.shadowRoot!.querySelector<HTMLSlotElement>('slot[name="placeholder"]')!;
    expect(placeholder.assignedElements().map((e) => e.id)).to.deep.equal(['wait']);
    await el.call();
    await untilState(el, 'connected');
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('slot[name="placeholder"]')).to.equal(null);
    await el.hangup();
  });
});
