import { expect } from '@open-wc/testing';
import { createElement, createRef } from 'react';
import { flushSync } from 'react-dom';
import { createRoot, type Root } from 'react-dom/client';
import type { StateChangeDetail } from '../../src/events.js';
import { RtcCall } from '../../src/react.js';
import type { RtcCall as RtcCallElement } from '../../src/rtc-call.js';

/** Event name → the wrapper's prop: `rtc-call-state-change` → `onRtcCallStateChange`. */
function propFor(event: string): string {
  return 'on' + event.replace(/(^|-)([a-z])/g, (_, _dash, letter: string) => letter.toUpperCase());
}

/** Every event the element documents (`@fires`), as the analyzer put them in the manifest. */
async function documentedEvents(): Promise<string[]> {
  const manifest = await (await fetch('/custom-elements.json')).json();
  for (const module of manifest.modules) {
    for (const declaration of module.declarations ?? []) {
      if (declaration.tagName === 'rtc-call') return declaration.events.map((event: { name: string }) => event.name);
    }
  }
  throw new Error('rtc-call is not in custom-elements.json');
}

describe('React wrapper (rtc-call/react)', () => {
  let container: HTMLElement;
  let root: Root;

  beforeEach(() => {
    container = document.createElement('div');
    document.body.append(container);
    root = createRoot(container);
  });

  afterEach(() => {
    flushSync(() => root.unmount());
    container.remove();
  });

  it('renders <rtc-call> and sets props as properties, objects included', async () => {
    const ref = createRef<RtcCallElement>();
    const iceServers = [{ urls: 'stun:stun.example.org:3478' }];
    flushSync(() => root.render(createElement(RtcCall, { ref, loopback: true, room: 'react-room', iceServers })));
    const el = container.querySelector('rtc-call')!;
    expect(el).to.be.instanceOf(customElements.get('rtc-call'));
    expect(ref.current).to.equal(el);
    expect(el.loopback).to.equal(true);
    await el.updateComplete;
    expect(el.hasAttribute('loopback')).to.equal(true); // reflected by the element from the property
    expect(el.room).to.equal('react-room');
    // An attribute would have been the string "[object Object]": the array itself means a property.
    expect(el.iceServers).to.equal(iceServers);

    flushSync(() => root.render(createElement(RtcCall, { ref, loopback: false, room: 'another-room' })));
    expect(container.querySelector('rtc-call')).to.equal(el);
    expect(el.loopback).to.equal(false);
    expect(el.room).to.equal('another-room');
  });

  it('onRtcCallStateChange gets each state change with its detail', async () => {
    const ref = createRef<RtcCallElement>();
    const changes: StateChangeDetail[] = [];
    flushSync(() =>
      root.render(
        createElement(RtcCall, {
          ref,
          loopback: true,
          onRtcCallStateChange: (event) => changes.push({ ...event.detail }),
        }),
      ),
    );
    const el = ref.current!;
    await el.start();
    expect(changes).to.deep.equal([
      { state: 'starting', previous: 'idle' },
      { state: 'ready', previous: 'starting' },
    ]);
    expect(el.state).to.equal('ready');
    await el.hangup();
    expect(changes.at(-1)).to.deep.equal({ state: 'ended', previous: 'ready' });
  });

  it('a handler replaced on re-render is the only one called; a removed one is not called', async () => {
    const ref = createRef<RtcCallElement>();
    const first: string[] = [];
    const second: string[] = [];
    flushSync(() =>
      root.render(createElement(RtcCall, { ref, onRtcCallStateChange: (e) => first.push(e.detail.state) })),
    );
    flushSync(() =>
      root.render(createElement(RtcCall, { ref, onRtcCallStateChange: (e) => second.push(e.detail.state) })),
    );
    const el = ref.current!;
    await el.start();
    expect(first).to.deep.equal([]);
    expect(second).to.deep.equal(['starting', 'ready']);

    flushSync(() => root.render(createElement(RtcCall, { ref })));
    await el.hangup();
    expect(second).to.deep.equal(['starting', 'ready']);
  });

  it('has an onRtcCall… prop for every event the element documents', async () => {
    const events = await documentedEvents();
    expect(events).to.include('rtc-call-state-change');
    const heard: string[] = [];
    const props: Record<string, unknown> = {};
    for (const event of events) props[propFor(event)] = (e: Event) => heard.push(e.type);
    const ref = createRef<RtcCallElement>();
    flushSync(() => root.render(createElement(RtcCall, { ...props, ref })));
    for (const event of events) ref.current!.dispatchEvent(new CustomEvent(event, { detail: {} }));
    expect(heard).to.deep.equal(events);
  });
});
