/**
 * The worked example of docs/protocol.md: examples/node-client.mjs, a peer without a browser
 * (`ws` and `@roamhq/wrtc`), in a call with the element in Chromium through the real server:
 * it takes the element's call or makes its own, receives the camera's video and the chat, and
 * the element plays its generated video and gets its chat answer. Both orders of arrival.
 *
 * Needs `npm run build` first and Chromium.
 * Run: node --test --test-concurrency=1 test/node/example-client.test.js
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import {
  ROOT,
  WAIT,
  launchBrowsers,
  launchChromium,
  startServers,
  uniqueRoom,
  withTimeout,
} from './browser-harness.js';

/** The example as a child process; `waitFor(re)` resolves with the first stdout line matching. */
function startExample(t, { url, room }) {
  const child = spawn(
    process.execPath,
    [`${ROOT}examples/node-client.mjs`, '--url', url, '--room', room, '--name', 'Robot'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines = [];
  const waiters = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters) if (waiter.re.test(line)) waiter.resolve(line);
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => lines.push(`[stderr] ${chunk.trimEnd()}`));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  t.after(() => child.exitCode === null && child.kill('SIGKILL'));
  return {
    lines,
    exited,
    waitFor(re, what = String(re)) {
      const found = lines.find((line) => re.test(line));
      if (found) return Promise.resolve(found);
      const waiting = new Promise((resolve) => waiters.push({ re, resolve }));
      return withTimeout(waiting, WAIT, `the example to print ${what}`);
    },
  };
}

async function callWithExample(t, exampleFirst) {
  const run = { example: undefined };
  try {
    await callSteps(t, exampleFirst, run);
  } catch (error) {
    if (run.example) error.message += `\nexample output:\n${run.example.lines.join('\n')}`;
    throw error;
  }
}

async function callSteps(t, exampleFirst, run) {
  const { server, pages } = await startServers(t);
  const room = uniqueRoom('example');
  const [browser] = await launchBrowsers(t, [() => launchChromium({ label: 'Ada' })]);
  const page = await browser.open(pages.pageUrl({ room, name: 'Ada' }));
  await page.armFrames();

  let example;
  if (exampleFirst) {
    example = run.example = startExample(t, { url: server.signalUrl, room });
    await example.waitFor(/^joined room as /);
    await page.call();
  } else {
    await page.call();
    await page.waitForState('waiting');
    example = run.example = startExample(t, { url: server.signalUrl, room });
  }

  // The element's camera (Chromium's fake device, 640×480) decoded in Node.
  assert.match(await example.waitFor(/^video: first frame /), /^video: first frame 640x480$/);
  await example.waitFor(/^video: 100 frames$/);
  assert.equal((await page.nextEvent('rtc-call-peer-joined')).detail.name, 'Robot');
  // The example's generated video, played by the element.
  await page.waitForState('connected');
  await page.waitForFrames(20);
  assert.deepEqual(
    await page.evaluate(() => {
      const video = document.querySelector('rtc-call').shadowRoot.querySelector('[part~="remote-video"]');
      return [video.videoWidth, video.videoHeight];
    }),
    [320, 240],
  );
  // It said it sends no audio: the element shows that, and waits for none.
  const media = await page.nextEvent('rtc-call-peer-media');
  assert.deepEqual([media.detail.audio, media.detail.video], [false, true]);

  // Chat both ways over the data channel.
  await page.evaluate(() => document.querySelector('rtc-call').send('hello from the page'));
  await example.waitFor(/^chat: "hello from the page"$/);
  const reply = await page.nextEvent('rtc-call-message');
  assert.equal(reply.detail.data, 'Robot got: hello from the page');

  // Still connected a while later (its pings confirm what it received, so the server keeps its
  // seat), then the page hangs up and the example leaves by itself.
  assert.equal(await page.state(), 'connected');
  await page.hangup();
  await example.waitFor(/^call ended by the other side$/);
  assert.deepEqual(await withTimeout(example.exited, WAIT, 'the example to exit'), { code: 0, signal: null });
  assert.ok(
    example.lines.some((line) => line === 'connection connected'),
    example.lines.join('\n'),
  );
}

test('the Node example client answers the element’s call: video both ways, chat both ways, leaves on hang-up', (t) =>
  callWithExample(t, false));

test('the Node example client makes the call when it was in the room first', (t) => callWithExample(t, true));
