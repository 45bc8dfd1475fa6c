/**
 * The single-file bundle (CONTRACT §1): `dist/rtc-call.js` holds everything, within its size
 * budget; a copy of it alone on another site, renamed and loaded with a query string, makes a call
 * between Chromium and Firefox, and neither page fetches any other script, before or during the call.
 *
 * Needs `npm run build` first. Run: node --test --test-concurrency=1 test/node/bundle.test.js
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  ROOT,
  callPageHtml,
  expectMediaFlowing,
  launchBrowsers,
  launchChromium,
  launchFirefox,
  startRtcServer,
  startSite,
  uniqueRoom,
} from './browser-harness.js';

/** The bundle's budget, gzip -9: element, Lit, adapter shims, signaling client, in-call features. */
const BUDGET = 28 * 1024;

const bundle = () => readFileSync(`${ROOT}dist/rtc-call.js`, 'utf8');

/** Every script a page fetched, from any origin, as `origin + path + query`. */
const scriptsOf = (page) =>
  page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((entry) => /\.m?js(\?|$)/.test(new URL(entry.name).pathname + new URL(entry.name).search))
      .map((entry) => entry.name),
  );

test(`dist/rtc-call.js is one file that imports nothing, within ${BUDGET / 1024} KB gzip -9`, () => {
  const code = bundle();
  // Minified, a static import is `import…from"…"` and a dynamic one `import(`; neither may remain.
  assert.doesNotMatch(code, /\bimport\s*\(/, 'a dynamic import is left in the bundle');
  assert.doesNotMatch(code, /\bimport\s*[{*\w][^;]*?from\s*["']/, 'a static import is left in the bundle');
  assert.doesNotMatch(code, /\bimport\s*["']/, 'a bare import is left in the bundle');
  const gzip = gzipSync(code, { level: 9 }).length;
  assert.ok(gzip <= BUDGET, `${gzip} bytes gzip -9 is over the ${BUDGET}-byte budget`);
});

test('a copy alone on another site, renamed, with ?v=3: Chromium calls Firefox, and no page fetches another script', async (t) => {
  const server = await startRtcServer();
  t.after(() => server.stop().catch(() => {}));
  const room = uniqueRoom('vendored');
  const page = (name) =>
    callPageHtml({
      bundleUrl: '/vendor/call-widget.js?v=3',
      room,
      name,
      attributes: { 'signaling-url': server.url.replace(/^http/, 'ws') + 'signal' },
    });
  const site = await startSite(
    new Map([
      ['/vendor/call-widget.js', { type: 'text/javascript', body: bundle() }],
      ['/ada.html', { type: 'text/html', body: page('Ada') }],
      ['/bob.html', { type: 'text/html', body: page('Bob') }],
    ]),
  );
  t.after(() => site.close());
  const [chromium, firefox] = await launchBrowsers(t, [() => launchChromium(), () => launchFirefox()]);
  const ada = await chromium.open(`${site.origin}/ada.html`);
  const bob = await firefox.open(`${site.origin}/bob.html`);

  for (const call of [ada, bob]) {
    await call.armFrames();
    await call.call();
  }
  await Promise.all([ada.waitForState('connected'), bob.waitForState('connected')]);
  await expectMediaFlowing([ada, bob]);

  const copy = `${site.origin}/vendor/call-widget.js?v=3`;
  for (const call of [ada, bob]) assert.deepEqual(await scriptsOf(call), [copy], `${call.label} fetched`);
  // Each page evaluated the copy once, as the query string named it, and asked for nothing beside it.
  assert.deepEqual(
    site.requests.filter((path) => !['/ada.html', '/bob.html'].includes(path)),
    ['/vendor/call-widget.js?v=3', '/vendor/call-widget.js?v=3'],
  );
});
