/**
 * The numbers of `rtc-call-stats` from `getStats()` reports (src/stats.ts), on reports shaped as
 * Chromium and Firefox give them. The browser test (in-call.test.js) checks them on a real call.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pathOf, qualityOf, summarizeStats } from '../../lib/stats.js';

/** A report as getStats() returns it: a map of stats objects by id, all with one timestamp. */
function report(timestamp, entries) {
  return new Map(entries.map((entry) => [entry.id, { timestamp, ...entry }]));
}

const chromium = (timestamp, { bytes, received, lost, rtt = 0.042, type = 'relay' }) =>
  report(timestamp, [
    { id: 'T1', type: 'transport', selectedCandidatePairId: 'CP1' },
    {
      id: 'CP1',
      type: 'candidate-pair',
      localCandidateId: 'L1',
      remoteCandidateId: 'R1',
      currentRoundTripTime: rtt,
      state: 'succeeded',
    },
    { id: 'L1', type: 'local-candidate', candidateType: type },
    { id: 'R1', type: 'remote-candidate', candidateType: 'srflx' },
    {
      id: 'IV',
      type: 'inbound-rtp',
      kind: 'video',
      bytesReceived: bytes,
      packetsReceived: received,
      packetsLost: lost,
    },
    { id: 'IA', type: 'inbound-rtp', kind: 'audio', bytesReceived: 1000, packetsReceived: 100, packetsLost: 0 },
  ]);

describe('summarizeStats', () => {
  test('rates need two samples: the first gives none', () => {
    const first = summarizeStats(chromium(10_000, { bytes: 0, received: 0, lost: 0 }), undefined);
    assert.equal(first.stats, undefined);
    assert.deepEqual(first.sample, { at: 10_000, bytes: 1000, received: 100, lost: 0 });
  });

  test('bitrate, loss since the last sample, rtt in ms, the path type and a quality word', () => {
    const { sample } = summarizeStats(chromium(10_000, { bytes: 50_000, received: 900, lost: 0 }), undefined);
    const { stats } = summarizeStats(chromium(12_000, { bytes: 300_000, received: 1_850, lost: 50 }), sample);
    assert.deepEqual(stats, {
      rtt: 42,
      // 250,000 bytes in 2 s
      bitrate: 1_000_000,
      // 50 lost of 1,000 sent
      packetLoss: 0.05,
      quality: 'fair',
      candidateType: 'relay',
      path: 'relayed',
    });
  });

  test('Firefox has no transport stats: the nominated, succeeded pair is the one in use', () => {
    const firefox = (timestamp, bytes) =>
      report(timestamp, [
        { id: 'CPx', type: 'candidate-pair', localCandidateId: 'Lx', nominated: false, state: 'failed' },
        {
          id: 'CP2',
          type: 'candidate-pair',
          localCandidateId: 'L2',
          nominated: true,
          state: 'succeeded',
          currentRoundTripTime: 0.2,
        },
        { id: 'L2', type: 'local-candidate', candidateType: 'srflx' },
        { id: 'IV', type: 'inbound-rtp', bytesReceived: bytes, packetsReceived: 10, packetsLost: 0 },
      ]);
    const { sample } = summarizeStats(firefox(1000, 0), undefined);
    const { stats } = summarizeStats(firefox(2000, 1000), sample);
    assert.deepEqual(stats, {
      rtt: 200,
      bitrate: 8000,
      packetLoss: 0,
      quality: 'fair',
      candidateType: 'srflx',
      path: 'reflexive',
    });
  });

  test('no path yet: no stats, whatever came before', () => {
    const empty = report(5000, [{ id: 'IV', type: 'inbound-rtp', bytesReceived: 10 }]);
    assert.equal(summarizeStats(empty, { at: 1000, bytes: 0, received: 0, lost: 0 }).stats, undefined);
  });
});

test('quality: good under 150 ms and 2 % loss, poor past 400 ms or 8 %', () => {
  assert.equal(qualityOf(40, 0), 'good');
  assert.equal(qualityOf(150, 0.02), 'good');
  assert.equal(qualityOf(151, 0), 'fair');
  assert.equal(qualityOf(40, 0.03), 'fair');
  assert.equal(qualityOf(401, 0), 'poor');
  assert.equal(qualityOf(40, 0.09), 'poor');
});

test('path: direct host to host, reflexive through NATs, relayed as soon as one end is a TURN relay', () => {
  assert.equal(pathOf('host', 'host'), 'direct');
  assert.equal(pathOf('host', 'srflx'), 'reflexive');
  assert.equal(pathOf('prflx', 'srflx'), 'reflexive');
  assert.equal(pathOf('relay', 'prflx'), 'relayed');
  assert.equal(pathOf('srflx', 'relay'), 'relayed');
});
