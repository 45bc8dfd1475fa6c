/**
 * Behind a real reverse proxy: Debian's nginx terminates TLS (a self-signed certificate made here)
 * and proxies the WebSocket upgrade to the server, which trusts it (`TRUST_PROXY`) to name the
 * client in `X-Forwarded-For`. The location block is the one of docs/server.md's site file (whose
 * whole guide test/node/deploy.test.js runs). Clients come from different loopback addresses
 * (127.0.0.2, 127.0.0.3), so limits per real client can be told from limits on the proxy's own
 * address.
 *
 * Needs `npm run build` first, nginx, openssl and Chromium.
 * Run: node --test --test-concurrency=1 test/node/proxy.test.js
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import {
  expectMediaFlowing,
  launchBrowsers,
  launchChromium,
  makeCertificate,
  nginxConfig,
  startPageServer,
  startRtcServer,
  uniqueRoom,
  withTimeout,
} from './browser-harness.js';
import { freePort } from './redis-server.js';
import { Client } from './signal-client.js';

const NGINX = '/usr/sbin/nginx';
const SKIP =
  spawnSync(NGINX, ['-v'], { stdio: 'ignore' }).status === 0
    ? false
    : 'nginx is not installed (apt-get install -y nginx)';

/**
 * nginx on a free port in front of `upstream` (a port on 127.0.0.1), as docs/server.md has it;
 * stopped and its files removed when the test ends.
 */
async function startNginx(t, upstream) {
  const dir = mkdtempSync(join(tmpdir(), 'rtc-call-nginx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'tmp'));
  const tls = makeCertificate(dir);
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    nginxConfig(
      join(dir, 'tmp'),
      `  # From docs/server.md:
  map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
  }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate     ${tls.cert};
    ssl_certificate_key ${tls.key};
    location / {
      proxy_pass http://127.0.0.1:${upstream};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 1h;
    }
  }`,
    ),
  );
  const child = spawn(NGINX, ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  // Up once it answers.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await new Promise((resolve) => {
      get(`https://127.0.0.1:${port}/healthz`, { ca: tls.pem }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', () => resolve(undefined));
    });
    if (status === 200) break;
    if (child.exitCode !== null || Date.now() > deadline) assert.fail(`nginx did not come up: ${stderr}`);
    await sleep(50);
  }
  return { port, tls, url: `https://127.0.0.1:${port}/`, signalUrl: `wss://127.0.0.1:${port}/signal` };
}

/** The server (bin) on a free port, with `env`; and nginx in front of it. */
async function proxied(t, env = {}) {
  const server = await startRtcServer({ env: { JOIN_BURST: '3', JOINS_PER_SECOND: '0.01', ...env } });
  t.after(() => server.stop().catch(() => {}));
  const nginx = await startNginx(t, server.port);
  return { server, nginx };
}

/** Joins through nginx from `localAddress`, leaving again each time, until refused: how many passed. */
async function joinsUntilRefused(t, nginx, localAddress, headers = {}) {
  // Client.open makes the https URL wss.
  const client = await Client.open(t, nginx.url, { localAddress, ca: nginx.tls.pem, headers });
  let passed = 0;
  for (let i = 0; i < 10; i++) {
    client.send({ type: 'join', room: `proxy-${i}` });
    const reply = await client.next();
    if (reply.type !== 'joined') {
      assert.equal(reply.code, 'rate-limited', JSON.stringify(reply));
      return passed;
    }
    passed++;
    client.send({ type: 'leave' });
  }
  return passed;
}

test(
  'behind nginx with TRUST_PROXY: limits and logs go by the real client, not the proxy; a forged header changes nothing',
  { skip: SKIP, timeout: 60_000 },
  async (t) => {
    const { server, nginx } = await proxied(t, { TRUST_PROXY: '127.0.0.1' });
    // 127.0.0.2 spends its 3 joins; 127.0.0.3 still has its own.
    assert.equal(await joinsUntilRefused(t, nginx, '127.0.0.2'), 3);
    assert.equal(await joinsUntilRefused(t, nginx, '127.0.0.3'), 3);
    // Claiming another address in X-Forwarded-For: nginx appends the real one, and that is the one read.
    assert.equal(await joinsUntilRefused(t, nginx, '127.0.0.2', { 'X-Forwarded-For': '203.0.113.9' }), 0);
    const limited = server
      .output()
      .split('\n')
      .filter((line) => line.includes('"limit":"joinRate"'))
      .map((line) => JSON.parse(line).address)
      .sort();
    assert.deepEqual(limited, ['127.0.0.2', '127.0.0.3']);
    // Straight to the server, not through the proxy, the header is not believed at all.
    const direct = await Client.open(t, server.url, {
      localAddress: '127.0.0.4',
      headers: { 'X-Forwarded-For': '127.0.0.2' },
    });
    direct.send({ type: 'join', room: 'direct' });
    assert.equal((await direct.next()).type, 'joined');
  },
);

test(
  'behind nginx without TRUST_PROXY: every client is the proxy (the reason to set it)',
  { skip: SKIP, timeout: 60_000 },
  async (t) => {
    const { nginx } = await proxied(t);
    assert.equal(await joinsUntilRefused(t, nginx, '127.0.0.2'), 3);
    // Another client, the same address to the server: nginx's.
    assert.equal(await joinsUntilRefused(t, nginx, '127.0.0.3'), 0);
  },
);

test(
  'a call between two browsers through nginx with TLS: page, bundle and wss signaling all through the proxy',
  { skip: SKIP, timeout: 90_000 },
  async (t) => {
    const { nginx } = await proxied(t, { TRUST_PROXY: '127.0.0.1', JOIN_BURST: '20' });
    const pages = await startPageServer({ bundleUrl: `${nginx.url}rtc-call.js` });
    t.after(() => pages.close());
    const trust = [`--ignore-certificate-errors-spki-list=${nginx.tls.spkiHash}`];
    const room = uniqueRoom('nginx');
    const [ada, bob] = await launchBrowsers(t, [
      () => launchChromium({ label: 'A (Ada)', extraArgs: trust }),
      () => launchChromium({ label: 'B (Bob)', extraArgs: trust }),
    ]);
    const a = await ada.open(pages.pageUrl({ room, name: 'Ada' }));
    const b = await bob.open(pages.pageUrl({ room, name: 'Bob' }));
    const sockets = [];
    for (const page of [a, b]) page.page.on('websocket', (socket) => sockets.push(socket.url()));
    await Promise.all([a.armFrames(), b.armFrames()]);
    await a.call();
    await a.waitForState('waiting');
    await b.call();
    await expectMediaFlowing([a, b], { frames: 10 });
    // The element found wss through the proxy by itself, from where its script came.
    assert.deepEqual(sockets, [nginx.signalUrl, nginx.signalUrl]);
    // A plain WebSocket client through the proxy gets the same server.
    const ws = new WebSocket(nginx.signalUrl, { ca: nginx.tls.pem });
    t.after(() => ws.terminate());
    await withTimeout(once(ws, 'open'), 10_000, 'wss through nginx');
  },
);
