/**
 * The element dropped into other people's pages, in Chromium:
 * - under a strict Content-Security-Policy (no inline script or style, no eval, the socket and the
 *   script allowed by origin only), a loopback and a signaled call report no violation;
 * - inside a cross-origin iframe without `allow`, Start fails with `media-denied` saying which
 *   `allow` the embedding page must add (in Firefox too, as a hint); with `allow="camera;
 *   microphone"` the call works, and screen sharing without `display-capture` says so;
 * - in a browser without RTCPeerConnection, the element renders, Start shows the preview, and
 *   Call fails with `unsupported`, with no uncaught error.
 *
 * Needs `npm run build` first. Run: node --test --test-concurrency=1 test/node/embedding.test.js
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  WAIT,
  callPageHtml,
  expectMediaFlowing,
  launchBrowsers,
  launchChromium,
  launchFirefox,
  startRtcServer,
  startSite,
  uniqueRoom,
} from './browser-harness.js';

/** The directives a page that embeds the element needs (docs/api.md, "SSR, strict CSP, iframes"). */
const strictPolicy = (server) =>
  [
    "default-src 'none'",
    `script-src 'self' ${server.origin}`,
    "style-src 'self'",
    `connect-src ${server.signalUrl.replace(/\/signal$/, '')}`,
    // The videos play MediaStreams through srcObject, which no directive governs.
    "media-src 'none'",
    'report-uri /csp-report',
  ].join('; ');

/** Before any script of the page: every CSP violation it sees, kept in `window.__violations`. */
function watchViolations() {
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (event) =>
    window.__violations.push(`${event.violatedDirective}: ${event.blockedURI}`),
  );
}

async function serverAndBrowser(t) {
  const server = await startRtcServer();
  t.after(() => server.stop().catch(() => {}));
  const [browser] = await launchBrowsers(t, [() => launchChromium()]);
  return { server, browser };
}

test('a strict Content-Security-Policy: a loopback and a signaled call, with no violation', async (t) => {
  const { server, browser } = await serverAndBrowser(t);
  const room = uniqueRoom('csp');
  const page = (name, attributes = {}) => ({
    type: 'text/html',
    headers: { 'Content-Security-Policy': strictPolicy(server) },
    body: callPageHtml({ bundleUrl: server.bundleUrl, room, name, attributes }),
  });
  const site = await startSite(
    new Map([
      ['/loopback.html', page('Ada', { loopback: '' })],
      ['/ada.html', page('Ada')],
      ['/bob.html', page('Bob')],
      // The control: the same policy without the script's origin, which must block the element.
      [
        '/blocked.html',
        {
          ...page('Eve'),
          headers: { 'Content-Security-Policy': strictPolicy(server).replace(` ${server.origin}`, '') },
        },
      ],
    ]),
  );
  t.after(() => site.close());

  const control = await browser.browser.newPage();
  await control.addInitScript(watchViolations);
  await control.goto(`${site.origin}/blocked.html`);
  await control.waitForFunction(() => window.__violations.length > 0, null, { timeout: WAIT });
  assert.equal(await control.evaluate(() => customElements.get('rtc-call')), undefined);
  assert.match((await control.evaluate(() => window.__violations)).join('\n'), /^script-src/m);
  await control.close();
  const controlReports = site.reports.length;
  assert.ok(controlReports > 0, 'the blocked page reported its violation to /csp-report');

  const loopback = await browser.open(`${site.origin}/loopback.html`, { init: watchViolations });
  await loopback.armFrames();
  await loopback.call();
  await expectMediaFlowing([loopback]);

  const [ada, bob] = [
    await browser.open(`${site.origin}/ada.html`, { init: watchViolations }),
    await browser.open(`${site.origin}/bob.html`, { init: watchViolations }),
  ];
  for (const call of [ada, bob]) {
    await call.armFrames();
    await call.call();
  }
  await expectMediaFlowing([ada, bob]);

  for (const call of [loopback, ada, bob]) {
    assert.deepEqual(await call.evaluate(() => window.__violations), [], `${call.page.url()}`);
  }
  assert.equal(site.reports.length, controlReports, `reports: ${site.reports.slice(controlReports).join('\n')}`);
});

/** A top page on the site's origin framing the element's page from another origin (localhost). */
async function framed(t, server, browser, allow) {
  const room = uniqueRoom('frame');
  const inner = await startSite(
    new Map([
      [
        '/call.html',
        {
          type: 'text/html',
          body: callPageHtml({ bundleUrl: server.bundleUrl, room, name: 'Ada', attributes: { loopback: '' } }),
        },
      ],
    ]),
  );
  t.after(() => inner.close());
  const src = `http://localhost:${inner.port}/call.html`;
  const top = await startSite(
    new Map([
      [
        '/top.html',
        {
          type: 'text/html',
          body: `<!doctype html><title>embedder</title><iframe src="${src}"${allow === undefined ? '' : ` allow="${allow}"`} width="640" height="480"></iframe>`,
        },
      ],
    ]),
  );
  t.after(() => top.close());
  const page = await browser.browser.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${top.origin}/top.html`);
  let frame;
  for (let i = 0; i < 100 && !frame; i++) {
    frame = page.frames().find((f) => f.url().startsWith(src));
    if (!frame) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(frame, 'the iframe loaded');
  await until(frame, () => Boolean(customElements.get('rtc-call')), 'the element defined in the frame');
  return { page, frame, errors };
}

/** Polls `fn` in `frame` (Playwright's or Puppeteer's) until it is true. */
async function until(frame, fn, what) {
  const end = Date.now() + WAIT;
  while (!(await frame.evaluate(fn))) {
    if (Date.now() > end) throw new Error(`${what}: not within ${WAIT} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const connected = () => document.querySelector('rtc-call').state === 'connected';

/** `el.method()` in the frame: `{ ok }` or the error's `{ code, message }`. */
const outcome = (frame, method) =>
  frame.evaluate((method) => {
    const el = document.querySelector('rtc-call');
    return el[method]().then(
      () => ({ ok: true }),
      (error) => ({ code: error.code, message: error.message }),
    );
  }, method);

test('a cross-origin iframe without allow: media-denied naming allow="camera; microphone"; with it, the call works', async (t) => {
  const { server, browser } = await serverAndBrowser(t);

  const bare = await framed(t, server, browser, undefined);
  const refused = await outcome(bare.frame, 'start');
  assert.equal(refused.code, 'media-denied');
  // Chromium says the frame's policy refused, so the message says it as a fact.
  assert.match(refused.message, /^This page is inside an iframe that may not use the camera/);
  assert.match(refused.message, /allow="camera; microphone"/);
  assert.match(refused.message, /display-capture/);
  // The same words in the element, for the person in front of it.
  const status = await bare.frame.evaluate(
    () => document.querySelector('rtc-call').shadowRoot.querySelector('[part~="status"]').textContent,
  );
  assert.match(status, /allow="camera; microphone"/);
  assert.deepEqual(bare.errors, []);

  const allowed = await framed(t, server, browser, 'camera; microphone');
  assert.deepEqual(await outcome(allowed.frame, 'call'), { ok: true });
  await until(allowed.frame, connected, 'connected');
  // Screen sharing was not in `allow`: its refusal says what to add.
  const screen = await outcome(allowed.frame, 'shareScreen');
  assert.equal(screen.code, 'media-denied');
  assert.match(screen.message, /allow="display-capture"/);
  assert.deepEqual(allowed.errors, []);

  const all = await framed(t, server, browser, 'camera; microphone; display-capture');
  assert.deepEqual(await outcome(all.frame, 'call'), { ok: true });
  await until(all.frame, connected, 'connected');
  assert.deepEqual(await outcome(all.frame, 'shareScreen'), { ok: true });
});

test('Firefox, a cross-origin iframe: without allow, media-denied with the allow hint; with it, Start works', async (t) => {
  const server = await startRtcServer();
  t.after(() => server.stop().catch(() => {}));
  const [browser] = await launchBrowsers(t, [() => launchFirefox()]);
  const bare = await framed(t, server, browser, undefined);
  const refused = await outcome(bare.frame, 'start');
  assert.equal(refused.code, 'media-denied');
  // Firefox does not tell a frame's refusal from a person's: the hint comes with the usual words.
  assert.match(refused.message, /If this page is inside an iframe, .*allow="camera; microphone"/);
  const allowed = await framed(t, server, browser, 'camera; microphone');
  assert.deepEqual(await outcome(allowed.frame, 'start'), { ok: true });
  assert.deepEqual([...bare.errors, ...allowed.errors], []);
});

/** Before any script of the page: the browser has no WebRTC (as Debian's WebKitGTK is built). */
function removeWebRtc() {
  for (const name of ['RTCPeerConnection', 'webkitRTCPeerConnection', 'RTCSessionDescription', 'RTCIceCandidate']) {
    Reflect.deleteProperty(window, name);
  }
  window.__errors = [];
  window.addEventListener('error', (event) => window.__errors.push(String(event.message)));
  window.addEventListener('unhandledrejection', (event) => window.__errors.push(String(event.reason)));
}

for (const loopback of [true, false]) {
  test(`no RTCPeerConnection (${loopback ? 'loopback' : 'signaled'}): renders, Start shows the preview, Call fails with unsupported`, async (t) => {
    const { server, browser } = await serverAndBrowser(t);
    const site = await startSite(
      new Map([
        [
          '/call.html',
          {
            type: 'text/html',
            body: callPageHtml({
              bundleUrl: server.bundleUrl,
              room: uniqueRoom('nowebrtc'),
              name: 'Ada',
              attributes: loopback ? { loopback: '' } : {},
            }),
          },
        ],
      ]),
    );
    t.after(() => site.close());
    const call = await browser.open(`${site.origin}/call.html`, { init: removeWebRtc });
    assert.equal(await call.evaluate(() => typeof RTCPeerConnection), 'undefined');
    assert.equal(
      await call.evaluate(() => document.querySelector('rtc-call').shadowRoot.querySelectorAll('button').length > 0),
      true,
    );
    await call.evaluate(() => document.querySelector('rtc-call').start());
    await call.waitForState('ready');
    await call.waitFor(
      () => document.querySelector('rtc-call').shadowRoot.querySelector('[part~="local-video"]').videoWidth > 0,
      undefined,
      { what: 'the preview shows the camera' },
    );
    await call.call();
    await call.waitForState('failed');
    const result = await call.evaluate(() => window.__rtc.call);
    assert.equal(result.code, 'unsupported');
    assert.deepEqual(
      (await call.events('rtc-call-error')).map((event) => event.detail.code),
      ['unsupported'],
    );
    assert.match(await call.statusText(), /cannot make video calls/);
    assert.deepEqual(await call.evaluate(() => window.__errors), []);
  });
}
