/**
 * Interop, end to end: a call between Chromium (playwright-core) and Firefox ESR (puppeteer-core
 * over WebDriver BiDi), in both directions, through the real server run as a child process,
 * with the page on a second origin loading the bundle from the server.
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
