import { expect } from '@open-wc/testing';
import type { RtcCall } from '../../src/rtc-call.js';
import { untilState } from './helpers.js';

/** Polls `find` until it returns something, or fails after `timeout` ms saying what was awaited. */
async function until<T>(what: string, find: () => T | null | undefined, timeout = 15000): Promise<T> {
  const deadline = performance.now() + timeout;
  for (;;) {
    const found = find();
    if (found) return found;
    if (performance.now() > deadline) throw new Error(`no ${what} within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Loads an example page, as it is, in a frame of this page (same origin, so its DOM is reachable). */
async function openExample(name: string): Promise<HTMLIFrameElement> {
  const frame = document.createElement('iframe');
  frame.allow = 'camera; microphone';
  frame.style.cssText = 'width: 800px; height: 600px';
  const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  frame.src = `/demo/examples/${name}`;
  document.body.append(frame);
  await loaded;
  return frame;
}

/** Each example: its `<rtc-call loopback>` renders, its Call button calls, its page shows each state from the event. */
for (const name of ['html.html', 'react.html', 'vue.html']) {
  describe(`example ${name}`, () => {
    let frame: HTMLIFrameElement;

    afterEach(() => frame?.remove());

    it('renders <rtc-call loopback>, calls on Call and shows the state from the state event', async () => {
      frame = await openExample(name);
      const page = frame.contentDocument!;
      const view = frame.contentWindow!;
      const el = await until('rtc-call element, defined', () => {
        const found = page.querySelector<RtcCall>('rtc-call');
        return found && view.customElements.get('rtc-call') && found.shadowRoot ? found : undefined;
      });
      expect(el.loopback).to.equal(true);
      const shown = await until('state output', () => page.querySelector('output'));
      const states: string[] = [];
      el.addEventListener('rtc-call-state-change', (event) => states.push(event.detail.state));
      // Every text the output shows; a framework may render two quick changes as one.
      const shownStates: string[] = [];
      const observer = new MutationObserver(() => {
        const text = shown.textContent!.trim();
        if (text !== shownStates.at(-1)) shownStates.push(text);
      });
      observer.observe(shown, { childList: true, characterData: true, subtree: true });

      const button = await until('Call button', () => page.querySelector<HTMLButtonElement>('button#call'));
      button.click();
      await untilState(el, 'connected');
      await until('"connected" shown', () => shown.textContent!.trim() === 'connected');
      observer.disconnect();
      expect(states).to.deep.equal(['starting', 'ready', 'connecting', 'connected']);
      // What the page showed came from those events, in their order, and ends with the last one.
      expect(shownStates.at(-1)).to.equal('connected');
      expect(shownStates.filter((text) => states.includes(text))).to.deep.equal(shownStates);
      expect(shownStates).to.deep.equal(states.filter((state) => shownStates.includes(state)));
      await el.hangup();
      await until('"ended" shown', () => shown.textContent!.trim() === 'ended');
    });
  });
}
