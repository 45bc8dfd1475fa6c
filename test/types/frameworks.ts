// Type-level checks of the React wrapper and the Vue glue: `npm run typecheck` fails if these do.
import { createElement } from 'react';
import type { DefineComponent, GlobalComponents } from 'vue';
import type { CallState } from '../../src/call-state.js';
import type { RtcCallEventName, StateChangeDetail } from '../../src/events.js';
import { RtcCall, type RtcCallProps } from '../../src/react.js';
import type { RtcCallVueEvents, RtcCallVueProps } from '../../src/vue.js';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Handler<F> = NonNullable<F> extends (event: infer E) => void ? E : never;

// React: a typed callback, props typed as the element's properties.
export const reactCall = createElement(RtcCall, {
  loopback: true,
  room: 'team-standup',
  iceServers: [{ urls: 'stun:stun.example.org' }],
  onRtcCallStateChange: (event) => {
    const state: CallState = event.detail.state;
    const previous: CallState = event.detail.previous;
    return [state, previous];
  },
  onRtcCallError: (event) => event.detail.code.toUpperCase(),
});
// @ts-expect-error `loopback` is a boolean property
export const wrongProp = createElement(RtcCall, { loopback: 'yes' });
// @ts-expect-error the state-change detail has no such field
export const wrongDetail = createElement(RtcCall, { onRtcCallStateChange: (event) => event.detail.stream });

/** `rtc-call-state-change` → `RtcCallStateChange`. */
type PascalCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Capitalize<Head>}${PascalCase<Tail>}`
  : Capitalize<S>;
type ReactEventProps = Extract<keyof RtcCallProps, `onRtcCall${string}`>;

// One React prop per event, each typed with that event.
export const everyEventHasAProp: Equals<ReactEventProps, `on${PascalCase<RtcCallEventName>}`> = true;
export const everyPropHasItsEvent: Equals<
  {
    [K in RtcCallEventName]: Equals<Handler<RtcCallProps[`on${PascalCase<K>}`]>, HTMLElementEventMap[K]>;
  }[RtcCallEventName],
  true
> = true;
export const stateIsTheUnion: Equals<Handler<RtcCallProps['onRtcCallStateChange']>['detail']['state'], CallState> =
  true;

// Vue: <rtc-call> is a global component whose props are the element's settable properties and
// whose `@rtc-call-…` listeners get the typed events.
type VueProps = InstanceType<GlobalComponents['rtc-call']>['$props'];
export const registered: Equals<
  GlobalComponents['rtc-call'],
  DefineComponent<RtcCallVueProps & RtcCallVueEvents>
> = true;
export const vueRoom: Equals<VueProps['room'], string | undefined> = true;
export const vueLoopback: Equals<VueProps['loopback'], boolean | undefined> = true;
export const vueIceServers: Equals<VueProps['iceServers'], RTCIceServer[] | undefined> = true;
export const vueState: Equals<Handler<VueProps['onRtcCallStateChange']>, CustomEvent<StateChangeDetail>> = true;
export const vueStateIsTheUnion: Equals<Handler<VueProps['onRtcCallStateChange']>['detail']['state'], CallState> = true;
export const sameEventsAsReact: Equals<keyof RtcCallVueEvents, ReactEventProps> = true;
// Read-only properties and methods are not props.
export const noReadOnlyOrMethods: Equals<
  Extract<keyof RtcCallVueProps, 'state' | 'localStream' | 'connections' | 'start' | 'call' | 'hangup'>,
  never
> = true;
