/**
 * Whether the peer's media still arrives: pure logic over `getStats()` samples, no I/O.
 *
 * A connection can stay `connected` (its consent checks pass, or have not failed yet) while
 * nothing of the media gets through: a TURN allocation the relay dropped, a pair whose NAT
 * mapping went away. The user sees a frozen picture. So while the peer says it sends a kind,
 * that kind must keep arriving: neither a new video frame nor an RTP byte for a while is a frozen
 * path; flowing again is new frames (video) or bytes (audio).
 */
import { num } from './stats.js';

export type MediaKind = 'audio' | 'video';

/**
 * What a sample holds per kind: `count` grows while the media arrives (decoded frames for video,
 * inbound RTP bytes for audio), `bytes` while packets do (a picture waits for a keyframe).
 */
export type Arrivals = Record<MediaKind, { count: number; bytes: number }>;

export interface WatchOptions {
  /** Nothing new of an expected kind for this long is a freeze, in ms. */
  freezeMs: number;
  /** The first media of a kind may take this long after (re)connecting, in ms. */
  firstMediaMs: number;
}

/** Packets within this long, in ms, show a path works (a look comes every half second). */
const CARRYING_MS = 1000;
/**
 * Flowing again is media that keeps coming for this long, in ms, with no pause longer than it:
 * a frozen path can still let a last frame or two through (a jitter buffer emptying).
 */
const SUSTAINED_MS = 1000;

export const DEFAULT_WATCH: WatchOptions = { freezeMs: 2500, firstMediaMs: 5000 };

/** Per kind, from a `getStats()` report: video frames may trail its bytes, which trickle on a frozen path too. */
export function readArrivals(report: RTCStatsReport): Arrivals {
  const arrivals: Arrivals = { audio: { count: 0, bytes: 0 }, video: { count: 0, bytes: 0 } };
  report.forEach((entry: Record<string, unknown>) => {
    const kind = entry['kind'];
    if (entry['type'] !== 'inbound-rtp' || (kind !== 'audio' && kind !== 'video')) return;
    const bytes = num(entry['bytesReceived']);
    arrivals[kind].bytes += bytes;
    arrivals[kind].count += kind === 'video' && 'framesDecoded' in entry ? num(entry['framesDecoded']) : bytes;
  });
  return arrivals;
}

interface Progress {
  count: number;
  /** When `count` last grew (or the window started). */
  at: number;
  /** Whether it grew since the window started. */
  grew: boolean;
  /** Since when it has grown without a pause longer than SUSTAINED_MS. */
  since: number;
  bytes: number;
  /** When `bytes` last grew (or the window started). */
  bytesAt: number;
  /** Whether they grew since the window started. */
  bytesGrew: boolean;
}

/** Tracks, per kind, when media last arrived; tells which expected kinds are frozen. */
export class MediaWatch {
  readonly #options: WatchOptions;
  #progress: Record<MediaKind, Progress> | undefined;

  constructor(options: WatchOptions = DEFAULT_WATCH) {
    this.#options = options;
  }

  /** A fresh window for every kind (connected again, an ICE restart, the peer turned a kind back on). */
  reset(): void {
    this.#progress = undefined;
  }

  /**
   * Feeds one sample taken at `now` (ms); returns the kinds among `expected` that are frozen:
   * nothing new for `freezeMs` (for `firstMediaMs` while none of that kind ever came).
   */
  update(arrivals: Arrivals, expected: readonly MediaKind[], now: number): MediaKind[] {
    const fresh = (kind: MediaKind): Progress => ({
      ...arrivals[kind],
      at: now,
      grew: false,
      since: now,
      bytesAt: now,
      bytesGrew: false,
    });
    this.#progress ??= { audio: fresh('audio'), video: fresh('video') };
    const frozen: MediaKind[] = [];
    for (const kind of ['audio', 'video'] as const) {
      const progress = this.#progress[kind];
      const { count, bytes } = arrivals[kind];
      // Not sent now (or the counters restarted: a new transceiver): its time starts anew.
      if (count < progress.count || !expected.includes(kind)) {
        this.#progress[kind] = fresh(kind);
        continue;
      }
      if (count > progress.count) {
        if (!progress.grew || now - progress.at > SUSTAINED_MS) progress.since = now;
        Object.assign(progress, { count, at: now, grew: true });
      }
      if (bytes > progress.bytes) Object.assign(progress, { bytes, bytesAt: now, bytesGrew: true });
      // Frozen is nothing at all: packets that still come (a picture waiting for a keyframe, a
      // sender that congestion control paused) mean the path works and a restart would not help.
      const last = Math.max(progress.at, progress.bytesAt);
      if (now - last >= (count > 0 ? this.#options.freezeMs : this.#options.firstMediaMs)) frozen.push(kind);
    }
    return frozen;
  }

  /** Whether every kind in `expected` has kept arriving in this window for a while, and lately (after update()). */
  flowing(expected: readonly MediaKind[], now: number): boolean {
    return this.#every(
      expected,
      ({ grew, at, since }) => grew && now - at < this.#options.freezeMs && at - since >= SUSTAINED_MS,
    );
  }

  /** Whether packets of every kind in `expected` came in this window, lately: a path that works. */
  carrying(expected: readonly MediaKind[], now: number): boolean {
    return this.#every(expected, ({ bytesAt, bytesGrew }) => bytesGrew && now - bytesAt < CARRYING_MS);
  }

  #every(expected: readonly MediaKind[], test: (progress: Progress) => boolean): boolean {
    const progress = this.#progress;
    return progress !== undefined && expected.every((kind) => test(progress[kind]));
  }
}
