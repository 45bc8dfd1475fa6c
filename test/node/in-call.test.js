/**
 * In-call features between two real Chromium browsers through the real server: chat and JSON
 * over the data channel (and the built-in chat panel), file transfer (SHA-256, name, type,
 * progress on both sides, one file after another, chat during a transfer, a transfer cut by
 * hang-up), mute and camera off, switching camera without renegotiation, screen share (stopped
 * by the method and by the browser), and quality stats. Prints the measured file throughput as
 * `# figure:` lines.
 *
 * Needs `npm run build` first.
 * Run: node --test --test-concurrency=1 test/node/in-call.test.js
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectMediaFlowing, launchBrowsers, launchChromium, startServers, uniqueRoom } from './browser-harness.js';

/** Records the in-call events in `window.__feat` (files as name, type, size and SHA-256). */
function recordFeatures() {
  const feat = { messages: [], progress: [], files: [], media: [], stats: [], errors: [] };
  window.__feat = feat;
  const el = document.querySelector('rtc-call');
  el.addEventListener('rtc-call-message', (e) => feat.messages.push(e.detail.data));
  el.addEventListener('rtc-call-file-progress', (e) => feat.progress.push({ ...e.detail }));
  el.addEventListener('rtc-call-peer-media', (e) => feat.media.push({ audio: e.detail.audio, video: e.detail.video }));
  el.addEventListener('rtc-call-stats', (e) => feat.stats.push({ ...e.detail }));
  el.addEventListener('rtc-call-error', (e) => feat.errors.push({ ...e.detail }));
  el.addEventListener('rtc-call-file', async (e) => {
    const { file } = e.detail;
    const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
    const sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    feat.files.push({ name: file.name, type: file.type, size: file.size, sha256, isFile: file instanceof File });
  });
}

/** Makes a File of `size` random bytes in the page; returns its SHA-256, and keeps it as `window.__file`. */
async function makeFile({ size, name, type }) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  window.__file = new File([bytes], name, { type });
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function connectedPair(t, attributes = {}) {
  const { pages } = await startServers(t);
  const room = uniqueRoom('in-call');
  const [ada, bob] = await launchBrowsers(t, [
    () => launchChromium({ label: 'A (Ada)' }),
    // Three fake cameras; the second is a 16-bit depth camera (Y16) that WebRTC does not send.
    () => launchChromium({ label: 'B (Bob)', extraArgs: ['--use-fake-device-for-media-stream=device-count=3'] }),
  ]);
  const a = await ada.open(pages.pageUrl({ room, name: 'Ada', attributes }));
  const b = await bob.open(pages.pageUrl({ room, name: 'Bob', attributes }));
  await Promise.all([a, b].map((page) => page.evaluate(recordFeatures)));
  await Promise.all([a.armFrames(), b.armFrames()]);
  await a.call();
  await a.waitForState('waiting');
  await b.call();
  await expectMediaFlowing([a, b], { frames: 5 });
  // The data channel opens with the call.
  for (const page of [a, b]) {
    await page.waitFor(() => {
      const el = document.querySelector('rtc-call');
      try {
        el.send({ probe: true });
        return true;
      } catch {
        return false;
      }
    });
  }
  await Promise.all([a, b].map((page) => page.waitFor(() => window.__feat.messages.length > 0)));
  await Promise.all([a, b].map((page) => page.evaluate(() => (window.__feat.messages.length = 0))));
  return { a, b };
}

const feat = (page, key) => page.evaluate((k) => window.__feat[k], key);

test('chat: unicode text and JSON both ways, in order; the chat panel sends and shows', async (t) => {
  const { a, b } = await connectedPair(t, { chat: '' });
  const fromA = ['héllo 👋 — 你好', { n: 1, list: [1, 'two', null], nested: { ok: true } }, 'third', 42, ''];
  const fromB = ['שלום', { reply: 'ok' }, 'last'];
  await a.evaluate((items) => items.forEach((item) => document.querySelector('rtc-call').send(item)), fromA);
  await b.evaluate((items) => items.forEach((item) => document.querySelector('rtc-call').send(item)), fromB);
  await b.waitFor((n) => window.__feat.messages.length >= n, fromA.length);
  await a.waitFor((n) => window.__feat.messages.length >= n, fromB.length);
  assert.deepEqual(await feat(b, 'messages'), fromA);
  assert.deepEqual(await feat(a, 'messages'), fromB);

  // The panel: type, press Send, the other side's log shows it as text.
  await a.page.locator('rtc-call').locator('[part="chat-input"]').fill('<b>typed</b> in the panel');
  await a.page.locator('rtc-call').locator('[part="chat-send"]').click();
  await b.waitFor(() => window.__feat.messages.includes('<b>typed</b> in the panel'));
  const log = await b.evaluate(() => {
    const items = [...document.querySelector('rtc-call').shadowRoot.querySelectorAll('[part="chat-log"] li')];
    return items.map((li) => ({
      text: li.textContent.replace(/\s+/g, ' ').trim(),
      bold: li.querySelectorAll('b').length,
    }));
  });
  assert.deepEqual(log.at(-1), { text: 'Them: <b>typed</b> in the panel', bold: 0 });
  assert.equal(
    await a.evaluate(() => document.querySelector('rtc-call').shadowRoot.querySelector('[part="chat-input"]').value),
    '',
  );

  // undefined is not a message.
  const refused = await a.evaluate(() => {
    try {
      document.querySelector('rtc-call').send(undefined);
      return null;
    } catch (error) {
      return error.code;
    }
  });
  assert.equal(refused, 'bad-config');
});

test('files: a few MiB of random bytes arrive whole (SHA-256, name, type), progress on both sides, a second file right after, chat during it', async (t) => {
  const { a, b } = await connectedPair(t);
  const size = 3 * 1024 * 1024 + 123;
  const sha256 = await a.evaluate(makeFile, { size, name: 'report 2026.bin', type: 'application/x-test' });
  const started = Date.now();
  const sent = a.evaluate(async () => {
    const el = document.querySelector('rtc-call');
    const done = el.sendFile(window.__file);
    // Chat while the file is on its way.
    el.send('during the transfer');
    await done;
    return true;
  });
  assert.equal(await sent, true);
  await b.waitFor(() => window.__feat.files.length === 1, null, { timeout: 60_000 });
  const seconds = (Date.now() - started) / 1000;
  console.log(`figure: file transfer between two browsers (3 MiB): ${(size / 1e6 / seconds).toFixed(1)} MB/s`);
  const [file] = await feat(b, 'files');
  // A type off the safe list arrives as application/octet-stream (hostile-peer.test.js).
  assert.deepEqual(file, { name: 'report 2026.bin', type: 'application/octet-stream', size, sha256, isFile: true });
  assert.deepEqual(await feat(b, 'messages'), ['during the transfer']);

  for (const [page, direction] of [
    [a, 'send'],
    [b, 'receive'],
  ]) {
    const progress = (await feat(page, 'progress')).filter((p) => p.direction === direction);
    assert.ok(progress.length >= 10 && progress.length <= 102, `${direction}: ${progress.length} events`);
    assert.deepEqual(progress.at(-1), { name: 'report 2026.bin', size, bytes: size, direction });
    const bytes = progress.map((p) => p.bytes);
    assert.deepEqual(
      bytes,
      [...bytes].sort((x, y) => x - y),
      `${direction}: progress went backwards`,
    );
  }

  // A second one, right after, the other way round, and an empty one.
  const second = await b.evaluate(makeFile, { size: 200_000, name: 'second.txt', type: 'text/plain' });
  await b.evaluate(() => document.querySelector('rtc-call').sendFile(window.__file));
  await b.evaluate(() => document.querySelector('rtc-call').sendFile(new File([], 'empty')));
  await a.waitFor(() => window.__feat.files.length === 2);
  assert.deepEqual(await feat(a, 'files'), [
    { name: 'second.txt', type: 'text/plain', size: 200_000, sha256: second, isFile: true },
    {
      name: 'empty',
      type: 'application/octet-stream',
      size: 0,
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      isFile: true,
    },
  ]);
  assert.deepEqual(await feat(a, 'errors'), []);
  assert.deepEqual(await feat(b, 'errors'), []);
});

test('a transfer cut by hang-up is reported on both sides, not lost silently', async (t) => {
  const { a, b } = await connectedPair(t);
  await a.evaluate(makeFile, { size: 48 * 1024 * 1024, name: 'big.bin', type: '' });
  const outcome = a.evaluate(() =>
    document
      .querySelector('rtc-call')
      .sendFile(window.__file)
      .then(
        () => 'sent',
        (error) => ({ code: error.code, message: error.message }),
      ),
  );
  await b.waitFor(() => window.__feat.progress.some((p) => p.direction === 'receive' && p.bytes > 0));
  await a.hangup();
  const result = await outcome;
  assert.equal(result.code, 'not-connected', JSON.stringify(result));
  assert.match(result.message, /big\.bin/);
  await b.waitFor(() => window.__feat.errors.length > 0);
  const [error] = await feat(b, 'errors');
  assert.equal(error.code, 'not-connected');
  assert.match(error.message, /big\.bin.*bytes received/);
  assert.deepEqual(await feat(b, 'files'), []);
  // The peer leaving is not a failure of the call: B waits for the next one.
  await b.waitForState('waiting');
});

test('mute and camera off: the local track is disabled (not removed), the peer is told and shows it; back on comes back', async (t) => {
  const { a, b } = await connectedPair(t);
  const tracks = () =>
    document
      .querySelector('rtc-call')
      .localStream.getTracks()
      .map((track) => `${track.kind}:${track.enabled}:${track.readyState}`)
      .sort();
  const remoteBadge = () =>
    document.querySelector('rtc-call').shadowRoot.querySelector('[part="remote-media"]')?.textContent ?? null;

  await a.page.locator('rtc-call').locator('[part="mute-button"]').click();
  assert.deepEqual(await a.evaluate(tracks), ['audio:false:live', 'video:true:live']);
  assert.equal(await a.evaluate(() => document.querySelector('rtc-call').hasAttribute('muted')), true);
  assert.equal(
    await a.evaluate(() =>
      document.querySelector('rtc-call').shadowRoot.querySelector('[part="mute-button"]').getAttribute('aria-pressed'),
    ),
    'true',
  );
  await b.waitFor(() => window.__feat.media.some((m) => !m.audio));
  assert.deepEqual((await feat(b, 'media')).at(-1), { audio: false, video: true });
  await b.waitFor(() => document.querySelector('rtc-call').shadowRoot.querySelector('[part="remote-media"]'));
  assert.equal(await b.evaluate(remoteBadge), 'Muted');

  await a.evaluate(() => document.querySelector('rtc-call').setAttribute('camera-off', ''));
  await b.waitFor(() => window.__feat.media.some((m) => !m.video));
  assert.deepEqual((await feat(b, 'media')).at(-1), { audio: false, video: false });
  assert.deepEqual(await a.evaluate(tracks), ['audio:false:live', 'video:false:live']);
  // Disabled, not removed: nothing was renegotiated.
  assert.equal(await a.evaluate(() => document.querySelector('rtc-call').connections[0].getSenders().length), 2);

  await a.evaluate(() => {
    const el = document.querySelector('rtc-call');
    el.muted = false;
    el.cameraOff = false;
  });
  await b.waitFor(() => {
    const last = window.__feat.media.at(-1);
    return last.audio && last.video;
  });
  assert.deepEqual(await a.evaluate(tracks), ['audio:true:live', 'video:true:live']);
  await b.waitFor(() => !document.querySelector('rtc-call').shadowRoot.querySelector('[part="remote-media"]'));
  const count = await b.frameCount();
  await b.waitForFrames(count + 10);
});

test('devices: the pickers list the cameras; switching one goes out with replaceTrack, without renegotiating', async (t) => {
  const { a, b } = await connectedPair(t);
  const before = await b.evaluate(() => {
    const el = document.querySelector('rtc-call');
    const cameras = el.devices.filter((d) => d.kind === 'videoinput').map((d) => d.deviceId);
    const current = el.localStream.getVideoTracks()[0].getSettings().deviceId;
    const pc = el.connections[0];
    window.__offers = 0;
    pc.addEventListener('signalingstatechange', () => window.__offers++);
    const select = el.shadowRoot.querySelector('[part~="camera-select"]');
    return { cameras, current, options: select ? select.options.length : 0 };
  });
  assert.equal(before.cameras.length, 3, JSON.stringify(before));
  assert.equal(before.options, 3);
  // fake_device_2 (MJPEG), a camera like most; fake_device_1 is the depth camera.
  const other = before.cameras[2];
  assert.notEqual(other, before.current);
  await b.page.locator('rtc-call').locator('[part~="camera-select"]').selectOption(other);
  await b.waitFor(
    (id) => document.querySelector('rtc-call').localStream.getVideoTracks()[0].getSettings().deviceId === id,
    other,
  );
  const after = await b.evaluate(() => {
    const el = document.querySelector('rtc-call');
    const track = el.localStream.getVideoTracks()[0];
    const sender = el.connections[0].getSenders().find((s) => s.track?.kind === 'video');
    return {
      sameTrack: sender.track === track,
      tracks: el.localStream.getVideoTracks().length,
      offers: window.__offers,
    };
  });
  assert.deepEqual(after, { sameTrack: true, tracks: 1, offers: 0 });
  const count = await a.frameCount();
  await a.waitForFrames(count + 10);
  // A camera plugged in: the browser fires devicechange, and the pickers list it.
  await b.evaluate(() => {
    const enumerate = navigator.mediaDevices.enumerateDevices.bind(navigator.mediaDevices);
    const plugged = { kind: 'videoinput', deviceId: 'plugged-in', groupId: 'g', label: 'USB camera' };
    navigator.mediaDevices.enumerateDevices = async () => [...(await enumerate()), plugged];
    navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
  });
  await b.waitFor(() => {
    const select = document.querySelector('rtc-call').shadowRoot.querySelector('[part~="camera-select"]');
    return select?.options.length === 4 && select.options[3].textContent.trim() === 'USB camera';
  });
});

test('screen share: the call stays connected and frames keep flowing; stop restores the camera, and so does ending it from the browser', async (t) => {
  const { a, b } = await connectedPair(t);
  const videoSender = () => {
    const el = document.querySelector('rtc-call');
    const sender = el.connections[0].getSenders().find((s) => s.track?.kind === 'video');
    return {
      label: sender.track.label,
      camera: sender.track === el.localStream.getVideoTracks()[0],
      sharing: el.sharingScreen,
      pressed: el.shadowRoot.querySelector('[part="screen-button"]').getAttribute('aria-pressed'),
    };
  };
  const camera = await a.evaluate(videoSender);
  assert.equal(camera.camera, true);

  await a.page.locator('rtc-call').locator('[part="screen-button"]').click();
  await a.waitFor(() => document.querySelector('rtc-call').sharingScreen);
  const sharing = await a.evaluate(videoSender);
  assert.equal(sharing.camera, false);
  assert.equal(sharing.pressed, 'true');
  assert.notEqual(sharing.label, camera.label);
  let count = await b.frameCount();
  await b.waitForFrames(count + 15);
  assert.equal(await b.state(), 'connected');
  assert.equal(await a.state(), 'connected');

  await a.evaluate(() => document.querySelector('rtc-call').stopScreenShare());
  assert.deepEqual(await a.evaluate(videoSender), { ...camera, pressed: 'false' });
  count = await b.frameCount();
  await b.waitForFrames(count + 10);

  // The browser's own "Stop sharing" ends the track; the element goes back to the camera.
  await a.evaluate(() => document.querySelector('rtc-call').shareScreen());
  await a.evaluate(() => {
    const el = document.querySelector('rtc-call');
    const track = el.connections[0].getSenders().find((s) => s.track?.kind === 'video').track;
    track.stop();
    track.dispatchEvent(new Event('ended'));
  });
  await a.waitFor(() => !document.querySelector('rtc-call').sharingScreen);
  assert.deepEqual(await a.evaluate(videoSender), { ...camera, pressed: 'false' });
  count = await b.frameCount();
  await b.waitForFrames(count + 10);
});

test('stats every 2 s while connected, with numbers in range, the path and the setup time', async (t) => {
  const { a, b } = await connectedPair(t);
  await Promise.all(
    [a, b].map((page) => page.waitFor(() => window.__feat.stats.length >= 2, null, { timeout: 10_000 })),
  );
  const stats = await feat(a, 'stats');
  for (const s of stats) {
    assert.ok(Number.isInteger(s.rtt) && s.rtt >= 0 && s.rtt < 1000, JSON.stringify(s));
    assert.ok(Number.isInteger(s.bitrate) && s.bitrate > 0 && s.bitrate < 50e6, JSON.stringify(s));
    assert.ok(s.packetLoss >= 0 && s.packetLoss <= 1, JSON.stringify(s));
    assert.ok(['good', 'fair', 'poor'].includes(s.quality), JSON.stringify(s));
    assert.equal(s.candidateType, 'host');
    assert.equal(s.path, 'direct');
  }
  // B pressed Call second: its setup time runs from Call to its first remote frame, as the page
  // measures it too; A's from B's arrival (A was waiting alone before that). In every stats event.
  const frames = await b.evaluate(() => ({ ...window.__rtc.frames, calledAt: window.__rtc.calledAt }));
  const pageMeasured = frames.firstAt - frames.calledAt;
  for (const page of [a, b]) {
    const setupTime = await page.evaluate(() => document.querySelector('rtc-call').setupTime);
    assert.ok(Number.isInteger(setupTime) && setupTime > 0 && setupTime < 10_000, `${page.label}: ${setupTime}`);
    for (const s of await feat(page, 'stats')) assert.equal(s.setupTime, setupTime, JSON.stringify(s));
    if (page === b)
      assert.ok(Math.abs(setupTime - pageMeasured) < 250, `element ${setupTime} ms, page ${pageMeasured} ms`);
  }
  const shown = await a.evaluate(() => {
    const q = document.querySelector('rtc-call').shadowRoot.querySelector('[part~="quality"]');
    return q && { text: q.textContent.replace(/\s+/g, ' ').trim(), quality: q.dataset.quality };
  });
  assert.ok(shown, 'no quality indicator');
  assert.match(shown.text, /^(Good|Fair|Poor) connection · \d+ ms$/);
  await a.hangup();
  const after = (await feat(a, 'stats')).length;
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.equal((await feat(a, 'stats')).length, after, 'stats went on after hang-up');
});
