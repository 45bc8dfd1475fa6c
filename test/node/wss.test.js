/**
 * TLS: with TLS_CERT and TLS_KEY the one port serves https and wss, and an element loaded from it
 * signals over wss by itself. The certificate is self-signed, made here with openssl; the
 * browsers trust exactly that key (`--ignore-certificate-errors-spki-list`), nothing else.
 *
 * Needs `npm run build` first, openssl, and Chromium.
 * Run: node --test --test-concurrency=1 test/node/wss.test.js
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import {
  ROOT,
  expectMediaFlowing,
  launchBrowsers,
  launchChromium,
  makeCertificate,
  startServers,
  uniqueRoom,
  withTimeout,
} from './browser-harness.js';

/** A self-signed certificate for 127.0.0.1 and localhost, valid one day, removed when the test ends. */
function certificate(t) {
  const dir = mkdtempSync(join(tmpdir(), 'rtc-call-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return makeCertificate(dir);
}

/** GET over https, trusting `ca`: status and headers. */
function getTls(url, ca) {
  return withTimeout(
    new Promise((resolve, reject) => {
      httpsGet(url, { ca }, (res) => {
        res.resume();
        resolve({ status: res.statusCode, headers: res.headers });
      }).on('error', reject);
    }),
    10_000,
    `GET ${url}`,
  );
}

test('TLS_CERT without TLS_KEY is a config error (exit 2)', async () => {
  const child = spawn(process.execPath, [`${ROOT}bin/rtc-call-server.js`, '--port', '0'], {
    env: { PATH: process.env.PATH, TLS_CERT: '/nonexistent/cert.pem' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = await withTimeout(once(child, 'exit'), 10_000, 'exit');
  assert.equal(code, 2);
  assert.match(stderr, /TLS_CERT and TLS_KEY go together/);
});

test('a certificate file that cannot be read is a config error (exit 2) naming it', async () => {
  const child = spawn(process.execPath, [`${ROOT}bin/rtc-call-server.js`, '--port', '0'], {
    env: { PATH: process.env.PATH, TLS_CERT: '/nonexistent/cert.pem', TLS_KEY: '/nonexistent/key.pem' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = await withTimeout(once(child, 'exit'), 10_000, 'exit');
  assert.equal(code, 2);
  assert.match(stderr, /TLS_CERT: cannot read \/nonexistent\/cert\.pem \(ENOENT\)/);
});

test('https and wss on one port; plain http gets no answer there', async (t) => {
  const tls = certificate(t);
  const { server } = await startServers(t, { env: { TLS_CERT: tls.cert, TLS_KEY: tls.key } });
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(server.output(), /"signaling":"wss:\/\/127\.0\.0\.1:\d+\/signal"/);

  assert.equal((await getTls(`${server.url}healthz`, tls.pem)).status, 200);
  const bundle = await getTls(server.bundleUrl, tls.pem);
  assert.equal(bundle.status, 200);
  assert.equal(bundle.headers['access-control-allow-origin'], '*');

  const ws = new WebSocket(`wss://127.0.0.1:${server.port}/signal`, { ca: tls.pem });
  t.after(() => ws.terminate());
  await withTimeout(once(ws, 'open'), 10_000, 'wss open');
  ws.send(JSON.stringify({ type: 'join', room: 'r', name: 'n' }));
  const [data] = await withTimeout(once(ws, 'message'), 10_000, 'joined');
  assert.equal(JSON.parse(data.toString()).type, 'joined');

  // Without TLS the port does not speak HTTP: the request fails or gets no HTTP status.
  const plain = await new Promise((resolve) => {
    const req = httpGet(`http://127.0.0.1:${server.port}/healthz`, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve('error'));
    req.setTimeout(5000, () => req.destroy());
  });
  assert.notEqual(plain, 200);
});

test(
  'a call over wss with a self-signed certificate: the element picks wss by itself',
  { timeout: 60_000 },
  async (t) => {
    const tls = certificate(t);
    const { server, pages } = await startServers(t, { env: { TLS_CERT: tls.cert, TLS_KEY: tls.key } });
    const trust = [`--ignore-certificate-errors-spki-list=${tls.spkiHash}`];
    const room = uniqueRoom('wss');
    const [ada, bob] = await launchBrowsers(t, [
      () => launchChromium({ label: 'A (Ada)', extraArgs: trust }),
      () => launchChromium({ label: 'B (Bob)', extraArgs: trust }),
    ]);
    const a = await ada.open(pages.pageUrl({ room, name: 'Ada' }));
    const b = await bob.open(pages.pageUrl({ room, name: 'Bob' }));
    const sockets = [];
    for (const page of [a, b]) page.page.on('websocket', (socket) => sockets.push(socket.url()));
    // Only room and name on the element: the signaling URL comes from where the script was loaded.
    assert.equal(await a.evaluate(() => document.querySelector('rtc-call').getAttribute('signaling-url')), null);
    await Promise.all([a.armFrames(), b.armFrames()]);
    await a.call();
    await a.waitForState('waiting');
    await b.call();
    await expectMediaFlowing([a, b], { frames: 10 });
    const expected = `wss://127.0.0.1:${server.port}/signal`;
    assert.deepEqual(sockets, [expected, expected]);
  },
);
