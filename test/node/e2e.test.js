/**
 * End to end, with real processes only: the server's bin as a child process, a page served
 * from a second origin that loads the bundle from the server (no signaling-url), and separate
 * headless Chromium browsers (playwright-core) with fake camera and microphone.
 *
 * Needs `npm run build` first. Run: node --test --test-concurrency=1 test/node/e2e.test.js
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  closeAll,
  expectMediaFlowing,
  launchBrowsers,
  launchChromium,
  median,
  uniqueRoom,
  startServers,
} from './browser-harness.js';

/** SIGTERM: the server closes its sockets and exits 0 by itself. */
async function assertCleanExit(server) {
  const exit = await server.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, `server did not exit cleanly:\n${server.output()}`);
  assert.match(server.output(), /"signal":"SIGTERM".*"msg":"stopping"/);
}

const states = async (page) => (await page.events('rtc-call-state-change')).map((e) => e.detail.state);

test('two Chromium browsers, page on another origin: both connect, both remote videos play; a third gets room-full; hang-up sends the first back to waiting', async (t) => {
  const { server, pages } = await startServers(t);
  assert.notEqual(pages.origin, server.origin, 'the page must come from a different origin than the bundle');
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);

  const room = uniqueRoom();
  const [ada, bob] = await launchBrowsers(t, [
    () => launchChromium({ label: 'A (Ada)' }),
    () => launchChromium({ label: 'B (Bob)' }),
  ]);
  const a = await ada.open(pages.pageUrl({ room, name: 'Ada' }));
  const b = await bob.open(pages.pageUrl({ room, name: 'Bob' }));
  // The element got only room and name: the signaling URL must come from where the script was loaded.
  assert.deepEqual(
    await a.evaluate(() => ({
      signalingUrl: document.querySelector('rtc-call').getAttribute('signaling-url'),
      origin: location.origin,
      secure: isSecureContext,
    })),
    { signalingUrl: null, origin: pages.origin, secure: true },
  );

  assert.equal(await a.armFrames(), 'requestVideoFrameCallback');
  assert.equal(await b.armFrames(), 'requestVideoFrameCallback');

  await a.call();
  await a.waitForState('waiting');
  await b.call();
  assert.equal((await a.nextEvent('rtc-call-peer-joined')).detail.name, 'Bob');
  assert.equal((await b.nextEvent('rtc-call-peer-joined')).detail.name, 'Ada');
  assert.equal(pages.upgrades, 0, 'the element tried to signal to the page origin instead of the script origin');

  // Media: both connected, at least 10 frames presented on each remote video.
  const counts = await expectMediaFlowing([a, b], { frames: 10 });
  assert.ok(counts.every((frames) => frames.count >= 10));
  assert.deepEqual(await states(a), ['starting', 'ready', 'waiting', 'connecting', 'connected']);
  assert.deepEqual(await states(b), ['starting', 'ready', 'connecting', 'connected']);
  assert.deepEqual(await a.evaluate(() => window.__rtc.call), { ok: true });
  assert.deepEqual(await b.evaluate(() => window.__rtc.call), { ok: true });
  const [stateA, stateB] = [await a.state(), await b.state()];

  // A third browser in the full room.
  const [carol] = await launchBrowsers(t, [() => launchChromium({ label: 'C (Carol)' })]);
  const c = await carol.open(pages.pageUrl({ room, name: 'Carol' }));
  await c.call();
  await c.waitForState('failed');
  const full = await c.nextEvent('rtc-call-error');
  assert.equal(full.detail.code, 'room-full');
  assert.equal(typeof full.detail.message, 'string');
  await c.waitFor(() => window.__rtc.call !== null, undefined, { what: 'call() to settle' });
  assert.equal((await c.evaluate(() => window.__rtc.call)).code, 'room-full');
  assert.equal((await a.events('rtc-call-peer-joined')).length, 1, 'A must not hear of the refused peer');
  await carol.close();
  assert.equal(await a.state(), stateA, 'the refused third peer must not disturb the call');
  assert.equal(await b.state(), stateB);

  // B hangs up: A hears that Bob left and waits in the room again.
  await b.hangup();
  assert.equal(await b.state(), 'ended');
  const left = await a.nextEvent('rtc-call-peer-left');
  assert.equal(left.detail.name, 'Bob');
  assert.equal(typeof left.detail.peerId, 'string');
  await a.waitForState('waiting');
  assert.deepEqual(await states(a), ['starting', 'ready', 'waiting', 'connecting', 'connected', 'waiting']);
  assert.equal(
    await a.evaluate(
      () => document.querySelector('rtc-call').shadowRoot.querySelector('[part~="remote-video"]').srcObject,
    ),
    null,
  );

  // SIGTERM with A still in the room: the server closes the socket and exits 0.
  await assertCleanExit(server);
  await closeAll(ada, bob);
});

test('a page on a non-localhost http origin is not a secure context: call() fails with insecure-context', async (t) => {
  const { server, pages } = await startServers(t);
  const [browser] = await launchBrowsers(t, [
    () => launchChromium({ label: 'insecure', extraArgs: ['--host-resolver-rules=MAP insecure.test 127.0.0.1'] }),
  ]);
  const page = await browser.open(pages.pageUrl({ room: uniqueRoom(), name: 'Eve', host: 'insecure.test' }));
  assert.deepEqual(await page.evaluate(() => ({ host: location.hostname, secure: isSecureContext })), {
    host: 'insecure.test',
    secure: false,
  });

  await page.call();
  await page.waitForState('failed');
  const error = await page.nextEvent('rtc-call-error');
  assert.equal(error.detail.code, 'insecure-context');
  assert.ok(error.detail.message.length > 0);
  // Lit renders asynchronously: wait for the status line, then compare it exactly.
  await page.waitFor(
    (message) =>
      document.querySelector('rtc-call').shadowRoot.querySelector('[part~="status"]').textContent.trim() === message,
    error.detail.message,
    { what: 'status text to equal the error message' },
  );
  assert.equal(await page.statusText(), error.detail.message);
  await page.waitFor(() => window.__rtc.call !== null, undefined, { what: 'call() to settle' });
  assert.equal((await page.evaluate(() => window.__rtc.call)).code, 'insecure-context');
  assert.equal((await page.events('rtc-call-error')).length, 1, 'one failure, one event');
  assert.deepEqual(
    (await page.events('rtc-call-state-change')).map((e) => e.detail.state),
    ['starting', 'failed'],
  );

  await browser.close();
  await assertCleanExit(server);
});

test('signaled setup time: Call pressed on the second peer → first remote frame on that peer (5 fresh rooms)', async (t) => {
  const RUNS = 5;
  const { server, pages } = await startServers(t);
  const [first, second] = await launchBrowsers(t, [
    () => launchChromium({ label: 'first peer' }),
    () => launchChromium({ label: 'second peer' }),
  ]);

  const times = [];
  for (let run = 1; run <= RUNS; run += 1) {
    const room = uniqueRoom(`setup-${run}`);
    const a = await first.open(pages.pageUrl({ room, name: 'Ada' }));
    const b = await second.open(pages.pageUrl({ room, name: 'Bob' }));
    try {
      await a.call();
      await a.waitForState('waiting');
      await Promise.all([a.armFrames(), b.armFrames()]);
      await b.call(); // performance.now() is taken in the page just before el.call()
      await expectMediaFlowing([a, b], { frames: 1 });
      const frames = await b.waitForFrames(1);
      assert.ok(frames.firstAt > frames.calledAt, `run ${run}: first frame before the call?`);
      times.push(frames.firstAt - frames.calledAt);
      await Promise.all([a.hangup(), b.hangup()]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }

  const ms = (value) => `${value.toFixed(1)} ms`;
  console.log(
    `signaled setup (Call on the second peer → its first remote frame), ${times.length} runs: ` +
      `median ${ms(median(times))} [${times.map(ms).join(', ')}]`,
  );
  t.diagnostic(`setup-time median ${ms(median(times))} over ${times.length} runs`);

  await closeAll(first, second);
  await assertCleanExit(server);
  assert.equal(times.length, RUNS);
});
