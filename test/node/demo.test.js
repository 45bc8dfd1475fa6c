/**
 * The demo at `/`, in a real headless Chromium against the real server, at a desktop and a phone
 * size: no console errors or failed requests, the room from `?room=` (CONTRACT §1) in the element
 * and the share link, Copy puts the link on the clipboard, the loopback toggle and Join reach
 * `connected`, a file sent from the file input comes back (loopback echoes it) as a download
 * link, the connection numbers fill in; and at phone width the page does not scroll sideways.
 * Full-page screenshots (light and dark) go to test-results/.
 *
 * Needs `npm run build` first. Run: node --test test/node/demo.test.js
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { test } from 'node:test';
import { CallPage, ROOT, WAIT, axeViolations, launchChromium, startRtcServer, uniqueRoom } from './browser-harness.js';

const RESULTS = `${ROOT}test-results/`;

const SIZES = [
  { label: 'desktop', width: 1280, height: 800 },
  { label: 'phone', width: 390, height: 844 },
];

/** Console errors, page errors, failed requests and error responses, as readable lines. */
function watchProblems(page, origin) {
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('requestfailed', (request) => {
    if (request.url().startsWith(origin))
      problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  page.on('response', (response) => {
    if (response.url().startsWith(origin) && response.status() >= 400) {
      problems.push(`HTTP ${response.status()}: ${response.url()}`);
    }
  });
  return problems;
}

/** How far the page reaches past the viewport sideways (0 when it fits). */
const horizontalOverflow = (page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

test('the demo at /: room from ?room=, share link, loopback self-test, file round trip, no errors, fits desktop and phone', async (t) => {
  const server = await startRtcServer();
  t.after(() => server.stop().catch(() => {}));
  const chromium = await launchChromium({ label: 'demo' });
  t.after(() => chromium.close());
  mkdirSync(RESULTS, { recursive: true });

  for (const size of SIZES) {
    await t.test(`${size.label} ${size.width}×${size.height}`, async () => {
      const context = await chromium.browser.newContext({
        viewport: { width: size.width, height: size.height },
        permissions: ['clipboard-read', 'clipboard-write'],
      });
      t.after(() => context.close().catch(() => {}));
      const page = await context.newPage();
      const problems = watchProblems(page, server.origin);
      const demo = new CallPage(`demo ${size.label}`, 'playwright', page);
      // Whatever the page's Content-Security-Policy blocks, from the first script on.
      await page.addInitScript(() => {
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', (event) =>
          window.__cspViolations.push(`${event.effectiveDirective} ${event.blockedURI || '(inline)'}`),
        );
      });

      const room = uniqueRoom('demo');
      const served = page.waitForResponse((response) => new URL(response.url()).pathname === '/');
      await demo.goto(`${server.url}?room=${room}`);
      const headers = (await served).headers();
      assert.match(headers['content-security-policy'], /script-src 'self'/);
      assert.match(headers['content-security-policy'], /object-src 'none'/);
      assert.equal(headers['x-content-type-options'], 'nosniff');
      assert.equal(headers['referrer-policy'], 'no-referrer');

      // Defined and rendered: its shadow root holds the videos and the Call button.
      const rendered = await page.evaluate(() => {
        const el = document.querySelector('rtc-call');
        const root = el.shadowRoot;
        return {
          upgraded: el instanceof customElements.get('rtc-call'),
          remoteVideo: Boolean(root?.querySelector('[part~="remote-video"]')),
          callButton: root?.querySelector('[part~="call-button"]')?.getBoundingClientRect().width ?? 0,
          state: el.state,
          chat: Boolean(root?.querySelector('[part~="chat"]')),
        };
      });
      assert.equal(rendered.upgraded, true);
      assert.equal(rendered.remoteVideo, true);
      assert.ok(rendered.callButton > 0, 'the Call button is laid out');
      assert.equal(rendered.state, 'idle');
      assert.equal(rendered.chat, true, 'the demo turns the chat on');

      // The room from ?room= is the element's, the field's and the share link's.
      assert.equal(await page.evaluate(() => document.querySelector('rtc-call').room), room);
      assert.equal(
        await page.evaluate(() => document.querySelector('rtc-call').lobby),
        false,
        'a shared room: no lobby',
      );
      assert.equal(await page.inputValue('#room'), room);
      const link = await page.textContent('#share');
      assert.equal(new URL(link).searchParams.get('room'), room);
      assert.equal(new URL(link).origin, server.origin);
      assert.equal(await page.getAttribute('#share', 'href'), link);
      assert.ok((await page.textContent('#embed')).includes(`room="${room}"`), 'the embed snippet names the room');

      // Copy: the link lands on the clipboard, and the page says so.
      await page.click('#copy');
      await page.waitForFunction(() => document.getElementById('copy-status').textContent.trim() !== '', null, {
        timeout: WAIT,
      });
      assert.match(await page.textContent('#copy-status'), /copied/i);
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);

      if (size.label === 'phone') assert.equal(await horizontalOverflow(page), 0, 'phone width scrolls sideways');
      await page.screenshot({ path: `${RESULTS}demo-${size.label}-idle.png`, fullPage: true });
      assert.deepEqual(await axeViolations(page), [], 'axe, before the call');

      // The loopback self-test from the demo's toggle: the element follows it, so does the address.
      await page.check('#loopback');
      assert.equal(await page.evaluate(() => document.querySelector('rtc-call').loopback), true);
      assert.ok(new URLSearchParams(await page.evaluate(() => location.search)).has('loopback'));
      assert.equal(new URL(await page.textContent('#share')).searchParams.has('loopback'), false);
      await page.click('#join');
      await demo.waitForState('connected');
      assert.equal(await page.textContent('#state'), 'connected');

      // A file from the input goes over the call and, in loopback, comes back as a download link.
      const content = `demo file for ${room}\n`;
      await page.setInputFiles('#file', { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from(content) });
      await page.waitForSelector('#files a[download="hello.txt"]', { timeout: WAIT });
      const received = await page.evaluate(async () => {
        const anchor = document.querySelector('#files a[download="hello.txt"]');
        const response = await fetch(anchor.href);
        return { text: await response.text(), type: response.headers.get('content-type') };
      });
      assert.equal(received.text, content);
      // Whatever the peer said it was, the link is a download, never a page of this origin.
      assert.equal(received.type, 'application/octet-stream');
      assert.match(await page.textContent('#transfers'), /Sent hello\.txt[\s\S]*100 %/);

      // Chat: the element's own panel; in loopback the other end sends the message back.
      await page.fill('rtc-call [part~="chat-input"]', 'hello from the demo');
      await page.click('rtc-call [part~="chat-send"]');
      await page.waitForFunction(
        () => /rtc-call-message data="hello from the demo"/.test(document.getElementById('log').textContent),
        null,
        {
          timeout: WAIT,
        },
      );

      // The connection numbers from rtc-call-stats, and the log of events.
      await page.waitForFunction(() => /\d+ ms/.test(document.getElementById('stat-rtt').textContent), null, {
        timeout: WAIT,
      });
      assert.match(await page.textContent('#stat-quality'), /^(good|fair|poor)$/);
      // The self-test's setup time (Call → first remote frame) and its route, host to host.
      await page.waitForFunction(() => /^\d+ ms$/.test(document.getElementById('stat-setup').textContent), null, {
        timeout: 10_000,
      });
      assert.equal(await page.textContent('#stat-route'), 'direct');
      const log = await page.textContent('#log');
      assert.match(log, /rtc-call-state-change state="connected"/);
      assert.match(log, /rtc-call-file file=File\(hello\.txt/);

      if (size.label === 'phone') {
        assert.equal(await horizontalOverflow(page), 0, 'phone width scrolls sideways during a call');
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth));
      }

      assert.deepEqual(await axeViolations(page), [], 'axe, connected');
      await page.screenshot({ path: `${RESULTS}demo-${size.label}.png`, fullPage: true });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: `${RESULTS}demo-${size.label}-dark.png`, fullPage: true });

      await demo.hangup();
      await demo.waitForState('ended');
      assert.deepEqual(problems, [], 'console errors or failed requests');
      assert.deepEqual(await page.evaluate(() => window.__cspViolations), [], 'blocked by the CSP');
      await context.close();
    });
  }

  await t.test(
    'no ?room=: a readable room is suggested and put in the address; &loopback ticks the toggle',
    async () => {
      const context = await chromium.browser.newContext({ viewport: { width: 390, height: 844 } });
      t.after(() => context.close().catch(() => {}));
      const page = await context.newPage();
      const problems = watchProblems(page, server.origin);

      await page.goto(server.url, { timeout: WAIT });
      await page.evaluate(() => customElements.whenDefined('rtc-call'));
      const suggested = await page.inputValue('#room');
      // Two words, then 15 characters of base 32: 75 random bits.
      assert.match(suggested, /^[a-z]+-[a-z]+-[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
      assert.equal(
        await page.evaluate(() => document.querySelector('rtc-call').lobby),
        true,
        'a made-up room has a lobby',
      );
      await page.click('#random-room');
      const another = await page.inputValue('#room');
      assert.notEqual(another, suggested);
      assert.match(another, /^[a-z]+-[a-z]+(-[0-9a-hjkmnp-tv-z]{5}){3}$/);
      assert.equal(await page.evaluate(() => document.querySelector('rtc-call').room), suggested);
      assert.equal(new URLSearchParams(await page.evaluate(() => location.search)).get('room'), suggested);
      assert.equal(await page.isChecked('#loopback'), false);

      const room = uniqueRoom('demo');
      await page.goto(`${server.url}?room=${room}&loopback`, { timeout: WAIT });
      await page.evaluate(() => customElements.whenDefined('rtc-call'));
      assert.equal(await page.isChecked('#loopback'), true);
      assert.deepEqual(
        await page.evaluate(() => {
          const el = document.querySelector('rtc-call');
          return { room: el.room, loopback: el.loopback, search: location.search };
        }),
        { room, loopback: true, search: `?room=${room}&loopback` },
      );
      assert.deepEqual(problems, [], 'console errors or failed requests');
      await context.close();
    },
  );
});
