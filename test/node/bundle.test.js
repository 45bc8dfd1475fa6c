/**
 * What a page loads, in real browsers, from the real server on another origin (CONTRACT §1):
 * before a call, the bundle and this browser's own webrtc-adapter shims, within the size budget;
 * the call (peer connections, room), the in-call features and the WebSocket client once the
 * camera is asked for; another browser's shims never.
 *
 * Needs `npm run build` first. Run: node --test --test-concurrency=1 test/node/bundle.test.js
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ROOT, launchBrowsers, launchChromium, launchFirefox, startServers, uniqueRoom } from './browser-harness.js';

/** What a page may load before a call starts, gzip -9 (issue: fast, small and scalable). */
const BUDGET = 25 * 1024;

/** The paths of the scripts the page fetched from the rtc-call server, in order. */
function scriptsFrom(page, origin) {
  return page.evaluate(
    (origin) =>
      performance
        .getEntriesByType('resource')
        .map((entry) => new URL(entry.name))
        .filter((url) => url.origin === origin && url.pathname.endsWith('.js'))
        .map((url) => url.pathname),
    origin,
  );
}

/** `/chunks/in-call-BdUkLKLU.js` → `/chunks/in-call.js`: rollup's `[name]-[hash]`, the hash 8 characters. */
const withoutHash = (path) => path.replace(/-[\w-]{8}\.js$/, '.js');

const gzipSize = (path) => gzipSync(readFileSync(`${ROOT}dist${path}`), { level: 9 }).length;

/**
 * The page once webrtc-adapter has shimmed it: `method` of RTCPeerConnection is the adapter's
 * (Chrome's shims add `getLocalStreams`, Firefox's `removeStream`), not the browser's own.
 */
async function openShimmed(browser, pages, method) {
  const page = await browser.open(pages.pageUrl({ room: uniqueRoom('bundle'), name: 'Ada' }));
  await page.waitFor(
    (method) => {
      const shim = RTCPeerConnection.prototype[method];
      return typeof shim === 'function' && !String(shim).includes('[native code]');
    },
    method,
    { what: `webrtc-adapter's ${method}` },
  );
  return page;
}

test('Chromium: before a call, the bundle and the Chrome shims only, within 25 KiB gzip; Start fetches the call and its features', async (t) => {
  const { server, pages } = await startServers(t);
  const [browser] = await launchBrowsers(t, [() => launchChromium()]);
  const page = await openShimmed(browser, pages, 'getLocalStreams');

  const before = await scriptsFrom(page, server.origin);
  assert.equal(before[0], '/rtc-call.js');
  assert.deepEqual(
    before.slice(1).map(withoutHash),
    ['/chunks/chrome.js'],
    `loaded before a call: ${before.join(', ')}`,
  );
  const bytes = before.reduce((sum, path) => sum + gzipSize(path), 0);
  t.diagnostic(`loaded before a call: ${before.join(' + ')} = ${(bytes / 1024).toFixed(1)} KiB gzip -9`);
  assert.ok(bytes <= BUDGET, `${bytes} bytes gzip is over the ${BUDGET}-byte budget`);

  await page.evaluate(() => document.querySelector('rtc-call').start());
  await page.waitForState('ready');
  const after = (await scriptsFrom(page, server.origin)).map(withoutHash);
  assert.ok(after.includes('/chunks/session.js'), `the call's connections fetched at Start: ${after.join(', ')}`);
  assert.ok(after.includes('/chunks/in-call.js'), `in-call features fetched at Start: ${after.join(', ')}`);
  assert.ok(after.includes('/chunks/websocket.js'), `the WebSocket client fetched at Start: ${after.join(', ')}`);
  assert.ok(!after.some((path) => /firefox|safari/.test(path)), `another browser's shims: ${after.join(', ')}`);
});

test('Firefox: the Firefox shims, not Chromium’s', async (t) => {
  const { server, pages } = await startServers(t);
  const [browser] = await launchBrowsers(t, [() => launchFirefox()]);
  const page = await openShimmed(browser, pages, 'removeStream');
  const loaded = (await scriptsFrom(page, server.origin)).map(withoutHash);
  assert.deepEqual(loaded, ['/rtc-call.js', '/chunks/firefox.js']);
});
