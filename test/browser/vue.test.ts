import { expect } from '@open-wc/testing';
import { createApp, ref, type App } from 'vue/dist/vue.esm-browser.js';
import type { StateChangeDetail } from '../../src/events.js';
import '../../src/define.js';
import { untilState } from './helpers.js';

describe('Vue (<rtc-call> in a template)', () => {
  let container: HTMLElement;
  let app: App | undefined;

  beforeEach(() => {
    container = document.createElement('div');
    document.body.append(container);
  });

  afterEach(() => {
    app?.unmount();
    app = undefined;
    container.remove();
  });

  /** Mounts `template` with `isCustomElement`, as docs/api.md says, and `setup` bindings. */
  function mount(template: string, setup: () => Record<string, unknown>): void {
    app = createApp({ template, setup });
    app.config.compilerOptions.isCustomElement = (tag) => tag === 'rtc-call';
    app.mount(container);
  }

  it('renders the element with bound properties and hears @rtc-call-state-change', async () => {
    const changes: StateChangeDetail[] = [];
    const iceServers = [{ urls: 'stun:stun.example.org:3478' }];
    const room = ref('vue-room');
    mount(
      `<rtc-call loopback :room="room" :iceServers="iceServers" @rtc-call-state-change="onState"></rtc-call>`,
      () => ({
        room,
        iceServers,
        onState: (event: CustomEvent<StateChangeDetail>) => changes.push({ ...event.detail }),
      }),
    );
    const el = container.querySelector('rtc-call')!;
    expect(el).to.be.instanceOf(customElements.get('rtc-call'));
    expect(el.loopback).to.equal(true);
    expect(el.room).to.equal('vue-room');
    // Vue sets a DOM property when the element has one: the array itself, not "[object Object]".
    expect(el.iceServers).to.equal(iceServers);

    room.value = 'another-room';
    await new Promise((resolve) => setTimeout(resolve));
    expect(el.room).to.equal('another-room');

    await el.call();
    await untilState(el, 'connected');
    expect(changes.slice(0, 4)).to.deep.equal([
      { state: 'starting', previous: 'idle' },
      { state: 'ready', previous: 'starting' },
      { state: 'connecting', previous: 'ready' },
      { state: 'connected', previous: 'connecting' },
    ]);
    await el.hangup();
    expect(changes.at(-1)).to.deep.equal({ state: 'ended', previous: 'connected' });
  });
});
