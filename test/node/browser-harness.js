/**
 * Shared pieces of the end-to-end tests (e2e.test.js, firefox.test.js, faults.test.js): the real
 * server as a child process, a page server on a second origin, real browsers, and in-page probes;
 * for the fault tests also a TCP proxy that cuts or blackholes connections, a coturn relay, and a
 * Chromium that can be frozen (SIGSTOP).
 *
 * Needs the build (`npm run build`: bin/ imports lib/, the page loads dist/rtc-call.js).
 * Nothing here downloads a browser: Chromium and Firefox are the system's (scripts/browsers.mjs).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, createPublicKey, randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { connect as connectNet, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { CHROMIUM_ARGS, findChromium, findFirefox } from '../../scripts/browsers.mjs';
import { stunAnswered } from './stun-client.js';

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

/** A self-signed certificate for 127.0.0.1 and localhost, valid one day, made with openssl in `dir`. */
export function makeCertificate(dir) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1']
      .concat(['-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'])
      .concat(['-keyout', key, '-out', cert]),
    { stdio: 'ignore' },
  );
  const pem = readFileSync(cert);
  const spki = createPublicKey(pem).export({ type: 'spki', format: 'der' });
  return { cert, key, pem, spkiHash: createHash('sha256').update(spki).digest('base64') };
}

/**
 * An nginx main configuration for a test: in the foreground, one process, its pid and temporary
 * files in `dir`, errors to stderr, no access log; `http` is the inside of its `http` block (a
 * site's `server` blocks, or an `include` of a site file).
 */
export function nginxConfig(dir, http) {
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir};
  proxy_temp_path ${dir};
  fastcgi_temp_path ${dir};
  uwsgi_temp_path ${dir};
  scgi_temp_path ${dir};
${http}
}
`;
}

/** The start line: `{"level":"info",…,"url":"http://127.0.0.1:PORT/",…,"msg":"rtc-call server listening"}` */
const START_LINE = /^\{.*"url":"(https?:\/\/[^"]+\/)".*"msg":"rtc-call server listening"/;

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
  'STUN_PORT',
  'STUN_URLS',
  'TRUST_PROXY',
  'JOIN_BURST',
  'JOINS_PER_SECOND',
  'MESSAGE_BURST',
  'MESSAGES_PER_SECOND',
  'CONNECTIONS_PER_ADDRESS',
  'MAX_CONNECTIONS',
  'JOIN_TIMEOUT_MS',
  'CONFIRM_TIMEOUT_MS',
  'REPLAY_TOTAL_BYTES',
  'TURN_TTL',
  'TURN_MAX_SECONDS',
  'KNOCK_TIMEOUT_MS',
  'LOG_LEVEL',
  'NO_DEMO',
];

/**
 * Starts the server's bin as a child process and resolves once it printed where it listens.
 * `stop()` sends SIGTERM and resolves with `{ code, signal }` (SIGKILL after 5 s, and then it
 * rejects); it may be called any number of times, so a test can assert on it and `t.after`
 * can still call it safely.
 */
export async function startRtcServer({ args = [], env = {}, namespace, nodeArgs = [] } = {}) {
  const bin = `${ROOT}bin/rtc-call-server.js`;
  if (!existsSync(`${ROOT}lib/server/cli.js`) || !existsSync(`${ROOT}dist/rtc-call.js`)) {
    throw new Error('lib/ or dist/ is missing: run `npm run build` first');
  }
  // In a network namespace through `ip netns exec`, which execs it: the child is still the server.
  const command = [process.execPath, ...nodeArgs, bin, '--port', '0', ...args];
  if (namespace) command.unshift('ip', 'netns', 'exec', namespace);
  const child = spawn(command[0], command.slice(1), {
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
// Faults between the browsers and the server: a TCP proxy that can cut or blackhole them.
// ---------------------------------------------------------------------------------------------

/** Listens on a free loopback port; resolves with the port. */
async function listenOnLoopback(server) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server.address().port;
}

/**
 * A node:net proxy on 127.0.0.1 (port 0) forwarding every connection to `targetPort`; point an
 * element's `signaling-url` at `signalUrl`.
 *
 * - `drop()`: destroys every open connection on both sides (both ends see the TCP connection
 *   go); later connections are forwarded as usual.
 * - `blackhole()`: forwards nothing either way, on open connections and new ones alike, while
 *   every socket stays open: like a network that silently drops packets. What either side sends
 *   meanwhile is held, as TCP would retransmit it, and so is a close from either side.
 * - `restore()`: ends a blackhole: what was held goes through, then the closes.
 *
 * `connections` lists every connection ever accepted with what the server sent on it, as text
 * (`fromServer`): server-to-client WebSocket frames are not masked, so a test can read which
 * JSON messages the server answered with.
 */
export async function startTcpProxy({ targetPort, targetHost = '127.0.0.1' }) {
  const open = new Set();
  const connections = [];
  let blackholed = false;
  const pass = (to, item) => {
    if (item.chunk) {
      if (to.writable) to.write(item.chunk);
    } else if (item.reset) to.destroy();
    else to.end();
  };

  const server = createNetServer((client) => {
    const upstream = connectNet(targetPort, targetHost);
    const record = { id: connections.length + 1, openedAt: Date.now(), fromServer: '', closedAt: null };
    connections.push(record);
    // What a blackhole held back, in order: chunks, and ends or resets of the other side.
    const connection = { held: [] };
    connection.cut = () => {
      client.destroy();
      upstream.destroy();
    };
    open.add(connection);
    let closed = 0;
    const forward = (from, to, direction) => {
      const send = (item) => (blackholed ? connection.held.push({ to, item }) : pass(to, item));
      from.on('data', (chunk) => {
        if (direction === 'down' && record.fromServer.length < 1_000_000) record.fromServer += chunk.toString('latin1');
        send({ chunk });
      });
      from.on('end', () => send({ end: true }));
      from.on('close', (hadError) => {
        send(hadError ? { reset: true } : { end: true });
        if (++closed === 2) {
          open.delete(connection);
          record.closedAt = Date.now();
        }
      });
      from.on('error', () => {});
    };
    forward(client, upstream, 'up');
    forward(upstream, client, 'down');
  });
  const port = await listenOnLoopback(server);
  let closing;
  return {
    port,
    signalUrl: `ws://127.0.0.1:${port}/signal`,
    connections,
    /** Connections open now. */
    get openCount() {
      return open.size;
    },
    get blackholed() {
      return blackholed;
    },
    drop() {
      for (const connection of open) connection.cut();
    },
    blackhole() {
      blackholed = true;
    },
    restore() {
      blackholed = false;
      for (const connection of open) {
        for (const { to, item } of connection.held.splice(0)) pass(to, item);
      }
    },
    close() {
      closing ??= new Promise((resolve) => {
        blackholed = false;
        for (const connection of open) connection.cut();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A real TURN relay: coturn's `turnserver` on 127.0.0.1, long-term credentials, UDP.
// ---------------------------------------------------------------------------------------------

export const TURN_BINARY = '/usr/bin/turnserver';

/** A UDP port free right now on 127.0.0.1. */
async function freeUdpPort() {
  const socket = createSocket('udp4');
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', resolve);
  });
  const { port } = socket.address();
  await new Promise((resolve) => socket.close(resolve));
  return port;
}

/** Whether a TCP listener can take `port` on 127.0.0.1 right now. */
function tcpFree(port) {
  return new Promise((resolve) => {
    const server = createNetServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port free right now on 127.0.0.1 for UDP and TCP both: coturn listens on each. */
async function freeRelayPort() {
  for (;;) {
    const port = await freeUdpPort();
    if (await tcpFree(port)) return port;
  }
}

/**
 * Starts coturn on 127.0.0.1 with a free port, the static user `u:p` in realm `rtc-call.test`
 * (or, with `authSecret`, coturn's `use-auth-secret` credentials: what TURN_SECRET issues),
 * UDP and TCP only (no TLS/DTLS, no CLI), loopback peers allowed; resolves once it answers a STUN
 * request. With `namespace`, it runs in that network namespace on `ip` (port 3478 unless told).
 * Fails, saying how to install it, when coturn is missing. `stop()` kills it (SIGCONT first, in
 * case a test left it stopped) and resolves when it exited; it may be called again.
 */
export async function startCoturn(options = {}) {
  const { binary = TURN_BINARY, namespace, port: fixedPort } = options;
  if (!existsSync(binary)) {
    throw new Error(`coturn is not installed (${binary} is missing): apt-get install -y coturn`);
  }
  if (fixedPort !== undefined || namespace) return launchCoturn(options, fixedPort ?? 3478);
  // A free port can be taken between the check and coturn's bind (every test server here listens
  // on port 0): then again, on another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchCoturn(options, await freeRelayPort());
    } catch (error) {
      if (attempt === 3 || !/Address already in use/.test(error.message)) throw error;
    }
  }
}

async function launchCoturn(
  {
    user = 'u',
    password = 'p',
    realm = 'rtc-call.test',
    authSecret,
    verbose = false,
    binary = TURN_BINARY,
    namespace,
    ip = '127.0.0.1',
    deniedPeers = [],
  },
  port,
) {
  const dir = mkdtempSync(`${tmpdir()}/rtc-call-coturn-`);
  const command = namespace ? ['ip', 'netns', 'exec', namespace, binary] : [binary];
  const child = spawn(
    command[0],
    [
      ...command.slice(1),
      '-n', // no configuration file: everything is on this line
      `--listening-ip=${ip}`,
      `--relay-ip=${ip}`,
      `--listening-port=${port}`,
      '--allow-loopback-peers',
      ...deniedPeers.map((range) => `--denied-peer-ip=${range}`),
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      // Either coturn's REST-API credentials (use-auth-secret: the username is `expiry:id`, the
      // password an HMAC of it) or one fixed long-term user.
      ...(authSecret
        ? ['--use-auth-secret', `--static-auth-secret=${authSecret}`]
        : ['--lt-cred-mech', `--user=${user}:${password}`]),
      `--realm=${realm}`,
      '--log-file=stdout',
      // Verbose: a line per allocation and refresh, with its user (the credential tests read them).
      ...(verbose ? ['--verbose'] : []),
      '--simple-log',
      `--pidfile=${dir}/turnserver.pid`,
      `--userdb=${dir}/turndb`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = [];
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.once('error', (error) => output.push(`[spawn error] ${error.message}`));
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => output.push(chunk.trimEnd()));
  }
  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      }
      const exit = await exited;
      rmSync(dir, { recursive: true, force: true });
      return exit;
    })();
    return stopping;
  };
  const ready = await Promise.race([
    namespace ? stunAnsweredIn(namespace, ip, port, 10_000) : stunAnswered(ip, port, 10_000),
    exited.then(() => false),
  ]);
  if (!ready) {
    await stop();
    throw new Error(`coturn did not answer STUN on ${ip}:${port}:\n${output.join('\n')}`);
  }
  return {
    port,
    pid: child.pid,
    child,
    /** The relay's URL (UDP), e.g. for TURN_URLS. */
    url: `turn:${ip}:${port}?transport=udp`,
    /** The relay's URL over TCP. */
    tcpUrl: `turn:${ip}:${port}?transport=tcp`,
    /** The `ice-servers` entry for this relay (UDP) with the static user (not with `authSecret`). */
    iceServer: { urls: `turn:${ip}:${port}?transport=udp`, username: user, credential: password },
    /** Allocations coturn logged so far (with `verbose`), as their usernames. */
    allocations: () =>
      [...output.join('\n').matchAll(/user <([^>]*)>: incoming packet ALLOCATE processed, success/g)].map((m) => m[1]),
    output: () => output.join('\n'),
    /** SIGSTOP / SIGCONT: the relay freezes (allocations kept) and comes back. */
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    stop,
  };
}

/** `stunAnswered` run inside network namespace `ns` (stun-client.js as a command there). */
function stunAnsweredIn(ns, host, port, timeout) {
  const client = fileURLToPath(new URL('stun-client.js', import.meta.url));
  const probe = spawn('ip', ['netns', 'exec', ns, process.execPath, client, host, String(port), String(timeout)], {
    stdio: 'ignore',
  });
  return new Promise((resolve) => probe.once('exit', (code) => resolve(code === 0)));
}

// ---------------------------------------------------------------------------------------------
// The page: on another origin, loading the bundle from the server, with no signaling-url.
// ---------------------------------------------------------------------------------------------

const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/**
 * Attributes a page URL may add to the element (CONTRACT §2), each a query parameter of the same
 * name: `signaling-url` (e.g. a proxy in front of the server), `ice-servers`, `ice-transport-policy`,
 * `token`, `chat`, `constraints`, `lobby` and `loopback` (booleans: any value), `max-file-size`.
 */
export const PAGE_ATTRIBUTES = [
  'loopback',
  'signaling-url',
  'ice-servers',
  'ice-transport-policy',
  'token',
  'chat',
  'constraints',
  'lobby',
  'max-file-size',
];

/**
 * The drop-in page of CONTRACT §1: one script tag, one element, no signaling-url unless
 * `attributes` sets one (only those in PAGE_ATTRIBUTES).
 */
export function callPageHtml({ bundleUrl, room, name, attributes = {} }) {
  const extra = PAGE_ATTRIBUTES.filter((attribute) => typeof attributes[attribute] === 'string')
    .map((attribute) => ` ${attribute}="${escapeHtml(attributes[attribute])}"`)
    .join('');
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>rtc-call e2e</title></head>
  <body>
    <script type="module" src="${escapeHtml(bundleUrl)}"></script>
    <rtc-call room="${escapeHtml(room)}" name="${escapeHtml(name)}"${extra}></rtc-call>
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
    const attributes = Object.fromEntries(
      PAGE_ATTRIBUTES.filter((attribute) => url.searchParams.has(attribute)).map((attribute) => [
        attribute,
        url.searchParams.get(attribute),
      ]),
    );
    const html = callPageHtml({
      bundleUrl,
      room: url.searchParams.get('room') ?? '',
      name: url.searchParams.get('name') ?? '',
      attributes,
    });
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(html);
  });
  server.on('upgrade', (_request, socket) => {
    state.upgrades += 1;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  const port = await listenOnLoopback(server);
  let closing;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    get upgrades() {
      return state.upgrades;
    },
    /**
     * The page's URL for `room` and `name`, on `host` (default 127.0.0.1); `attributes` (keys
     * from PAGE_ATTRIBUTES) go on the element, e.g. `{ 'signaling-url': proxy.signalUrl }`.
     */
    pageUrl({ room, name, host = '127.0.0.1', attributes = {} }) {
      const url = new URL(`http://${host}:${port}/call.html`);
      url.searchParams.set('room', room);
      url.searchParams.set('name', name);
      for (const [attribute, value] of Object.entries(attributes)) {
        if (!PAGE_ATTRIBUTES.includes(attribute)) throw new Error(`the page does not set ${attribute}`);
        url.searchParams.set(attribute, value);
      }
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

/**
 * A web site on 127.0.0.1 (its own port, so its own origin) that serves `routes`, a map from a
 * path to `{ body, type, headers }` (a query string is ignored when matching), as a developer's
 * site embedding the element would: its own copy of the bundle, pages with their own
 * Content-Security-Policy. It records every request (`path?query`) but the favicon's, and the CSP violation
 * reports browsers POST to `/csp-report`.
 */
export async function startSite(routes) {
  const requests = [];
  const reports = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://site.invalid');
    // The browser's own request, answered so that it is no failed load in the page's console.
    if (url.pathname === '/favicon.ico') return void response.writeHead(204).end();
    requests.push(url.pathname + url.search);
    if (request.method === 'POST' && url.pathname === '/csp-report') {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        reports.push(body);
        response.writeHead(204).end();
      });
      return;
    }
    const route = routes.get(url.pathname);
    if (!route) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    response
      .writeHead(200, { 'Content-Type': route.type, 'Cache-Control': 'no-store', ...route.headers })
      .end(route.body);
  });
  const port = await listenOnLoopback(server);
  let closing;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    reports,
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
export async function launchChromium({ label = 'chromium', extraArgs = [], executablePath = findChromium() } = {}) {
  if (!executablePath) throw new Error('no Chromium found (set CHROME_PATH)');
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: 30_000,
  });
  return new BrowserHandle(label, 'playwright', browser);
}

/**
 * Like launchChromium, but through `chromium.launchServer()`, which gives the browser's pid:
 * `freeze()` sends SIGSTOP to its whole process group (browser, renderers, network and GPU
 * processes: Playwright starts it as a group leader), `thaw()` SIGCONT. `close()` thaws first.
 */
export async function launchFreezableChromium({ label = 'chromium', extraArgs = [] } = {}) {
  const executablePath = findChromium();
  if (!executablePath) throw new Error('no Chromium found (set CHROME_PATH)');
  const server = await chromium.launchServer({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: 30_000,
  });
  let browser;
  try {
    browser = await chromium.connect(server.wsEndpoint(), { timeout: 30_000 });
  } catch (error) {
    await server.close().catch(() => {});
    throw error;
  }
  return new FreezableBrowserHandle(label, browser, server);
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

  /**
   * Opens `url` in a new page, waits for `<rtc-call>` to be defined, installs the recorder. With
   * `html` (playwright only), the page is that text, as if `url` had served it: the page's origin
   * is `url`'s, and no page server is needed where the browser runs. `init` (playwright only) is
   * a function that runs in the page before any of its scripts.
   */
  async open(url, { html, init } = {}) {
    const page = await this.browser.newPage();
    if (init) await page.addInitScript(init);
    if (html !== undefined) {
      await page.route(url, (route) =>
        route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }),
      );
    }
    const call = new CallPage(this.label, this.driver, page);
    await call.goto(url);
    return call;
  }

  close() {
    this.#closing ??= this.browser.close().catch(() => {});
    return this.#closing;
  }
}

class FreezableBrowserHandle extends BrowserHandle {
  #server;
  #closing;

  constructor(label, browser, server) {
    super(label, 'playwright', browser);
    this.#server = server;
    this.pid = server.process().pid;
  }

  #signal(signal) {
    try {
      process.kill(-this.pid, signal);
    } catch (error) {
      if (error.code !== 'ESRCH') throw error;
    }
  }

  freeze() {
    this.#signal('SIGSTOP');
  }

  thaw() {
    this.#signal('SIGCONT');
  }

  close() {
    this.#closing ??= (async () => {
      this.thaw();
      await super.close();
      await this.#server.close().catch(() => {});
    })();
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

/** axe-core, as the browser tests use it (through @open-wc/testing). */
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/**
 * axe-core on a playwright page (shadow roots included), in the light and the dark scheme: the
 * violations as readable lines, none when it is clean. With `element` (a selector), only that
 * element, without the rules about a whole page (landmarks, a heading), as the browser tests do.
 */
export async function axeViolations(page, { element } = {}) {
  // Evaluated through the driver, not added as a <script>: a page's CSP (the demo's) allows no
  // inline script, and the test tool is not the page's to vouch for.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(readFileSync(AXE, 'utf8'));
  const found = [];
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    const violations = await page.evaluate(async (element) => {
      const pageRules = ['region', 'landmark-one-main', 'page-has-heading-one'];
      const { violations } = await window.axe.run(element ? document.querySelector(element) : document, {
        resultTypes: ['violations'],
        ...(element ? { rules: Object.fromEntries(pageRules.map((rule) => [rule, { enabled: false }])) } : {}),
      });
      return violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    }, element);
    found.push(...violations.map((line) => `${colorScheme}: ${line}`));
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return found;
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
    'rtc-call-knock',
    'rtc-call-local-stream',
    'rtc-call-remote-stream',
    'rtc-call-peer-media',
    'rtc-call-message',
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
  // `longestGap`: the longest time between two frames (a freeze), in ms, ending at `gapEndedAt`.
  const frames = { method: '', count: 0, firstAt: null, lastAt: null, longestGap: 0, gapEndedAt: null };
  window.__rtc.frames = frames;
  const seen = () => {
    const now = performance.now();
    frames.count += 1;
    frames.firstAt ??= now;
    if (frames.lastAt !== null && now - frames.lastAt > frames.longestGap) {
      frames.longestGap = now - frames.lastAt;
      frames.gapEndedAt = now;
    }
    frames.lastAt = now;
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
 * Records every text the status line shows, with `Date.now()` (comparable across processes), in
 * `window.__rtc.status`: a MutationObserver sees each render, however briefly it lasted.
 */
function recordStatusLine() {
  if (window.__rtc.status) return;
  const root = document.querySelector('rtc-call').shadowRoot;
  const read = () => root.querySelector('[part~="status"]')?.textContent?.trim() ?? '';
  const history = [{ text: read(), at: Date.now() }];
  window.__rtc.status = history;
  new MutationObserver(() => {
    const text = read();
    if (text !== history.at(-1).text) history.push({ text, at: Date.now() });
  }).observe(root, { subtree: true, childList: true, characterData: true });
}

/**
 * The candidate pair the element's first connection uses, from `getStats()`: candidate types
 * (`host`, `srflx`, `relay`), protocol, and the local ICE ufrag now in use.
 */
async function selectedCandidatePair() {
  const pc = document.querySelector('rtc-call').connections[0];
  if (!pc) return null;
  const stats = new Map();
  (await pc.getStats()).forEach((report) => stats.set(report.id, report));
  const transport = [...stats.values()].find((report) => report.type === 'transport');
  const pair =
    stats.get(transport?.selectedCandidatePairId) ??
    [...stats.values()].find(
      (report) => report.type === 'candidate-pair' && report.nominated && report.state === 'succeeded',
    );
  const local = stats.get(pair?.localCandidateId);
  const remote = stats.get(pair?.remoteCandidateId);
  return {
    local: local?.candidateType ?? null,
    remote: remote?.candidateType ?? null,
    protocol: local?.protocol ?? null,
    localAddress: local ? `${local.address}:${local.port}` : null,
    ufrag: pc.localDescription?.sdp.match(/^a=ice-ufrag:(\S+)/m)?.[1] ?? null,
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

  /** Frames counted since `armFrames()`. */
  frameCount() {
    return this.evaluate(() => window.__rtc.frames?.count ?? 0);
  }

  /** Starts keeping every text of the status line (see statusHistory()). */
  trackStatus() {
    return this.evaluate(recordStatusLine);
  }

  /** `[{ text, at }]`: each status text shown since trackStatus(), `at` in `Date.now()` ms. */
  statusHistory() {
    return this.evaluate(() => window.__rtc.status ?? []);
  }

  /** Recorded events of `type` with `epoch`: when, in `Date.now()` ms (comparable across processes). */
  async eventsWithEpoch(type) {
    return this.evaluate(
      (wanted) =>
        window.__rtc.events
          .filter((e) => e.type === wanted)
          .map((e) => ({ ...e, epoch: performance.timeOrigin + e.at })),
      type,
    );
  }

  /** The candidate pair in use on the first connection (candidate types, ufrag), from getStats(). */
  selectedCandidatePair() {
    return this.evaluate(selectedCandidatePair);
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

/**
 * The rtc-call server (child process; `serverOptions` as for startRtcServer) and a page server on
 * another origin, stopped when the test ends.
 */
export async function startServers(t, serverOptions = {}) {
  const server = await startRtcServer(serverOptions);
  t.after(() => server.stop().catch(() => {}));
  const pages = await startPageServer({ bundleUrl: server.bundleUrl });
  t.after(() => pages.close());
  return { server, pages };
}
