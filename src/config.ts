import { RtcCallError } from './errors.js';
import { DEFAULT_LABELS, type RtcCallLabels } from './labels.js';

/** What a JSON attribute holds when its text does not parse: kept so the error can name it. */
export class InvalidJson {
  constructor(
    readonly text: string,
    readonly reason: string,
  ) {}
}

/** Lit converter for JSON attributes that never throws: bad text becomes an `InvalidJson`. */
export const jsonAttribute = {
  fromAttribute(value: string | null): unknown {
    if (value === null) return undefined;
    try {
      return JSON.parse(value);
    } catch (error) {
      return new InvalidJson(value, error instanceof Error ? error.message : String(error));
    }
  },
  toAttribute(value: unknown): string {
    return JSON.stringify(value);
  },
};

function badConfig(attribute: string, problem: string): RtcCallError {
  return new RtcCallError('bad-config', `The ${attribute} attribute ${problem}.`);
}

function checkJson(attribute: string, value: unknown): unknown {
  if (value instanceof InvalidJson) throw badConfig(attribute, `is not valid JSON (${value.reason})`);
  return value;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Validates the `ice-servers` value: an array of RTCIceServer. */
export function readIceServers(value: unknown): RTCIceServer[] {
  const servers = checkJson('ice-servers', value ?? []);
  if (!Array.isArray(servers)) throw badConfig('ice-servers', 'must be a JSON array of ICE servers');
  servers.forEach((server, index) => {
    const urls = isObject(server) ? server['urls'] : undefined;
    const valid = typeof urls === 'string' || (Array.isArray(urls) && urls.every((u) => typeof u === 'string'));
    if (!valid) throw badConfig('ice-servers', `entry ${index} needs "urls" (a string or an array of strings)`);
  });
  return servers as RTCIceServer[];
}

export function readIceTransportPolicy(value: unknown): RTCIceTransportPolicy {
  const policy = value ?? 'all';
  if (policy !== 'all' && policy !== 'relay') throw badConfig('ice-transport-policy', 'must be "all" or "relay"');
  return policy;
}

export const DEFAULT_CONSTRAINTS: MediaStreamConstraints = { audio: true, video: true };

export function readConstraints(value: unknown): MediaStreamConstraints {
  const constraints = checkJson('constraints', value ?? DEFAULT_CONSTRAINTS);
  if (!isObject(constraints)) throw badConfig('constraints', 'must be a JSON object like {"audio":true,"video":true}');
  if (!constraints['audio'] && !constraints['video']) throw badConfig('constraints', 'must ask for audio or video');
  return constraints as MediaStreamConstraints;
}

/**
 * The default signaling URL: `/signal` on the origin that served this script, `wss:` when
 * that origin is https.
 */
export function defaultSignalingUrl(scriptUrl: string): string {
  const url = new URL('/signal', scriptUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

export function readSignalingUrl(value: string | undefined, scriptUrl: string): string {
  if (!value) return defaultSignalingUrl(scriptUrl);
  let url: URL;
  try {
    url = new URL(value, scriptUrl);
  } catch {
    throw badConfig('signaling-url', `"${value}" is not a URL`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    throw badConfig('signaling-url', `"${value}" is not a ws: or wss: URL`);
  return url.href;
}

/**
 * Validates the `labels` value: an object of strings (and `errors`, an object of strings), so a
 * typo shows as `bad-config` instead of a blank button. Unknown keys are refused too.
 */
export function readLabels(value: unknown): Partial<RtcCallLabels> {
  const labels = checkJson('labels', value ?? {});
  if (!isObject(labels)) throw badConfig('labels', 'must be a JSON object of strings');
  for (const [key, text] of Object.entries(labels)) {
    if (!(key in DEFAULT_LABELS)) throw badConfig('labels', `has an unknown key "${key}"`);
    const strings = key === 'errors' ? (isObject(text) ? Object.values(text) : [text]) : [text];
    if (!strings.every((s) => typeof s === 'string')) throw badConfig('labels', `"${key}" must be text`);
  }
  return labels as Partial<RtcCallLabels>;
}

/** The largest file accepted from a peer by default, in bytes: received files are held in memory until whole. */
export const DEFAULT_MAX_FILE_SIZE = 100 * 1024 * 1024;

/** `max-file-size`, checked: a whole number of bytes ≥ 0. */
export function readMaxFileSize(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new RtcCallError(
    'bad-config',
    `The max-file-size attribute must be a whole number of bytes, not ${JSON.stringify(String(value))}.`,
  );
}
