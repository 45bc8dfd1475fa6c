/**
 * Interop, end to end: a call between Chromium (playwright-core) and Firefox ESR (puppeteer-core
 * over WebDriver BiDi), in both directions, through the real server run as a child process,
 * with the page on a second origin loading the bundle from the server; chat and a file cross the
 * data channel each way.
 *
 * Needs `npm run build` first. Run: node --test --test-concurrency=1 test/node/firefox.test.js
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  closeAll,
  expectMediaFlowing,
  launchBrowsers,
  launchChromium,
  launchFirefox,
  startPageServer,
  startRtcServer,
  uniqueRoom,
} from './browser-harness.js';

test('Chromium ↔ Firefox ESR, both directions: both connect and both remote videos present frames', async (t) => {
  const server = await startRtcServer();
  t.after(() => server.stop().catch(() => {}));
  const pages = await startPageServer({ bundleUrl: server.bundleUrl });
  t.after(() => pages.close());
  const [chrome, firefox] = await launchBrowsers(t, [
    () => launchChromium({ label: 'Chromium' }),
    () => launchFirefox({ label: 'Firefox' }),
  ]);

  const methods = new Set();
  for (const [waiter, caller] of [
    [chrome, firefox],
    [firefox, chrome],
  ]) {
    await t.test(`${waiter.label} waits, ${caller.label} calls second`, async (st) => {
      const room = uniqueRoom('interop');
      const first = await waiter.open(pages.pageUrl({ room, name: `first-${waiter.label}` }));
      const second = await caller.open(pages.pageUrl({ room, name: `second-${caller.label}` }));
      st.after(() => Promise.all([first.close(), second.close()]));
      for (const page of [first, second]) {
        assert.equal(await page.evaluate(() => isSecureContext), true, `${page.label}: 127.0.0.1 is a secure context`);
        methods.add(`${page.label}: ${await page.armFrames()}`);
      }

      await first.call();
      await first.waitForState('waiting');
      await second.call();
      assert.equal((await first.nextEvent('rtc-call-peer-joined')).detail.name, `second-${caller.label}`);
      assert.equal((await second.nextEvent('rtc-call-peer-joined')).detail.name, `first-${waiter.label}`);

      const counts = await expectMediaFlowing([first, second], { frames: 10 });
      assert.ok(counts.every((frames) => frames.count >= 10));
      for (const page of [first, second]) {
        assert.deepEqual(await page.events('rtc-call-error'), [], `${page.label}: no rtc-call-error`);
      }

      // The data channel across the two browsers: text both ways, and a file each way.
      for (const page of [first, second]) await page.evaluate(recordInCall);
      for (const [from, to] of [
        [first, second],
        [second, first],
      ]) {
        const text = `from ${from.label}: héllo ✓`;
        await from.evaluate(sendWhenOpen, text);
        const sha256 = await from.evaluate(sendRandomFile, 300_000);
        await to.waitFor(() => window.__got.files.length > 0, undefined, { what: 'a file' });
        const got = await to.evaluate(() => window.__got);
        assert.deepEqual(got.messages, [text], `${to.label}: messages`);
        assert.deepEqual(got.files, [{ name: 'interop.bin', size: 300_000, sha256 }], `${to.label}: files`);
        await to.evaluate(() => window.__got.files.splice(0) && window.__got.messages.splice(0));
      }

      // The one who called second hangs up; the first goes back to waiting.
      await second.hangup();
      assert.equal((await first.nextEvent('rtc-call-peer-left')).detail.name, `second-${caller.label}`);
      await first.waitForState('waiting');
      await first.hangup();
      assert.equal(await first.state(), 'ended');
    });
  }

  console.log(`frame counting: ${[...methods].join('; ')}`);
  await closeAll(chrome, firefox);
  const exit = await server.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, `server did not exit cleanly:\n${server.output()}`);
});

// In-page helpers (serialised into the page).

/** Keeps what arrives over the data channel: messages, and files as name, size and SHA-256. */
function recordInCall() {
  const got = { messages: [], files: [] };
  window.__got = got;
  const el = document.querySelector('rtc-call');
  el.addEventListener('rtc-call-message', (e) => got.messages.push(e.detail.data));
  el.addEventListener('rtc-call-file', async (e) => {
    const digest = await crypto.subtle.digest('SHA-256', await e.detail.file.arrayBuffer());
    const sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    got.files.push({ name: e.detail.file.name, size: e.detail.file.size, sha256 });
  });
}

/** send() as soon as the data channel is open (it opens a moment after the media). */
async function sendWhenOpen(text) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      document.querySelector('rtc-call').send(text);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Sends a file of `size` random bytes; returns its SHA-256 once it is all handed over. */
async function sendRandomFile(size) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  await document.querySelector('rtc-call').sendFile(new File([bytes], 'interop.bin'));
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
