/**
 * Shared pieces of the end-to-end tests (e2e.test.js, firefox.test.js): the real server as a
 * child process, a page server on a second origin, real browsers, and in-page probes.
 *
 * Needs the build (`npm run build`: bin/ imports lib/, the page loads dist/rtc-call.js).
 * Nothing here downloads a browser: Chromium and Firefox are the system's (scripts/browsers.mjs).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { CHROMIUM_ARGS, findChromium, findFirefox } from '../../scripts/browsers.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The bound on every single wait (a state, an event, frames). */
export const WAIT = 20_000;

/** Fails with `what` after `ms` unless `promise` settles first. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const uniqueRoom = (prefix = 'e2e') => `${prefix}-${randomUUID()}`;

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// ---------------------------------------------------------------------------------------------
// The real server: `node bin/rtc-call-server.js --port 0`, its URL parsed from its start line.
// ---------------------------------------------------------------------------------------------

/** `rtc-call server: open http://127.0.0.1:PORT/ (bundle …, signaling …)` */
const START_LINE = /^rtc-call server: open (https?:\/\/\S+\/)/;

/** The server's own settings from the environment would change what the tests see (CONTRACT §8). */
const SERVER_ENV = [
  'PORT',
  'HOST',
  'ALLOWED_ORIGINS',
  'ROOM_CAPACITY',
  'JOIN_SECRET',
  'TURN_SECRET',
  'TURN_URLS',
  'REDIS_URL',
  'TLS_CERT',
  'TLS_KEY',
];

/**
 * Starts the server's bin as a child process and resolves once it printed where it listens.
 * `stop()` sends SIGTERM and resolves with `{ code, signal }` (SIGKILL after 5 s, and then it
 * rejects); it may be called any number of times, so a test can assert on it and `t.after`
 * can still call it safely.
 */
export async function startRtcServer({ args = [], env = {} } = {}) {
  const bin = `${ROOT}bin/rtc-call-server.js`;
  if (!existsSync(`${ROOT}lib/server/cli.js`) || !existsSync(`${ROOT}dist/rtc-call.js`)) {
    throw new Error('lib/ or dist/ is missing: run `npm run build` first');
  }
  const child = spawn(process.execPath, [bin, '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !SERVER_ENV.includes(key))), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => output.push(`[stderr] ${chunk.trimEnd()}`));
  const lines = createInterface({ input: child.stdout });

  const started = new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      output.push(line);
      const match = START_LINE.exec(line);
      if (match) resolve(match[1]);
    });
    exited.then(({ code, signal }) =>
      reject(new Error(`server exited before listening (code ${code}, signal ${signal}):\n${output.join('\n')}`)),
    );
    child.once('error', reject);
  });

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      try {
        return await withTimeout(exited, 5000, 'server exit after SIGTERM');
      } catch (error) {
        child.kill('SIGKILL');
        await exited;
        throw error;
      }
    })();
    return stopping;
  };

  let url;
  try {
    url = new URL(await withTimeout(started, 10_000, 'server start line'));
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  return {
    /** `http://127.0.0.1:PORT/`, as printed */
    url: url.href,
    /** Where CONTRACT §1 puts the bundle and §8 the signaling socket. */
    bundleUrl: new URL('rtc-call.js', url).href,
    signalUrl: new URL('signal', url).href.replace(/^http/, 'ws'),
    origin: url.origin,
    port: Number(url.port),
    child,
    /** Everything the server printed so far (stdout lines, stderr chunks). */
    output: () => output.join('\n'),
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// The page: on another origin, loading the bundle from the server, with no signaling-url.
// ---------------------------------------------------------------------------------------------

const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/** The drop-in page of CONTRACT §1: one script tag, one element, no signaling-url. */
export function callPageHtml({ bundleUrl, room, name }) {
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>rtc-call e2e</title></head>
  <body>
    <script type="module" src="${escapeHtml(bundleUrl)}"></script>
    <rtc-call room="${escapeHtml(room)}" name="${escapeHtml(name)}"></rtc-call>
  </body>
</html>
`;
}

/**
 * A plain node:http server on 127.0.0.1 (its own port, so its own origin) serving
 * `/call.html?room=…&name=…`. It answers no WebSocket upgrade; `upgrades` counts attempts, so a
 * test can show the element did not try to signal to the page's own origin.
 */
export async function startPageServer({ bundleUrl }) {
  const state = { upgrades: 0, requests: [] };
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://page.invalid');
    state.requests.push(url.pathname);
    if (url.pathname !== '/call.html') {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    const html = callPageHtml({
      bundleUrl,
      room: url.searchParams.get('room') ?? '',
      name: url.searchParams.get('name') ?? '',
    });
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(html);
  });
  server.on('upgrade', (_request, socket) => {
    state.upgrades += 1;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = server.address().port;
  let closing;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    get upgrades() {
      return state.upgrades;
    },
    /** The page's URL for `room` and `name`, on `host` (default 127.0.0.1). */
    pageUrl({ room, name, host = '127.0.0.1' }) {
      const url = new URL(`http://${host}:${port}/call.html`);
      url.searchParams.set('room', room);
      url.searchParams.set('name', name);
      return url.href;
    },
    close() {
      closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Browsers. Each launch is its own browser process; `close()` is safe to call twice.
// ---------------------------------------------------------------------------------------------

/** A headless system Chromium (playwright-core) with fake camera and microphone. */
export async function launchChromium({ label = 'chromium', extraArgs = [] } = {}) {
  const executablePath = findChromium();
  if (!executablePath) throw new Error('no Chromium found (set CHROME_PATH)');
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: 30_000,
  });
  return new BrowserHandle(label, 'playwright', browser);
}

/** Preferences that give headless Firefox a fake camera and microphone without a prompt. */
export const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
};

/** A headless system Firefox, driven by puppeteer-core over WebDriver BiDi. */
export async function launchFirefox({ label = 'firefox', prefs = {} } = {}) {
  const executablePath = findFirefox();
  if (!executablePath) throw new Error('no Firefox found (set FIREFOX_PATH)');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath,
    headless: true,
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...prefs },
    timeout: 30_000,
  });
  return new BrowserHandle(label, 'puppeteer', browser);
}

class BrowserHandle {
  #closing;

  constructor(label, driver, browser) {
    this.label = label;
    this.driver = driver;
    this.browser = browser;
  }

  /** Opens `url` in a new page, waits for `<rtc-call>` to be defined, installs the recorder. */
  async open(url) {
    const page = await this.browser.newPage();
    const call = new CallPage(this.label, this.driver, page);
    await call.goto(url);
    return call;
  }

  close() {
    this.#closing ??= this.browser.close().catch(() => {});
    return this.#closing;
  }
}

/**
 * Launches browsers side by side and closes them all when test `t` ends; if one launch fails,
 * the ones that did start are closed before the error is thrown.
 */
export async function launchBrowsers(t, launches) {
  const results = await Promise.allSettled(launches.map((launch) => launch()));
  const started = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  t.after(() => closeAll(...started));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await closeAll(...started);
    throw failed.reason;
  }
  return started;
}

/** Closes every handle (browsers, servers) that exists, ignoring the ones that never started. */
export async function closeAll(...handles) {
  const results = await Promise.allSettled(
    handles.filter(Boolean).map((handle) => handle.close?.() ?? handle.stop?.()),
  );
  return results;
}

// ---------------------------------------------------------------------------------------------
// In-page probes. These functions are serialised into the page, so each is self-contained.
// ---------------------------------------------------------------------------------------------

/** Records every rtc-call-* event (primitive detail fields only) in `window.__rtc.events`. */
function installRecorder() {
  if (window.__rtc) return;
  const record = { events: [], call: null, calledAt: null, frames: null };
  window.__rtc = record;
  const types = [
    'rtc-call-state-change',
    'rtc-call-error',
    'rtc-call-peer-joined',
    'rtc-call-peer-left',
    'rtc-call-local-stream',
    'rtc-call-remote-stream',
  ];
  for (const type of types) {
    document.addEventListener(type, (event) => {
      const detail = {};
      for (const [key, value] of Object.entries(event.detail ?? {})) {
        if (value === null || typeof value !== 'object') detail[key] = value;
      }
      record.events.push({ type, detail, at: performance.now() });
    });
  }
}

/** What a failed wait reports: where the element got stuck. */
function snapshot() {
  const el = document.querySelector('rtc-call');
  const video = el?.shadowRoot?.querySelector('[part~="remote-video"]');
  return {
    url: location.href,
    defined: Boolean(customElements.get('rtc-call')),
    state: el?.state,
    status: el?.shadowRoot?.querySelector('[part~="status"]')?.textContent?.trim(),
    call: window.__rtc?.call,
    frames: window.__rtc?.frames,
    remoteVideo: video
      ? { hasSrc: Boolean(video.srcObject), readyState: video.readyState, paused: video.paused }
      : null,
    events: (window.__rtc?.events ?? []).map((e) => `${e.type} ${JSON.stringify(e.detail)}`),
  };
}

/**
 * Counts frames the remote video presents, from now on, into `window.__rtc.frames`:
 * `requestVideoFrameCallback` where the browser has it, else polling
 * `getVideoPlaybackQuality().totalVideoFrames` (or `mozPresentedFrames`). Also records when the
 * first frame came (`performance.now()`), for the setup-time measurement. It may be armed before
 * the video has a source: the callback waits for the first frame presented.
 */
function armFrameCounter() {
  const el = document.querySelector('rtc-call');
  const video = el.shadowRoot.querySelector('[part~="remote-video"]');
  const frames = { method: '', count: 0, firstAt: null };
  window.__rtc.frames = frames;
  const seen = () => {
    frames.count += 1;
    frames.firstAt ??= performance.now();
  };
  if (typeof video.requestVideoFrameCallback === 'function') {
    frames.method = 'requestVideoFrameCallback';
    const onFrame = () => {
      if (window.__rtc.frames !== frames) return; // re-armed: this chain is over
      seen();
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    return frames.method;
  }
  const read = () => {
    if (typeof video.getVideoPlaybackQuality === 'function') return video.getVideoPlaybackQuality().totalVideoFrames;
    return video.mozPresentedFrames ?? 0;
  };
  frames.method =
    typeof video.getVideoPlaybackQuality === 'function'
      ? 'getVideoPlaybackQuality().totalVideoFrames'
      : 'mozPresentedFrames';
  let last = video.srcObject ? read() : 0;
  let source = video.srcObject;
  const timer = setInterval(() => {
    if (window.__rtc.frames !== frames) return clearInterval(timer);
    if (video.srcObject !== source) {
      source = video.srcObject;
      last = 0;
    }
    const now = read();
    for (; last < now; last += 1) seen();
  }, 20);
  return frames.method;
}

/** The element's peer connections as the page sees them (for diagnosing a call that hangs). */
function connectionDiagnosis() {
  const el = document.querySelector('rtc-call');
  const candidates = (description) => (description?.sdp.match(/^a=candidate:/gm) ?? []).length;
  return {
    state: el.state,
    connections: el.connections.map((pc) => ({
      signaling: pc.signalingState,
      gathering: pc.iceGatheringState,
      ice: pc.iceConnectionState,
      connection: pc.connectionState,
      localCandidates: candidates(pc.localDescription),
      remoteCandidates: candidates(pc.remoteDescription),
    })),
  };
}

/**
 * Waits until every page is `connected` and its remote video presented `frames` frames (each
 * page's counter must be armed). On failure the error carries each page's connection state.
 */
export async function expectMediaFlowing(pages, { frames = 10, timeout = WAIT } = {}) {
  try {
    await Promise.all(pages.map((page) => page.waitForState('connected', timeout)));
    return await Promise.all(pages.map((page) => page.waitForFrames(frames, timeout)));
  } catch (error) {
    const diagnoses = await Promise.all(pages.map((page) => page.evaluate(connectionDiagnosis).catch(() => null)));
    error.message += `\nconnections:\n${diagnoses.map((d, i) => `${pages[i].label}: ${JSON.stringify(d)}`).join('\n')}`;
    throw error;
  }
}

/**
 * A driver-neutral page: playwright-core and puppeteer-core differ in argument order of
 * `waitForFunction`, so everything goes through `evaluate(fn, arg)` and `waitFor(fn, arg, …)`.
 */
export class CallPage {
  constructor(label, driver, page) {
    this.label = label;
    this.driver = driver;
    this.page = page;
  }

  async goto(url) {
    await this.page.goto(url, { timeout: WAIT });
    await this.evaluate(() => customElements.whenDefined('rtc-call'));
    await this.evaluate(installRecorder);
  }

  evaluate(fn, arg) {
    return this.page.evaluate(fn, arg);
  }

  /** Waits until `fn(arg)` is truthy in the page; a timeout names `what` and where the page is. */
  async waitFor(fn, arg, { what, timeout = WAIT } = {}) {
    try {
      if (this.driver === 'playwright') await this.page.waitForFunction(fn, arg, { timeout, polling: 50 });
      else await this.page.waitForFunction(fn, { timeout, polling: 50 }, arg);
    } catch (error) {
      let where;
      try {
        where = JSON.stringify(await this.snapshot(), null, 2);
      } catch (cause) {
        where = `(no snapshot: ${cause.message})`;
      }
      throw new Error(
        `${this.label}: ${what ?? 'condition'} not met within ${timeout} ms (${error.message})\n${where}`,
        { cause: error },
      );
    }
  }

  snapshot() {
    return this.evaluate(snapshot);
  }

  connections() {
    return this.evaluate(connectionDiagnosis);
  }

  state() {
    return this.evaluate(() => document.querySelector('rtc-call').state);
  }

  statusText() {
    return this.evaluate(
      () => document.querySelector('rtc-call').shadowRoot.querySelector('[part~="status"]')?.textContent?.trim() ?? '',
    );
  }

  /**
   * Calls `el.call()` without waiting for it; its outcome lands in `window.__rtc.call`
   * (`{ ok: true }` or `{ ok: false, code, message }`). `performance.now()` just before the
   * call is kept in `window.__rtc.calledAt`.
   */
  call() {
    return this.evaluate(() => {
      const el = document.querySelector('rtc-call');
      const record = window.__rtc;
      record.call = null;
      record.calledAt = performance.now();
      el.call().then(
        () => (record.call = { ok: true }),
        (error) => (record.call = { ok: false, code: error?.code, message: error?.message }),
      );
    });
  }

  hangup() {
    return this.evaluate(() => document.querySelector('rtc-call').hangup());
  }

  waitForState(state, timeout = WAIT) {
    return this.waitFor((wanted) => document.querySelector('rtc-call').state === wanted, state, {
      what: `state "${state}"`,
      timeout,
    });
  }

  /** Recorded events of `type` (detail fields that are primitives, and `at`). */
  events(type) {
    return this.evaluate((wanted) => window.__rtc.events.filter((e) => e.type === wanted), type);
  }

  /** Waits for the first recorded event of `type` and returns it. */
  async nextEvent(type, timeout = WAIT) {
    await this.waitFor((wanted) => window.__rtc.events.some((e) => e.type === wanted), type, {
      what: `event ${type}`,
      timeout,
    });
    return (await this.events(type))[0];
  }

  clearEvents() {
    return this.evaluate(() => {
      window.__rtc.events.length = 0;
    });
  }

  /** Starts counting the remote video's frames; returns the method used. */
  armFrames() {
    return this.evaluate(armFrameCounter);
  }

  async waitForFrames(wanted, timeout = WAIT) {
    await this.waitFor((n) => (window.__rtc.frames?.count ?? 0) >= n, wanted, {
      what: `${wanted} remote video frames`,
      timeout,
    });
    return this.evaluate(() => ({ ...window.__rtc.frames, calledAt: window.__rtc.calledAt }));
  }

  close() {
    return this.page.close().catch(() => {});
  }
}
