/**
 * Who gets in, over real sockets: the origin allowlist at the HTTP upgrade, join tokens on join
 * and resume, the `token` command of the bin, the server's log (no secrets in it), and the
 * element's side: `unauthorized` shown in the page, a hostile display name shown as text.
 *
 * Needs `npm run build` first (lib/, dist/) and Chromium for the browser tests.
 * Run: node --test --test-concurrency=1 test/node/security.test.js
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { ConfigError, readConfig } from '../../lib/server/config.js';
import { createJoinToken, verifyJoinToken } from '../../lib/server/index.js';
import { ROOT, launchBrowsers, launchChromium, startRtcServer, startServers, uniqueRoom } from './browser-harness.js';
import { Client, setup, signalUrl, withTimeout } from './signal-client.js';

const SECRET = 'a-join-secret-nobody-may-log';

/** The status line of a raw WebSocket upgrade to `/signal` with these headers. */
function upgradeStatus(server, headers) {
  const { hostname, port } = new URL(server.url);
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = request({
        host: hostname,
        port,
        path: '/signal',
        agent: false,
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
          ...headers,
        },
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode);
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    }),
    'upgrade',
  );
}

/** A token with one character of its signature changed. */
function forge(token) {
  const at = token.length - 3;
  return token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
}

/** Sends a join and returns the reply (joined or error). */
async function tryJoin(t, server, room, extra = {}) {
  const client = await Client.open(t, server);
  client.send({ type: 'join', room, name: 'Ada', ...extra });
  return { client, reply: await client.next() };
}

describe('origin allowlist', () => {
  test('with ALLOWED_ORIGINS, a foreign or missing Origin gets 403 at the upgrade; an allowed one 101', async (t) => {
    const server = await setup(t, { allowedOrigins: ['https://app.example', 'http://127.0.0.1:5173'] });
    assert.equal(await upgradeStatus(server, { Origin: 'https://evil.example' }), 403);
    assert.equal(await upgradeStatus(server, { Origin: 'https://app.example.evil.example' }), 403);
    assert.equal(await upgradeStatus(server, {}), 403);
    // Refused before the handshake: no socket was ever accepted.
    assert.equal(server.signaling.connectionCount, 0);
    assert.equal(await upgradeStatus(server, { Origin: 'https://app.example' }), 101);
    assert.equal(await upgradeStatus(server, { Origin: 'http://127.0.0.1:5173' }), 101);
    // And with the allowed origin the socket is a working one.
    const client = await Client.open(t, server, { origin: 'https://app.example' });
    assert.equal((await client.join('r', 'Ada')).type, 'joined');
  });

  test('without it every origin may connect', async (t) => {
    const server = await setup(t);
    assert.equal(await upgradeStatus(server, { Origin: 'https://anyone.example' }), 101);
  });

  test('ALLOWED_ORIGINS takes exact origins: a path or a bare host is a config error', () => {
    assert.deepEqual(readConfig([], { ALLOWED_ORIGINS: 'https://a.example, http://localhost:8080' }).allowedOrigins, [
      'https://a.example',
      'http://localhost:8080',
    ]);
    assert.throws(() => readConfig([], { ALLOWED_ORIGINS: 'https://a.example/app' }), ConfigError);
    assert.throws(() => readConfig([], { ALLOWED_ORIGINS: 'a.example' }), ConfigError);
  });
});

describe('join tokens', () => {
  test('missing, forged, other-room and expired tokens get unauthorized; a valid one joins', async (t) => {
    const server = await setup(t, { joinSecret: SECRET });
    const valid = createJoinToken(SECRET, { room: 'standup', ttlSeconds: 60 });
    const refused = {
      missing: undefined,
      forged: forge(valid),
      'other room': createJoinToken(SECRET, { room: 'retro', ttlSeconds: 60 }),
      expired: createJoinToken(SECRET, { room: 'standup', ttlSeconds: 1, now: Math.floor(Date.now() / 1000) - 10 }),
      'signed with another secret': createJoinToken('guess', { room: 'standup', ttlSeconds: 60 }),
    };
    for (const [what, token] of Object.entries(refused)) {
      const { reply } = await tryJoin(t, server, 'standup', token === undefined ? {} : { token });
      assert.equal(reply.type, 'error', `${what}: ${JSON.stringify(reply)}`);
      assert.equal(reply.code, 'unauthorized', what);
      assert.ok(!reply.message.includes(token ?? '\0'), `${what}: the reply echoes the token`);
    }
    assert.equal(server.signaling.memberCount, 0);
    const { reply } = await tryJoin(t, server, 'standup', { token: valid });
    assert.equal(reply.type, 'joined');
  });

  test('the refusal comes before the room is looked at: a full room is not revealed to a stranger', async (t) => {
    const server = await setup(t, { joinSecret: SECRET, capacity: 1 });
    const { reply: first } = await tryJoin(t, server, 'private', {
      token: createJoinToken(SECRET, { room: 'private', ttlSeconds: 60 }),
    });
    assert.equal(first.type, 'joined');
    const { reply } = await tryJoin(t, server, 'private', { token: 'made.up' });
    assert.equal(reply.code, 'unauthorized');
  });

  test("a token's name is the name the room sees, whatever the client sends", async (t) => {
    const server = await setup(t, { joinSecret: SECRET });
    const token = (name) => createJoinToken(SECRET, { room: 'r', ttlSeconds: 60, ...(name ? { name } : {}) });
    const a = await Client.open(t, server);
    a.send({ type: 'join', room: 'r', name: 'Ada', token: token() });
    const aJoined = await a.next();
    assert.equal(aJoined.type, 'joined');
    const b = await Client.open(t, server);
    b.send({ type: 'join', room: 'r', name: 'The CEO', token: token('Bob (guest)') });
    const joined = await b.next();
    assert.equal(joined.type, 'joined');
    assert.deepEqual(joined.peers, [{ id: aJoined.id, name: 'Ada' }]);
    assert.equal((await a.next('peer-joined')).name, 'Bob (guest)');
  });

  test('a seat outlives its token: resume after expiry holds it; a fresh join with that token is refused', async (t) => {
    const server = await setup(t, { joinSecret: SECRET, resumeGraceMs: 10_000 });
    const shortLived = createJoinToken(SECRET, { room: 'r', ttlSeconds: 1 });
    const a = await Client.open(t, server);
    a.send({ type: 'join', room: 'r', name: 'Ada', token: createJoinToken(SECRET, { room: 'r', ttlSeconds: 60 }) });
    assert.equal((await a.next()).type, 'joined');
    const b = await Client.open(t, server);
    b.send({ type: 'join', room: 'r', name: 'Bo', token: shortLived });
    const bJoined = await b.next();
    assert.equal(bJoined.type, 'joined');
    await a.next('peer-joined');

    // Wait until the token has expired (the server counts whole seconds).
    while (verifyJoinToken(SECRET, shortLived, 'r').ok) await sleep(100);
    b.ws.terminate();
    await b.closed;
    const back = await Client.open(t, server);
    back.send({
      type: 'join',
      room: 'r',
      name: 'Bo',
      token: shortLived,
      resume: { id: bJoined.id, secret: bJoined.secret, received: 0 },
    });
    const resumed = await back.next();
    assert.equal(resumed.type, 'resumed', JSON.stringify(resumed));
    assert.equal(resumed.id, bJoined.id);
    await a.expectQuiet();

    const { reply } = await tryJoin(t, server, 'r', { token: shortLived });
    assert.equal(reply.code, 'unauthorized');
    assert.match(reply.message, /expired/);
  });
});

describe('the token command and the log', () => {
  /** Runs the bin with `args` and `env`; resolves with its exit code and output. */
  async function runBin(args, env = {}) {
    const child = spawn(process.execPath, [`${ROOT}bin/rtc-call-server.js`, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const [code] = await withTimeout(once(child, 'exit'), 'the bin to exit', 10_000);
    return { code, stdout, stderr };
  }

  test('`rtc-call-server token --room R --ttl S --name N` prints a token the server accepts', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { code, stdout, stderr } = await runBin(['token', '--room', 'standup', '--ttl', '120', '--name', 'Guest'], {
      JOIN_SECRET: SECRET,
    });
    assert.equal(code, 0, stderr);
    const token = stdout.trim();
    assert.equal(stdout, `${token}\n`, 'one line, the token only');
    const check = verifyJoinToken(SECRET, token, 'standup');
    assert.equal(check.ok, true);
    assert.equal(check.claims.name, 'Guest');
    assert.ok(check.claims.expires >= before + 120 && check.claims.expires <= before + 122);
  });

  test('the token command explains what is missing, exit 2', async () => {
    const noSecret = await runBin(['token', '--room', 'r']);
    assert.equal(noSecret.code, 2);
    assert.match(noSecret.stderr, /JOIN_SECRET/);
    const noRoom = await runBin(['token'], { JOIN_SECRET: SECRET });
    assert.equal(noRoom.code, 2);
    assert.match(noRoom.stderr, /--room is required/);
    const badTtl = await runBin(['token', '--room', 'r', '--ttl', 'soon'], { JOIN_SECRET: SECRET });
    assert.equal(badTtl.code, 2);
    assert.match(badTtl.stderr, /--ttl/);
  });

  test('the server says what is on at start-up, and never prints a token, a secret or a TURN credential', async (t) => {
    const turnSecret = 'a-turn-secret-nobody-may-log';
    const server = await startRtcServer({
      env: { JOIN_SECRET: SECRET, TURN_SECRET: turnSecret, TURN_URLS: 'turn:127.0.0.1:3478', RESUME_GRACE_MS: '5000' },
    });
    t.after(() => server.stop().catch(() => {}));
    const seen = [SECRET, turnSecret];
    const token = createJoinToken(SECRET, { room: 'r', ttlSeconds: 60 });
    seen.push(token, forge(token));
    const open = async () => {
      const ws = new WebSocket(signalUrl(server.url));
      const client = new Client(ws);
      t.after(() => ws.terminate());
      await withTimeout(once(ws, 'open'), 'open');
      return client;
    };
    const a = await open();
    a.send({ type: 'join', room: 'r', name: 'Ada', token });
    const joined = await a.next();
    assert.equal(joined.type, 'joined');
    // The built-in STUN first (at the host the client used), then the TURN credentials.
    const [stun, turn] = joined.iceServers;
    assert.deepEqual(stun, { urls: `stun:127.0.0.1:${server.port}` });
    assert.match(turn.username, new RegExp(`^\\d+:${joined.id}$`));
    seen.push(turn.credential, joined.secret);
    const b = await open();
    b.send({ type: 'join', room: 'r', name: 'Bo', token: forge(token) });
    assert.equal((await b.next()).code, 'unauthorized');
    // A resume hands out fresh TURN credentials.
    a.ws.terminate();
    await a.closed;
    const back = await open();
    back.send({ type: 'join', room: 'r', resume: { id: joined.id, secret: joined.secret, received: 0 } });
    const resumed = await back.next();
    assert.equal(resumed.type, 'resumed');
    assert.equal(resumed.iceServers.length, 2);
    seen.push(resumed.iceServers[1].credential);
    // Something that makes the server log, in case a log line would quote a message.
    back.send(`{"type":"join","room":"r","token":"${token}"`);
    await back.next('error');
    assert.equal((await server.stop()).code, 0);

    const output = server.output();
    // One JSON object per line, nothing else.
    const lines = output.split('\n').map((line) => JSON.parse(line));
    const start = lines.find((line) => line.msg === 'rtc-call server listening');
    assert.equal(start.origins, 'any (set ALLOWED_ORIGINS to restrict)');
    assert.equal(start.joinTokens, 'required');
    assert.deepEqual(start.turn, { urls: ['turn:127.0.0.1:3478'], ttlSeconds: 3600 });
    // The forged token is logged as refused, by its reason, not by itself.
    const refused = lines.filter((line) => line.msg === 'join refused: token');
    assert.deepEqual(
      refused.map(({ level, address, reason }) => ({ level, address, reason })),
      [{ level: 'warn', address: '127.0.0.1', reason: 'forged' }],
    );
    assert.deepEqual(
      lines.slice(-2).map((line) => line.msg),
      ['stopping', 'stopped'],
    );
    for (const secret of seen) assert.ok(!output.includes(secret), `the log holds ${secret.slice(0, 8)}…:\n${output}`);
  });
});

describe('in the element', () => {
  test('no token or a wrong one: failed with unauthorized, said in the element; a valid token joins', async (t) => {
    const { pages } = await startServers(t, { env: { JOIN_SECRET: SECRET } });
    const room = uniqueRoom('token');
    const [browser] = await launchBrowsers(t, [() => launchChromium({ label: 'A' })]);
    const cases = [
      [{}, /needs a join token/],
      [{ token: createJoinToken(SECRET, { room: 'another-room', ttlSeconds: 60 }) }, /for another room/],
    ];
    for (const [attributes, said] of cases) {
      const page = await browser.open(pages.pageUrl({ room, name: 'Ada', attributes }));
      await page.call();
      await page.waitForState('failed');
      const [error] = await page.events('rtc-call-error');
      assert.equal(error.detail.code, 'unauthorized');
      assert.match(error.detail.message, said);
      assert.match(await page.statusText(), said);
      await page.close();
    }
    const page = await browser.open(
      pages.pageUrl({ room, name: 'Ada', attributes: { token: createJoinToken(SECRET, { room, ttlSeconds: 60 }) } }),
    );
    await page.call();
    await page.waitForState('waiting');
  });

  test('a display name full of markup is shown as text, and runs nothing', async (t) => {
    const { pages } = await startServers(t);
    const room = uniqueRoom('xss');
    // At most 64 characters: the longest name the server takes.
    const hostile = '<img src=x onerror="window.__pwned=1"><b>Eve</b>';
    const [ada, eve] = await launchBrowsers(t, [
      () => launchChromium({ label: 'A (Ada)' }),
      () => launchChromium({ label: 'E (hostile name)' }),
    ]);
    const a = await ada.open(pages.pageUrl({ room, name: 'Ada' }));
    const e = await eve.open(pages.pageUrl({ room, name: hostile }));
    await a.call();
    await a.waitForState('waiting');
    await a.trackStatus();
    await e.call();
    await Promise.all([a.waitForState('connected'), e.waitForState('connected')]);
    assert.equal((await a.events('rtc-call-peer-joined'))[0].detail.name, hostile);
    await a.waitFor(() => document.querySelector('rtc-call').shadowRoot.querySelector('[part="remote-name"]'), null, {
      what: 'the remote name label',
    });
    const shown = await a.evaluate(() => {
      const root = document.querySelector('rtc-call').shadowRoot;
      const label = root.querySelector('[part="remote-name"]');
      return {
        text: label.textContent,
        children: label.children.length,
        markup: root.querySelectorAll('img, b').length,
      };
    });
    assert.deepEqual(shown, { text: hostile, children: 0, markup: 0 });
    // It was in the status line too ("… joined — connecting…"), as text.
    const lines = (await a.statusHistory()).map((entry) => entry.text);
    assert.ok(lines.includes(`${hostile} joined — connecting…`), JSON.stringify(lines));
    assert.equal(await a.evaluate(() => window.__pwned ?? null), null);
  });
});
