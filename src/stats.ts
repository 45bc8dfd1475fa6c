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
}

/** The counters a report is computed from, kept for the next one. */
export interface StatsSample {
  at: number;
  bytes: number;
  received: number;
  lost: number;
}

/**
 * Turns a `getStats()` report into `CallStats`, given the previous sample (rates need two);
 * returns the new sample, and stats only once there is a path and a previous sample.
 */
export function summarizeStats(
  report: RTCStatsReport,
  previous: StatsSample | undefined,
): { sample: StatsSample; stats?: CallStats } {
  let pair: Record<string, unknown> | undefined;
  const byId = new Map<string, Record<string, unknown>>();
  const sample: StatsSample = { at: 0, bytes: 0, received: 0, lost: 0 };
  report.forEach((entry: Record<string, unknown>) => {
    byId.set(entry['id'] as string, entry);
    // One clock for every sample: the report's own.
    sample.at = Math.max(sample.at, num(entry['timestamp']));
    if (entry['type'] === 'transport' && entry['selectedCandidatePairId']) {
      pair = report.get(entry['selectedCandidatePairId'] as string) as Record<string, unknown> | undefined;
    }
    if (entry['type'] === 'inbound-rtp') {
      sample.bytes += num(entry['bytesReceived']);
      sample.received += num(entry['packetsReceived']);
      sample.lost += Math.max(0, num(entry['packetsLost']));
    }
  });
  // Firefox has no transport stats: the nominated, succeeded pair is the one in use.
  report.forEach((entry: Record<string, unknown>) => {
    if (!pair && entry['type'] === 'candidate-pair' && entry['nominated'] && entry['state'] === 'succeeded')
      pair = entry;
  });
  if (!pair || !previous) return { sample };
  const seconds = (sample.at - previous.at) / 1000;
  const bitrate = seconds > 0 ? Math.max(0, Math.round(((sample.bytes - previous.bytes) * 8) / seconds)) : 0;
  const received = sample.received - previous.received;
  const lost = sample.lost - previous.lost;
  const packetLoss = received + lost > 0 ? Math.max(0, lost) / (received + lost) : 0;
  const rtt = Math.round(num(pair['currentRoundTripTime']) * 1000);
  const local = byId.get(pair['localCandidateId'] as string);
  return {
    sample,
    stats: {
      rtt,
      bitrate,
      packetLoss,
      quality: qualityOf(rtt, packetLoss),
      candidateType: String(local?.['candidateType'] ?? 'unknown'),
    },
  };
}

/** Thresholds after what people notice in a call: echo past 300 ms, freezes past a few % loss. */
export function qualityOf(rtt: number, packetLoss: number): CallStats['quality'] {
  if (rtt > 400 || packetLoss > 0.08) return 'poor';
  if (rtt > 150 || packetLoss > 0.02) return 'fair';
  return 'good';
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
