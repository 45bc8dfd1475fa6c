/**
 * A real WebKit engine, Safari's: Debian's WebKitGTK MiniBrowser, built without WebRTC, driven over
 * WebDriver (WebKitWebDriver) under Xvfb. The element renders, Start shows the preview from its
 * mock camera, and Call fails with `unsupported` and a readable message, with no uncaught error.
 *
 * Needs `npm run build` first, and `apt-get install -y webkit2gtk-driver xvfb`.
 * Run: node --test --test-concurrency=1 test/node/webkit.test.js
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { WAIT, callPageHtml, startRtcServer, startSite, uniqueRoom, withTimeout } from './browser-harness.js';

const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';
const XVFB = '/usr/bin/Xvfb';

/** A child in a process group of its own, so that it and what it started can be ended together. */
function startGroup(command, args, options = {}) {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'], ...options });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    child,
    exited,
    async stop() {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }, 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Xvfb on a display number it picks itself (`-displayfd`). */
async function startXvfb(t) {
  const xvfb = startGroup(XVFB, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  t.after(() => xvfb.stop());
  const display = await withTimeout(
    new Promise((resolve, reject) => {
      let text = '';
      xvfb.child.stdio[3].on('data', (chunk) => {
        text += chunk;
        if (text.includes('\n')) resolve(`:${text.trim()}`);
      });
      xvfb.exited.then((code) => reject(new Error(`Xvfb exited (${code})`)));
    }),
    10_000,
    'Xvfb start',
  );
  return display;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A WebDriver session in the MiniBrowser; every request has a client timeout (a browser that cannot start hangs `POST /session`). */
async function startWebKit(t) {
  const display = await startXvfb(t);
  const port = await freePort();
  const driver = startGroup(WEBKIT_DRIVER, [`--port=${port}`], { env: { ...process.env, DISPLAY: display } });
  t.after(() => driver.stop());
  const base = `http://127.0.0.1:${port}`;
  const request = async (method, path, body, timeout = WAIT) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeout),
    });
    const reply = await response.json();
    if (!response.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(reply.value)}`);
    return reply.value;
  };
  for (let i = 0; ; i++) {
    try {
      await request('GET', '/status', undefined, 1000);
      break;
    } catch (error) {
      if (i > 50) throw new Error(`WebKitWebDriver did not answer: ${error.message}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const { sessionId } = await request(
    'POST',
    '/session',
    {
      capabilities: {
        alwaysMatch: {
          browserName: 'MiniBrowser',
          'webkitgtk:browserOptions': {
            binary: MINIBROWSER,
            args: [
              '--automation',
              '--enable-media-stream=true',
              '--enable-mock-capture-devices=true',
              '--media-playback-requires-user-gesture=false',
            ],
          },
        },
      },
    },
    60_000,
  );
  t.after(() => request('DELETE', `/session/${sessionId}`, undefined, 5000).catch(() => {}));
  const session = `/session/${sessionId}`;
  return {
    goto: (url) => request('POST', `${session}/url`, { url }),
    /** Runs `fn(...args)` (a function whose source is sent) in the page; resolves with what its promise gives. */
    run: (fn, ...args) =>
      request('POST', `${session}/execute/async`, {
        script: `const done = arguments[arguments.length - 1];
          Promise.resolve((${fn})(...Array.from(arguments).slice(0, -1))).then(done, (e) => done({ thrown: String(e) }));`,
        args,
      }),
    async waitFor(fn, what) {
      const end = Date.now() + WAIT;
      for (;;) {
        const value = await request('POST', `${session}/execute/sync`, { script: `return (${fn})();`, args: [] });
        if (value) return value;
        if (Date.now() > end) throw new Error(`WebKit: ${what} not within ${WAIT} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

const missing = [MINIBROWSER, WEBKIT_DRIVER, XVFB].filter((path) => !existsSync(path));

test('WebKitGTK (no WebRTC): renders, Start shows the mock camera, Call fails with unsupported', async (t) => {
  assert.deepEqual(missing, [], 'install them with `apt-get install -y webkit2gtk-driver xvfb`');
  const server = await startRtcServer();
  t.after(() => server.stop().catch(() => {}));
  const site = await startSite(
    new Map([
      [
        '/call.html',
        {
          type: 'text/html',
          body: callPageHtml({ bundleUrl: server.bundleUrl, room: uniqueRoom('webkit'), name: 'Ada' }).replace(
            '<body>',
            // Before the bundle: every uncaught error and rejection, and the element's events.
            `<body><script>
              window.__errors = [];
              window.__events = [];
              addEventListener('error', (e) => __errors.push(String(e.message)));
              addEventListener('unhandledrejection', (e) => __errors.push(String(e.reason)));
              document.addEventListener('rtc-call-error', (e) => __events.push(e.detail.code));
            </script>`,
          ),
        },
      ],
    ]),
  );
  t.after(() => site.close());
  const webkit = await startWebKit(t);
  await webkit.goto(`${site.origin}/call.html`);

  assert.equal(await webkit.run(() => typeof RTCPeerConnection), 'undefined', 'this WebKit has no WebRTC');
  await webkit.waitFor(
    () => customElements.get('rtc-call') && document.querySelector('rtc-call').hasUpdated,
    'the element',
  );
  const buttons = await webkit.run(() =>
    [...document.querySelector('rtc-call').shadowRoot.querySelectorAll('button')].map((b) => b.getAttribute('part')),
  );
  assert.ok(buttons.includes('start-button') && buttons.includes('call-button'), `buttons: ${buttons}`);

  const started = await webkit.run(() =>
    document
      .querySelector('rtc-call')
      .start()
      .then(
        () => 'ok',
        (e) => `${e.code}: ${e.message}`,
      ),
  );
  assert.equal(started, 'ok');
  const size = await webkit.waitFor(() => {
    const video = document.querySelector('rtc-call').shadowRoot.querySelector('[part~="local-video"]');
    return video.videoWidth > 0 && `${video.videoWidth}x${video.videoHeight}`;
  }, 'the preview');
  t.diagnostic(`WebKit preview: ${size}`);
  assert.equal(await webkit.run(() => document.querySelector('rtc-call').state), 'ready');

  const called = await webkit.run(() =>
    document
      .querySelector('rtc-call')
      .call()
      .then(
        () => ({ ok: true }),
        (e) => ({ code: e.code, message: e.message }),
      ),
  );
  assert.equal(called.code, 'unsupported');
  assert.match(called.message, /cannot make video calls/);
  const after = await webkit.run(() => ({
    state: document.querySelector('rtc-call').state,
    status: document.querySelector('rtc-call').shadowRoot.querySelector('[part~="status"]').textContent.trim(),
    events: window.__events,
    errors: window.__errors,
  }));
  assert.equal(after.state, 'failed');
  assert.match(after.status, /cannot make video calls/);
  assert.deepEqual(after.events, ['unsupported']);
  assert.deepEqual(after.errors, []);
});
