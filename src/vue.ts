import type { LitElement } from 'lit';
import type { DefineComponent } from 'vue';
import type { RtcCallEventName } from './events.js';
import type { RtcCall } from './rtc-call.js';

/*
 * Types only: makes `<rtc-call>` known to Vue's type-checker (vue-tsc, Volar), with the element's
 * properties as props and its events as `@rtc-call-…` listeners carrying their typed `detail`.
 * Load it once, e.g. `import type {} from 'rtc-call/vue';` in `env.d.ts`.
 *
 * At run time Vue must also be told the tag is not one of its components, in the app
 *   app.config.compilerOptions.isCustomElement = (tag) => tag === 'rtc-call';
 * or, with the Vite plugin, `vue({ template: { compilerOptions: { isCustomElement: … } } })`.
 */

type IfEquals<X, Y, Then, Else> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? Then : Else;

/** Keys of `T` that can be assigned (not methods, not getters without a setter). */
type WritableKeys<T> = {
  [K in keyof T]-?: T[K] extends (...args: never[]) => unknown
    ? never
    : IfEquals<{ [Q in K]: T[K] }, { -readonly [Q in K]: T[K] }, K, never>;
}[keyof T];

/** What `RtcCall` adds to `LitElement` (and so to `HTMLElement`). */
type OwnProperties = Omit<RtcCall, keyof LitElement>;

/** `rtc-call-state-change` → `RtcCallStateChange`, as Vue names the listener of `@rtc-call-state-change`. */
type PascalCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Capitalize<Head>}${PascalCase<Tail>}`
  : Capitalize<S>;

/** The element's settable properties (`room`, `loopback`, `iceServers`, …), as Vue props. */
export type RtcCallVueProps = Partial<Pick<OwnProperties, WritableKeys<OwnProperties>>>;

/** A listener for each event the element fires: `@rtc-call-state-change` is `onRtcCallStateChange`. */
export type RtcCallVueEvents = {
  [K in RtcCallEventName as `on${PascalCase<K>}`]?: (event: HTMLElementEventMap[K]) => void;
};

declare module 'vue' {
  interface GlobalComponents {
    'rtc-call': DefineComponent<RtcCallVueProps & RtcCallVueEvents>;
  }
}
