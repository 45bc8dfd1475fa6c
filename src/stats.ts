/** What `rtc-call-stats` reports, every 2 s while connected. */
export interface CallStats {
  /** Round-trip time of the path in use, in ms. */
  rtt: number;
  /** Media received, all tracks, in bits per second since the last report. */
  bitrate: number;
  /** Share of inbound packets lost since the last report, 0–1. */
  packetLoss: number;
  quality: 'good' | 'fair' | 'poor';
  /** How our end of the path reaches the peer: `host` (same network), `srflx` (through a NAT), `relay` (TURN), `prflx`. */
  candidateType: string;
  /** The path as a whole: `direct` (host to host), `reflexive` (through NATs), `relayed` (through TURN). */
  path: PathKind;
  /**
   * Call → the first remote video frame of this call, in ms (from the peer's arrival when we waited
   * for one); there once that frame was shown.
   */
  setupTime?: number;
}

/** The counters a report is computed from, kept for the next one. */
export interface StatsSample {
  at: number;
  bytes: number;
  received: number;
  lost: number;
}

/** How a pair of candidate types gets through, as a person would say it. */
export type PathKind = 'direct' | 'reflexive' | 'relayed';

export function pathOf(local: string, remote: string): PathKind {
  if (local === 'relay' || remote === 'relay') return 'relayed';
  if (local === 'host' && remote === 'host') return 'direct';
  return 'reflexive';
}

type Entry = Record<string, unknown>;

/** The candidate pair in use and its two candidates' types (Firefox has no transport stats: the nominated, succeeded pair). */
export function selectedPair(report: RTCStatsReport): { pair: Entry; local: string; remote: string } | undefined {
  let pair: Entry | undefined;
  report.forEach((entry: Entry) => {
    if (entry['type'] === 'transport' && entry['selectedCandidatePairId'])
      pair ??= report.get(entry['selectedCandidatePairId'] as string) as Entry | undefined;
  });
  report.forEach((entry: Entry) => {
    if (!pair && entry['type'] === 'candidate-pair' && entry['nominated'] && entry['state'] === 'succeeded')
      pair = entry;
  });
  if (!pair) return undefined;
  const type = (id: unknown): string =>
    String((report.get(id as string) as Entry | undefined)?.['candidateType'] ?? 'unknown');
  return { pair, local: type(pair['localCandidateId']), remote: type(pair['remoteCandidateId']) };
}

/**
 * Turns a `getStats()` report into `CallStats`, given the previous sample (rates need two);
 * returns the new sample, and stats only once there is a path and a previous sample.
 */
export function summarizeStats(
  report: RTCStatsReport,
  previous: StatsSample | undefined,
): { sample: StatsSample; stats?: CallStats } {
  const sample: StatsSample = { at: 0, bytes: 0, received: 0, lost: 0 };
  report.forEach((entry: Entry) => {
    // One clock for every sample: the report's own.
    sample.at = Math.max(sample.at, num(entry['timestamp']));
    if (entry['type'] === 'inbound-rtp') {
      sample.bytes += num(entry['bytesReceived']);
      sample.received += num(entry['packetsReceived']);
      sample.lost += Math.max(0, num(entry['packetsLost']));
    }
  });
  const selected = selectedPair(report);
  if (!selected || !previous) return { sample };
  const seconds = (sample.at - previous.at) / 1000;
  const bitrate = seconds > 0 ? Math.max(0, Math.round(((sample.bytes - previous.bytes) * 8) / seconds)) : 0;
  const received = sample.received - previous.received;
  const lost = sample.lost - previous.lost;
  const packetLoss = received + lost > 0 ? Math.max(0, lost) / (received + lost) : 0;
  const rtt = Math.round(num(selected.pair['currentRoundTripTime']) * 1000);
  return {
    sample,
    stats: {
      rtt,
      bitrate,
      packetLoss,
      quality: qualityOf(rtt, packetLoss),
      candidateType: selected.local,
      path: pathOf(selected.local, selected.remote),
    },
  };
}

/** Thresholds after what people notice in a call: echo past 300 ms, freezes past a few % loss. */
export function qualityOf(rtt: number, packetLoss: number): CallStats['quality'] {
  if (rtt > 400 || packetLoss > 0.08) return 'poor';
  if (rtt > 150 || packetLoss > 0.02) return 'fair';
  return 'good';
}

export const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
