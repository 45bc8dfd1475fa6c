/**
 * When the peer's media counts as frozen (src/media-watch.ts), on samples as getStats() gives
 * them. The network tests (netns.test.js) freeze real paths and watch the element recover.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MediaWatch, readArrivals } from '../../lib/media-watch.js';

const sample = (video, audio = 0, videoBytes = video * 1000) => ({
  video: { count: video, bytes: videoBytes },
  audio: { count: audio, bytes: audio },
});
const BOTH = ['audio', 'video'];
const options = { freezeMs: 2500, firstMediaMs: 5000 };

describe('MediaWatch', () => {
  test('media that keeps coming is never frozen', () => {
    const watch = new MediaWatch(options);
    for (let t = 0; t <= 20_000; t += 500) assert.deepEqual(watch.update(sample(t / 40, t), BOTH, t), []);
    assert.ok(watch.flowing(BOTH, 20_000));
  });

  test('video that stops for freezeMs: video frozen; audio that goes on is not', () => {
    const watch = new MediaWatch(options);
    watch.update(sample(10, 100), BOTH, 0);
    watch.update(sample(20, 200), BOTH, 500);
    assert.deepEqual(watch.update(sample(20, 300), BOTH, 2500), []);
    assert.deepEqual(watch.update(sample(20, 400), BOTH, 3000), ['video']);
    assert.equal(watch.flowing(BOTH, 3000), false);
  });

  test('frames that stop while video packets still come are not a frozen path (a keyframe is on its way)', () => {
    const watch = new MediaWatch(options);
    watch.update(sample(10, 100), BOTH, 0);
    for (let t = 500; t <= 6000; t += 500) {
      assert.deepEqual(
        watch.update({ video: { count: 10, bytes: 10_000 + t }, audio: { count: t, bytes: t } }, BOTH, t),
        [],
      );
    }
    assert.equal(watch.carrying(BOTH, 6000), true);
    assert.equal(watch.flowing(BOTH, 6000), false);
  });

  test('audio-only: its bytes are what counts', () => {
    const watch = new MediaWatch(options);
    watch.update(sample(0, 100), ['audio'], 0);
    watch.update(sample(0, 200), ['audio'], 500);
    assert.deepEqual(watch.update(sample(0, 200), ['audio'], 2999), []);
    assert.deepEqual(watch.update(sample(0, 200), ['audio'], 3000), ['audio']);
  });

  test('a kind the peer does not send (camera off) is never frozen, and gets a fresh start when it is back', () => {
    const watch = new MediaWatch(options);
    watch.update(sample(10, 100), BOTH, 0);
    for (let t = 500; t <= 10_000; t += 500) assert.deepEqual(watch.update(sample(10, 100 + t), ['audio'], t), []);
    // Back on after 10 s: frames within freezeMs of that are in time.
    assert.deepEqual(watch.update(sample(10, 10_200), BOTH, 10_500), []);
    assert.deepEqual(watch.update(sample(10, 10_300), BOTH, 12_400), []);
    assert.deepEqual(watch.update(sample(10, 10_400), BOTH, 12_500), ['video']);
  });

  test('nothing yet of a kind: firstMediaMs before it counts as frozen', () => {
    const watch = new MediaWatch(options);
    watch.update(sample(0, 0), BOTH, 0);
    assert.deepEqual(watch.update(sample(0, 0), BOTH, 4999), []);
    assert.deepEqual(watch.update(sample(0, 0), BOTH, 5000), ['audio', 'video']);
  });

  test('after reset() (a restart), flowing means new media in the new window; carrying means packets', () => {
    const watch = new MediaWatch(options);
    watch.update(sample(10, 100), BOTH, 0);
    watch.reset();
    watch.update(sample(10, 100), BOTH, 1000);
    assert.equal(watch.flowing(BOTH, 1000), false);
    assert.equal(watch.carrying(BOTH, 1000), false);
    // Packets, but no new frame yet (a keyframe is awaited): carrying, not flowing.
    watch.update({ video: { count: 10, bytes: 20_000 }, audio: { count: 150, bytes: 150 } }, BOTH, 1500);
    assert.equal(watch.carrying(BOTH, 1500), true);
    assert.equal(watch.flowing(BOTH, 1500), false);
    // New frames: flowing once they have kept coming for a second.
    watch.update({ video: { count: 12, bytes: 30_000 }, audio: { count: 200, bytes: 200 } }, BOTH, 2000);
    assert.equal(watch.flowing(BOTH, 2000), false);
    watch.update({ video: { count: 27, bytes: 40_000 }, audio: { count: 250, bytes: 250 } }, BOTH, 2500);
    assert.equal(watch.flowing(BOTH, 2500), false);
    watch.update({ video: { count: 42, bytes: 50_000 }, audio: { count: 300, bytes: 300 } }, BOTH, 3000);
    assert.equal(watch.flowing(BOTH, 3000), true);
  });

  test('a last frame or two that a frozen path lets through is not flowing again; a low frame rate is', () => {
    const watch = new MediaWatch(options);
    watch.update(sample(10, 100), BOTH, 0);
    watch.reset();
    watch.update(sample(10, 100), BOTH, 500);
    // One burst (a jitter buffer emptying), then nothing: never flowing, and frozen in time.
    watch.update(sample(12, 200), BOTH, 1000);
    for (let t = 1500; t < 3500; t += 500) {
      assert.deepEqual(watch.update(sample(12, 200 + t), BOTH, t), []);
      assert.equal(watch.flowing(BOTH, t), false, `at ${t}`);
    }
    // Bursts further apart than a second do not add up to a flow either.
    assert.deepEqual(watch.update(sample(13, 4000), BOTH, 3500), []);
    assert.equal(watch.flowing(BOTH, 3500), false);
    // A frame every half second or second (a congested sender), for a second from 3500: flowing.
    watch.update(sample(14, 4500), BOTH, 4000);
    assert.equal(watch.flowing(BOTH, 4000), false);
    watch.update(sample(14, 5000), BOTH, 4500);
    assert.equal(watch.flowing(BOTH, 4500), false);
    watch.update(sample(15, 5500), BOTH, 5000);
    assert.equal(watch.flowing(BOTH, 5000), true);
  });
});

test('readArrivals: decoded frames for video, inbound RTP bytes for audio; bytes of each', () => {
  const report = new Map(
    [
      { id: 'V', type: 'inbound-rtp', kind: 'video', bytesReceived: 5000, framesDecoded: 42 },
      { id: 'A', type: 'inbound-rtp', kind: 'audio', bytesReceived: 900 },
      { id: 'O', type: 'outbound-rtp', kind: 'video', bytesSent: 7777 },
    ].map((entry) => [entry.id, entry]),
  );
  assert.deepEqual(readArrivals(report), { video: { count: 42, bytes: 5000 }, audio: { count: 900, bytes: 900 } });
});
