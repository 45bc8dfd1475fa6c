import { html, nothing } from 'lit';
import type { InCall } from './in-call.js';
import type { LabelKey } from './labels.js';

// What the element shows of the in-call features, fetched with them (src/in-call.ts): nothing
// of it is on screen before the camera starts.

type Translate = (key: LabelKey, params?: Record<string, string | number>) => string;

/** What the peer has turned off, over their video. */
export function remoteMedia(inCall: InCall, t: Translate) {
  const { audio, video } = inCall.remoteMedia;
  if (audio && video) return nothing;
  const off = [audio ? '' : t('peerMuted'), video ? '' : t('peerCameraOff')];
  return html`<span part="remote-media">${off.filter(Boolean).join(' · ')}</span>`;
}

/** The quality indicator beside the status line. */
export function quality(inCall: InCall, t: Translate) {
  const stats = inCall.stats;
  if (!stats) return nothing;
  const text = t('quality', { quality: t(stats.quality), rtt: stats.rtt });
  return html`<span part="quality" data-quality=${stats.quality}
    >${text}${stats.candidateType === 'relay' ? ` · ${t('relayed')}` : ''}</span
  >`;
}

/** A camera or microphone picker, when there is a choice. */
export function devicePicker(
  inCall: InCall,
  kind: 'audio' | 'video',
  label: string,
  part: string,
  select: (kind: 'audio' | 'video', deviceId: string) => void,
) {
  const devices = inCall.devices.filter((d) => d.kind === (kind === 'video' ? 'videoinput' : 'audioinput'));
  if (devices.length < 2) return nothing;
  const current = inCall.currentDevice(kind);
  return html`<select
    part="device-select ${part}"
    aria-label=${label}
    @change=${(event: Event) => select(kind, (event.target as HTMLSelectElement).value)}
  >
    ${devices.map(
      (device, i) =>
        html`<option value=${device.deviceId} ?selected=${device.deviceId === current}>
          ${device.label || `${label} ${i + 1}`}
        </option>`,
    )}
  </select>`;
}
