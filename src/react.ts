import { createComponent, type EventName } from '@lit/react';
import * as React from 'react';
import { RtcCall as RtcCallElement } from './define.js';

/**
 * `<rtc-call>` as a React component: props set the element's properties (objects and booleans
 * included, so `iceServers={[…]}` and `loopback` work), `onRtcCall…` props listen to its events
 * with their typed `detail`, and a `ref` is the element itself (for `call()`, `hangup()`, …).
 *
 * ```tsx
 * import { RtcCall } from 'rtc-call/react';
 *
 * <RtcCall room="team-standup" onRtcCallStateChange={(e) => setState(e.detail.state)} />
 * ```
 *
 * Importing this module registers the element. React is a peer dependency; this module is not
 * part of the single-file bundle.
 */
export const RtcCall = createComponent({
  react: React,
  tagName: 'rtc-call',
  elementClass: RtcCallElement,
  displayName: 'RtcCall',
  events: {
    onRtcCallStateChange: 'rtc-call-state-change' as EventName<HTMLElementEventMap['rtc-call-state-change']>,
    onRtcCallLocalStream: 'rtc-call-local-stream' as EventName<HTMLElementEventMap['rtc-call-local-stream']>,
    onRtcCallRemoteStream: 'rtc-call-remote-stream' as EventName<HTMLElementEventMap['rtc-call-remote-stream']>,
    onRtcCallPeerJoined: 'rtc-call-peer-joined' as EventName<HTMLElementEventMap['rtc-call-peer-joined']>,
    onRtcCallPeerLeft: 'rtc-call-peer-left' as EventName<HTMLElementEventMap['rtc-call-peer-left']>,
    onRtcCallKnock: 'rtc-call-knock' as EventName<HTMLElementEventMap['rtc-call-knock']>,
    onRtcCallError: 'rtc-call-error' as EventName<HTMLElementEventMap['rtc-call-error']>,
    onRtcCallMessage: 'rtc-call-message' as EventName<HTMLElementEventMap['rtc-call-message']>,
    onRtcCallFileProgress: 'rtc-call-file-progress' as EventName<HTMLElementEventMap['rtc-call-file-progress']>,
    onRtcCallFile: 'rtc-call-file' as EventName<HTMLElementEventMap['rtc-call-file']>,
    onRtcCallPeerMedia: 'rtc-call-peer-media' as EventName<HTMLElementEventMap['rtc-call-peer-media']>,
    onRtcCallStats: 'rtc-call-stats' as EventName<HTMLElementEventMap['rtc-call-stats']>,
  },
});

/** The props `<RtcCall>` takes (element properties, `onRtcCall…` event handlers, `ref`). */
export type RtcCallProps = React.ComponentProps<typeof RtcCall>;

export type { RtcCallElement };
