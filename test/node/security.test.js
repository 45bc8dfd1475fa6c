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
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { ConfigError, readConfig } from '../../lib/server/config.js';
import { createJoinToken, verifyJoinToken } from '../../lib/server/index.js';
import { ROOT, launchBrowsers, launchChromium, startRtcServer, startServers, uniqueRoom } from './browser-harness.js';
import { SKIP as REDIS_SKIP, startRedis } from './redis-server.js';
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

/** A token signed with `secret` for any claims at all, as a hand-made or older issuer would make it. */
function signClaims(secret, claims) {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
}

/** The expiry (Unix seconds) of the TURN credential among `iceServers`, or undefined if there is none. */
function turnExpiry(iceServers) {
  const turn = iceServers.find((server) => String(server.urls).startsWith('turn'));
  return turn ? Number(turn.username.split(':')[0]) : undefined;
}

const TURN = { secret: 'a-turn-secret', urls: ['turn:127.0.0.1:3478?transport=udp'] };

describe('names, seats and relay credentials', () => {
  test('a token whose name is longer than the protocol allows is neither issued nor accepted; the room never hears it', async (t) => {
    assert.throws(() => createJoinToken(SECRET, { room: 'r', name: 'x'.repeat(65) }), /at most 64 characters/);
    assert.ok(createJoinToken(SECRET, { room: 'r', name: 'x'.repeat(64) }));
    const server = await setup(t, { joinSecret: SECRET });
    const host = await Client.open(t, server);
    host.send({ type: 'join', room: 'r', name: 'Host', token: createJoinToken(SECRET, { room: 'r', ttlSeconds: 60 }) });
    assert.equal((await host.next()).type, 'joined');
    const expires = Math.floor(Date.now() / 1000) + 60;
    const token = signClaims(SECRET, { r: 'r', e: expires, n: 'x'.repeat(65) });
    const { reply } = await tryJoin(t, server, 'r', { token });
    assert.equal(reply.code, 'unauthorized');
    assert.match(reply.message, /not one this server issued/);
    await host.expectQuiet();
    // Its twin with a name of 64 is let in, under that name.
    const fine = await tryJoin(t, server, 'r', {
      token: signClaims(SECRET, { r: 'r', e: expires, n: 'y'.repeat(64) }),
    });
    assert.equal(fine.reply.type, 'joined');
    assert.equal((await host.next('peer-joined')).name, 'y'.repeat(64));
  });

  /** `victim` joined `first` and its server lost the seat; `room` has `witness` in it, on `second`. */
  async function forgedPrevious(t, first, second) {
    const room = uniqueRoom('seat');
    const victim = await Client.open(t, first);
    victim.send({ type: 'join', room, name: 'Ada' });
    const seat = await victim.next('joined');
    victim.send({ type: 'leave' });
    await sleep(100);
    const witness = await Client.open(t, second);
    witness.send({ type: 'join', room, name: 'Witness' });
    await witness.next('joined');
    // The thief knows Ada's id (the room saw it; TURN usernames carry it), not her secret.
    const thief = await Client.open(t, second);
    thief.send({
      type: 'join',
      room,
      name: 'Ada',
      resume: { id: seat.id, secret: 'not-her-secret-at-all', received: 0 },
    });
    const stolen = await thief.next();
    assert.equal(stolen.type, 'joined');
    const told = await witness.next('peer-joined');
    assert.equal(told.id, stolen.id);
    assert.equal(told.previous, undefined, 'the room was told the thief is Ada');
    thief.send({ type: 'leave' });
    await witness.next('peer-left');
    // Ada herself, with her secret: the room is told it is her, and the call carries on.
    const back = await Client.open(t, second);
    back.send({ type: 'join', room, name: 'Ada', resume: { id: seat.id, secret: seat.secret, received: 0 } });
    assert.equal((await back.next()).type, 'joined');
    assert.equal((await witness.next('peer-joined')).previous, seat.id);
  }

  test("`previous` only with the seat's secret: after a restart, a claim of someone's id is a plain join", async (t) => {
    const before = await setup(t);
    const after = await setup(t);
    await forgedPrevious(t, before, after);
  });

  test(
    "`previous` only with the seat's secret, over Redis: an id no one holds is not anyone's to claim",
    { skip: REDIS_SKIP },
    async (t) => {
      const redis = await startRedis(t);
      const [one, two] = await Promise.all([1, 2].map(() => setup(t, { redisUrl: redis.url })));
      await forgedPrevious(t, one, two);
    },
  );

  test('TURN credentials never outlive the join token: on join they end with it, and a resume after it hands out none', async (t) => {
    const server = await setup(t, { joinSecret: SECRET, resumeGraceMs: 10_000, turn: TURN });
    const token = createJoinToken(SECRET, { room: 'r', ttlSeconds: 2 });
    const { expires } = verifyJoinToken(SECRET, token, 'r').claims;
    const a = await Client.open(t, server);
    a.send({ type: 'join', room: 'r', name: 'Ada', token });
    const joined = await a.next();
    assert.equal(joined.type, 'joined');
    const expiry = turnExpiry(joined.iceServers);
    assert.ok(expiry !== undefined && expiry <= expires, `TURN valid until ${expiry}, token until ${expires}`);
    while (verifyJoinToken(SECRET, token, 'r').ok) await sleep(100);
    a.ws.terminate();
    const back = await Client.open(t, server);
    back.send({ type: 'join', room: 'r', name: 'Ada', resume: { id: joined.id, secret: joined.secret, received: 0 } });
    const resumed = await back.next();
    assert.equal(resumed.type, 'resumed');
    assert.equal(turnExpiry(resumed.iceServers), undefined, JSON.stringify(resumed.iceServers));
  });

  test("without tokens, a seat's relay access ends TURN_MAX_SECONDS after its join, however often it resumes", async (t) => {
    const server = await setup(t, { resumeGraceMs: 10_000, turn: { ...TURN, ttlSeconds: 3600 }, turnMaxSeconds: 120 });
    const start = Math.floor(Date.now() / 1000);
    let client = await Client.open(t, server);
    client.send({ type: 'join', room: 'r', name: 'Ada' });
    const joined = await client.next();
    const limit = start + 120 + 1;
    assert.ok(turnExpiry(joined.iceServers) <= limit, `${turnExpiry(joined.iceServers)} > ${limit}`);
    for (let i = 0; i < 3; i++) {
      await sleep(1100);
      client.ws.terminate();
      client = await Client.open(t, server);
      client.send({
        type: 'join',
        room: 'r',
        name: 'Ada',
        resume: { id: joined.id, secret: joined.secret, received: 0 },
      });
      const resumed = await client.next();
      assert.equal(resumed.type, 'resumed');
      assert.ok(
        turnExpiry(resumed.iceServers) <= limit,
        `resume ${i + 1}: ${turnExpiry(resumed.iceServers)} > ${limit}`,
      );
    }
    // The one-hour credential of a seat without a deadline would have said so.
    const fresh = await Client.open(t, await setup(t, { turn: { ...TURN, ttlSeconds: 3600 } }));
    fresh.send({ type: 'join', room: 'r', name: 'Bo' });
    assert.ok(turnExpiry((await fresh.next()).iceServers) >= start + 3600);
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
    // A name no element would show is not issued.
    const longName = await runBin(['token', '--room', 'r', '--name', 'x'.repeat(65)], { JOIN_SECRET: SECRET });
    assert.equal(longName.code, 2);
    assert.match(longName.stderr, /a name has at most 64 characters/);
    assert.equal(longName.stdout, '');
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
  test('a message from the server the element cannot read is reported, and the element stays in the room', async (t) => {
    const { pages } = await startServers(t);
    // A signaling server that, once the element is in, sends a peer with a name no server should pass on.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    t.after(() => new Promise((resolve) => wss.close(resolve)));
    await once(wss, 'listening');
    const seen = { closed: false, pings: 0 };
    wss.on('connection', (ws) => {
      ws.on('close', () => (seen.closed = true));
      ws.on('message', (data) => {
        const message = JSON.parse(String(data));
        if (message.type === 'ping') seen.pings += 1;
        if (message.type !== 'join') return;
        ws.send(
          JSON.stringify({
            type: 'joined',
            room: message.room,
            id: 'me',
            peers: [],
            polite: false,
            iceServers: [],
            secret: 's',
          }),
        );
        ws.send(JSON.stringify({ type: 'peer-joined', id: 'long', name: 'x'.repeat(65), polite: true, seq: 1 }));
      });
    });
    const [browser] = await launchBrowsers(t, [() => launchChromium({ label: 'A' })]);
    const signalingUrl = `ws://127.0.0.1:${wss.address().port}/signal`;
    const page = await browser.open(
      pages.pageUrl({ room: 'r', name: 'Ada', attributes: { 'signaling-url': signalingUrl } }),
    );
    await page.call();
    const error = await page.nextEvent('rtc-call-error');
    assert.equal(error.detail.code, 'protocol');
    assert.match(error.detail.message, /cannot read: "name" is longer than 64 characters/);
    // Still in the room, still talking to the server: the next ping comes on the same socket.
    const pings = seen.pings;
    await withTimeout(
      (async () => {
        while (seen.pings <= pings) await sleep(100);
      })(),
      'a ping after the bad message',
      10_000,
    );
    assert.equal(seen.closed, false);
    assert.equal(await page.state(), 'waiting');
    assert.deepEqual(await page.events('rtc-call-peer-joined'), []);
  });

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
