/**
 * A hostile peer against the element, in two real Chromium browsers through the real server. The
 * hostile side is a page whose own element only signals: the test takes its data channel
 * (captured before any script of the page runs) and writes the documented frames on it by hand,
 * as any WebRTC stack could: an announced file over `max-file-size`, more bytes than announced, a
 * transfer that stalls, a second file during a first, a type chosen to run in the receiver's
 * origin, and frames of every wrong shape. The receiving page's memory is measured (CDP heap and
 * array-buffer backing store, after a GC, and its peak during a 256 MiB flood) and bounded. Prints
 * the figures as `figure:` lines.
 *
 * Needs `npm run build` first.
 * Run: node --test --test-concurrency=1 test/node/hostile-peer.test.js
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectMediaFlowing, launchBrowsers, launchChromium, startServers, uniqueRoom } from './browser-harness.js';

const MiB = 1024 * 1024;

/** In the hostile page, before its scripts: every data channel it makes or gets lands in `window.__raw`. */
function captureChannels() {
  const Native = window.RTCPeerConnection;
  const raw = { channel: null, received: [] };
  window.__raw = raw;
  const take = (channel) => {
    raw.channel = channel;
    channel.addEventListener('message', ({ data }) => typeof data === 'string' && raw.received.push(JSON.parse(data)));
  };
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('datachannel', ({ channel }) => take(channel));
    }
    createDataChannel(...args) {
      const channel = super.createDataChannel(...args);
      take(channel);
      return channel;
    }
  };
}

/** In the victim page: what the element reports of the in-call features. */
function recordFeatures() {
  const feat = { messages: [], files: [], progress: [], errors: [] };
  window.__feat = feat;
  const el = document.querySelector('rtc-call');
  el.addEventListener('rtc-call-message', (e) => feat.messages.push(e.detail.data));
  el.addEventListener('rtc-call-file-progress', (e) => feat.progress.push({ ...e.detail }));
  el.addEventListener('rtc-call-error', (e) => feat.errors.push({ ...e.detail }));
  el.addEventListener('rtc-call-file', async ({ detail: { file } }) => {
    feat.files.push({
      name: file.name,
      type: file.type,
      size: file.size,
      text: file.size < 64 ? await file.text() : '',
    });
  });
}

/**
 * In the hostile page: writes `frames` on the captured channel, in order: a string as a text
 * frame, `{ bytes: n }` as n bytes of binary chunks of 64 KiB, with backpressure (so nothing is
 * lost to a full buffer). Resolves once the channel has handed all of it to the network.
 */
async function write(frames) {
  const channel = window.__raw.channel;
  const chunk = new Uint8Array(64 * 1024).fill(7);
  const room = () =>
    channel.bufferedAmount < 4 * 1024 * 1024
      ? Promise.resolve()
      : new Promise((resolve) => channel.addEventListener('bufferedamountlow', resolve, { once: true }));
  channel.bufferedAmountLowThreshold = 1024 * 1024;
  for (const frame of frames) {
    if (typeof frame === 'string') {
      await room();
      channel.send(frame);
      continue;
    }
    for (let left = frame.bytes; left > 0; left -= chunk.byteLength) {
      await room();
      channel.send(left >= chunk.byteLength ? chunk : chunk.subarray(0, left));
    }
  }
  while (channel.bufferedAmount > 0) await new Promise((resolve) => setTimeout(resolve, 20));
}

const announce = (name, type, size) => JSON.stringify({ t: 'file', name, type, size });
const message = (d) => JSON.stringify({ t: 'msg', d });

async function hostilePair(t) {
  const { pages } = await startServers(t);
  const room = uniqueRoom('hostile');
  const [victimBrowser, hostileBrowser] = await launchBrowsers(t, [
    () => launchChromium({ label: 'victim' }),
    () => launchChromium({ label: 'hostile' }),
  ]);
  const victim = await victimBrowser.open(
    pages.pageUrl({ room, name: 'Ada', attributes: { 'max-file-size': String(8 * MiB) } }),
  );
  const hostile = await hostileBrowser.open(pages.pageUrl({ room, name: 'Mallory' }), { init: captureChannels });
  await victim.evaluate(recordFeatures);
  await Promise.all([victim.armFrames(), hostile.armFrames()]);
  await victim.call();
  await victim.waitForState('waiting');
  await hostile.call();
  await expectMediaFlowing([victim, hostile], { frames: 3 });
  await hostile.waitFor(() => window.__raw.channel?.readyState === 'open', undefined, { what: 'the raw channel open' });
  const cdp = await victim.page.context().newCDPSession(victim.page);
  return { victim, hostile, cdp, victimBrowser };
}

/** Sends, then a marker message: once the victim has it, it has had everything before it (one ordered channel). */
async function deliver(victim, hostile, frames) {
  const marker = `done-${Math.random()}`;
  await hostile.evaluate(write, [...frames, message(marker)]);
  await victim.waitFor((m) => window.__feat.messages.includes(m), marker, {
    what: `marker ${marker}`,
    timeout: 60_000,
  });
}

const feat = (page) => page.evaluate(() => window.__feat);
const takeErrors = (page) => page.evaluate(() => window.__feat.errors.splice(0));
/** The `refuse` frames the hostile side got since last asked. */
const refusals = (page) =>
  page.evaluate(() => {
    const { received } = window.__raw;
    const taken = received.filter((frame) => frame.t === 'refuse');
    window.__raw.received = received.filter((frame) => frame.t !== 'refuse');
    return taken;
  });

/** The page's live JS heap plus array-buffer backing store, in bytes; after a full GC with `gc`. */
async function pageMemory(cdp, { gc = false } = {}) {
  if (gc) await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize, backingStorageSize } = await cdp.send('Runtime.getHeapUsage');
  return usedSize + backingStorageSize;
}

test('a hostile peer cannot exhaust or fool the receiver', { timeout: 240_000 }, async (t) => {
  const { victim, hostile, cdp } = await hostilePair(t);
  const figures = {};

  await t.test('malformed frames are ignored, with one protocol error; the call and the channel carry on', async () => {
    const bad = [
      'null',
      '[]',
      '"text"',
      '42',
      'not json',
      '{"t":"nope"}',
      '{"t":"msg"}',
      '{"t":"media","a":"yes","v":true}',
      '{"t":"file","name":1,"type":"x","size":3}',
      '{"t":"file","name":"x","type":"x","size":-1}',
      '{"t":"refuse","name":"x","reason":"because"}',
    ];
    await deliver(victim, hostile, [...bad, message('after')]);
    const errors = await takeErrors(victim);
    assert.deepEqual(
      errors.map((e) => e.code),
      ['protocol'],
      JSON.stringify(errors),
    );
    assert.ok((await feat(victim)).messages.includes('after'));
    assert.equal(await victim.state(), 'connected');
  });

  await t.test(
    'an announced file over max-file-size is refused and the sender told why; the flood that follows is dropped, and memory stays bounded',
    async () => {
      const before = await pageMemory(cdp, { gc: true });
      let peak = before;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          peak = Math.max(peak, await pageMemory(cdp).catch(() => 0));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      await deliver(victim, hostile, [
        announce('huge.bin', 'application/octet-stream', 2 ** 53 - 1),
        { bytes: 256 * MiB },
      ]);
      sampling = false;
      await sampler;
      const after = await pageMemory(cdp, { gc: true });
      figures.before = before;
      figures.peak = peak;
      figures.after = after;
      const [refusal, ...more] = await refusals(hostile);
      assert.deepEqual(refusal, { t: 'refuse', name: 'huge.bin', reason: 'too-big', max: 8 * MiB });
      assert.deepEqual(more, []);
      const errors = await takeErrors(victim);
      assert.deepEqual(
        errors.map((e) => e.code),
        ['file-refused'],
      );
      assert.match(errors[0].message, /huge\.bin/);
      const { files, progress } = await feat(victim);
      assert.deepEqual(files, []);
      assert.deepEqual(progress, []);
      // Nothing of the 256 MiB is held, and it was never all in memory at once.
      assert.ok(after - before < 16 * MiB, `${((after - before) / MiB).toFixed(1)} MiB kept after 256 MiB`);
      assert.ok(peak - before < 128 * MiB, `peak ${((peak - before) / MiB).toFixed(1)} MiB above the start`);
    },
  );

  await t.test(
    'more bytes than announced: the transfer is dropped, the sender told; the rest is not taken',
    async () => {
      await deliver(victim, hostile, [announce('small.bin', 'application/octet-stream', 100_000), { bytes: 4 * MiB }]);
      assert.deepEqual(
        (await refusals(hostile)).map((frame) => frame.reason),
        ['overrun'],
      );
      const errors = await takeErrors(victim);
      assert.deepEqual(
        errors.map((e) => e.code),
        ['protocol'],
      );
      assert.match(errors[0].message, /more of "small\.bin" than/);
      assert.deepEqual((await feat(victim)).files, []);
      // Exactly as announced is a file; a byte after it is not part of any.
      await deliver(victim, hostile, [announce('exact.txt', 'text/plain', 5), { bytes: 5 }, { bytes: 1 }]);
      const { files } = await feat(victim);
      assert.deepEqual(
        files.map(({ name, size }) => ({ name, size })),
        [{ name: 'exact.txt', size: 5 }],
      );
      assert.deepEqual(
        (await takeErrors(victim)).map((e) => e.code),
        ['protocol'],
      );
      await victim.evaluate(() => (window.__feat.files.length = 0));
    },
  );

  await t.test('the type a file claims is kept only if safe: text/html becomes application/octet-stream', async () => {
    await deliver(victim, hostile, [
      announce('report.pdf', 'text/html', 5),
      { bytes: 5 },
      announce('picture.png', 'IMAGE/PNG', 3),
      { bytes: 3 },
      announce('page.svg', 'image/svg+xml', 3),
      { bytes: 3 },
    ]);
    assert.deepEqual(
      (await feat(victim)).files.map(({ name, type }) => ({ name, type })),
      [
        { name: 'report.pdf', type: 'application/octet-stream' },
        { name: 'picture.png', type: 'image/png' },
        { name: 'page.svg', type: 'application/octet-stream' },
      ],
    );
    await victim.evaluate(() => (window.__feat.files.length = 0));
  });

  await t.test(
    'one incoming transfer at a time: a second announced during the first is refused; the first arrives whole',
    async () => {
      await deliver(victim, hostile, [
        announce('first.bin', 'application/octet-stream', 2 * 65536),
        { bytes: 65536 },
        announce('second.bin', 'application/octet-stream', 10),
        { bytes: 65536 },
      ]);
      assert.deepEqual(await refusals(hostile), [{ t: 'refuse', name: 'second.bin', reason: 'busy' }]);
      assert.deepEqual(
        (await feat(victim)).files.map(({ name, size }) => ({ name, size })),
        [{ name: 'first.bin', size: 2 * 65536 }],
      );
      assert.deepEqual(
        (await takeErrors(victim)).map((e) => e.code),
        ['file-refused'],
      );
      await victim.evaluate(() => (window.__feat.files.length = 0));
    },
  );

  await t.test('a transfer that stalls is cut after 15 s, its bytes let go; the next file arrives', async () => {
    const cutAt = Date.now();
    await deliver(victim, hostile, [announce('stalled.bin', 'application/octet-stream', 4 * MiB), { bytes: 2 * MiB }]);
    await victim.waitFor(() => window.__feat.errors.length > 0, undefined, { what: 'the stall cut', timeout: 30_000 });
    const waited = Date.now() - cutAt;
    const errors = await takeErrors(victim);
    assert.equal(errors[0].code, 'not-connected');
    assert.match(errors[0].message, /stalled.*2097152 of 4194304 bytes/);
    assert.ok(waited >= 14_000, `cut after ${waited} ms`);
    await hostile.waitFor(() => window.__raw.received.some((frame) => frame.reason === 'stalled'));
    assert.deepEqual(await refusals(hostile), [{ t: 'refuse', name: 'stalled.bin', reason: 'stalled' }]);
    await deliver(victim, hostile, [announce('next.txt', 'text/plain', 4), { bytes: 4 }]);
    assert.deepEqual(
      (await feat(victim)).files.map(({ name }) => name),
      ['next.txt'],
    );
    assert.equal(await victim.state(), 'connected');
  });

  console.log(
    `figure: receiver memory (JS heap + array buffers) under a 256 MiB flood after a refused announcement: ` +
      `start ${(figures.before / MiB).toFixed(1)} MiB, peak ${(figures.peak / MiB).toFixed(1)} MiB, after GC ${(figures.after / MiB).toFixed(1)} MiB`,
  );
});

test('the sender hears a refusal: sendFile() rejects with file-refused and says the limit', async (t) => {
  const { pages } = await startServers(t);
  const room = uniqueRoom('hostile');
  const [one, two] = await launchBrowsers(t, [
    () => launchChromium({ label: 'receiver' }),
    () => launchChromium({ label: 'sender' }),
  ]);
  const receiver = await one.open(pages.pageUrl({ room, name: 'Ada', attributes: { 'max-file-size': '100000' } }));
  const sender = await two.open(pages.pageUrl({ room, name: 'Bo' }));
  await receiver.evaluate(recordFeatures);
  await Promise.all([receiver.armFrames(), sender.armFrames()]);
  await receiver.call();
  await receiver.waitForState('waiting');
  await sender.call();
  await expectMediaFlowing([receiver, sender], { frames: 3 });
  await sender.waitFor(
    () => {
      try {
        document.querySelector('rtc-call').send('probe');
        return true;
      } catch {
        return false;
      }
    },
    undefined,
    { what: 'the channel open' },
  );
  const result = await sender.evaluate(async () => {
    const el = document.querySelector('rtc-call');
    const file = new File([new Uint8Array(5 * 1024 * 1024)], 'big.bin');
    try {
      await el.sendFile(file);
      return { ok: true };
    } catch (error) {
      return { ok: false, code: error.code, message: error.message };
    }
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, 'file-refused');
  assert.match(result.message, /"big\.bin" was refused: the peer takes files up to 97\.7 KiB/);
  // A file under the limit still goes through afterwards.
  await sender.evaluate(() =>
    document.querySelector('rtc-call').sendFile(new File(['small'], 'small.txt', { type: 'text/plain' })),
  );
  await receiver.waitFor(() => window.__feat.files.some((file) => file.name === 'small.txt'));
  assert.deepEqual(
    (await feat(receiver)).files.map(({ name, type, text }) => ({ name, type, text })),
    [{ name: 'small.txt', type: 'text/plain', text: 'small' }],
  );
});
