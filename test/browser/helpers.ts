import { fixture, html } from '@open-wc/testing';
import type { CallState } from '../../src/call-state.js';
import '../../src/define.js';
import type { RtcCall } from '../../src/rtc-call.js';

/** Resolves when the element is in `state`; rejects after `timeout` ms naming where it got stuck. */
export function untilState(el: RtcCall, state: CallState, timeout = 15000): Promise<void> {
  if (el.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      el.removeEventListener('rtc-call-state-change', onChange);
      const status = el.shadowRoot?.querySelector('[part~="status"]')?.textContent?.trim();
      reject(new Error(`expected state "${state}" within ${timeout} ms, still "${el.state}" (${status})`));
    }, timeout);
    const onChange = () => {
      if (el.state !== state) return;
      clearTimeout(timer);
      el.removeEventListener('rtc-call-state-change', onChange);
      resolve();
    };
    el.addEventListener('rtc-call-state-change', onChange);
  });
}

/** The next event of this type on `target`. */
export function nextEvent<K extends keyof HTMLElementEventMap>(
  target: HTMLElement | Document,
  type: K,
  timeout = 15000,
): Promise<HTMLElementEventMap[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${timeout} ms`)), timeout);
    target.addEventListener(
      type,
      (event) => {
        clearTimeout(timer);
        resolve(event as HTMLElementEventMap[K]);
      },
      { once: true },
    );
  });
}

/** Counts frames the video actually presents (not just `srcObject` being set). */
export function framesPresented(video: HTMLVideoElement, wanted: number, timeout = 15000): Promise<number> {
  return new Promise((resolve, reject) => {
    let frames = 0;
    const timer = setTimeout(
      () => reject(new Error(`only ${frames} of ${wanted} frames presented within ${timeout} ms`)),
      timeout,
    );
    const onFrame = () => {
      frames += 1;
      if (frames >= wanted) {
        clearTimeout(timer);
        resolve(frames);
      } else video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  });
}

export function part<T extends Element = HTMLElement>(el: RtcCall, name: string): T {
  const found = el.shadowRoot?.querySelector<T>(`[part~="${name}"]`);
  if (!found) throw new Error(`no part "${name}"`);
  return found;
}

export function statusText(el: RtcCall): string {
  return part(el, 'status').textContent?.trim() ?? '';
}

export async function loopbackCall(): Promise<RtcCall> {
  return fixture<RtcCall>(html`<rtc-call loopback></rtc-call>`);
}

/** Collects uncaught errors and unhandled rejections while a test runs. */
export function watchUncaught(): { errors: unknown[]; stop(): void } {
  const errors: unknown[] = [];
  const onError = (event: ErrorEvent) => errors.push(event.error ?? event.message);
  const onRejection = (event: PromiseRejectionEvent) => errors.push(event.reason);
  window.addEventListener('error', onError);
  window.addEventListener('unhandledrejection', onRejection);
  return {
    errors,
    stop() {
      window.removeEventListener('error', onError);
      window.removeEventListener('unhandledrejection', onRejection);
    },
  };
}
