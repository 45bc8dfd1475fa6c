import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { ConfigError, readConfig } from '../../lib/server/config.js';
import { Client, eventually, setup, withTimeout } from './signal-client.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ID = /^[A-Za-z0-9_-]{22,}$/;

/** Polls a condition the server exposes no event for, up to a deadline. */

/** A raw HTTP request: the path is sent as is, not normalised the way fetch() would. */
function http(server, path, { method = 'GET', headers = {} } = {}) {
  const { hostname, port } = new URL(server.url);
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = request({ host: hostname, port, path, method, headers, agent: false }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    }),
    `${method} ${path}`,
  );
}

/** Two clients joined to `room`: `a` first, then `b` (after `a` has seen `peer-joined`). */
async function pair(t, server, room = 'room', names = ['Ada', 'Bo']) {
  const a = await Client.open(t, server);
  const b = await Client.open(t, server);
  const aJoined = await a.join(room, names[0]);
  const bJoined = await b.join(room, names[1]);
  const peerJoined = await a.next('peer-joined');
  return { a, b, aJoined, bJoined, peerJoined };
}

const offer = { description: { type: 'offer', sdp: 'v=0\r\n' } };

describe('signaling', () => {
  test('join: the first peer gets an id, no peers, polite:false', async (t) => {
    const server = await setup(t);
    const a = await Client.open(t, server);
    const joined = await a.join('r1', 'Ada');
    assert.match(joined.id, ID);
    assert.match(joined.secret, ID);
    assert.notEqual(joined.secret, joined.id);
    assert.deepEqual(joined, {
      type: 'joined',
      room: 'r1',
      id: joined.id,
      peers: [],
      polite: false,
      iceServers: [],
      secret: joined.secret,
    });
    assert.equal(server.signaling.roomCount, 1);
    await a.expectQuiet();
  });

  test('join: the second peer gets the first; the first is told, and is the polite one', async (t) => {
    const server = await setup(t);
    const { a, b, aJoined, bJoined, peerJoined } = await pair(t, server, 'r1', ['Ada', 'Bo']);
    assert.match(bJoined.id, ID);
    assert.notEqual(bJoined.id, aJoined.id);
    assert.deepEqual(bJoined.peers, [{ id: aJoined.id, name: 'Ada' }]);
    assert.equal(bJoined.polite, false);
    assert.deepEqual(peerJoined, { type: 'peer-joined', id: bJoined.id, name: 'Bo', polite: true });
    await a.expectQuiet();
    await b.expectQuiet();
  });

  test('signal is relayed to the other peer with the real sender stamped as from; a `from` of its own is refused', async (t) => {
    const server = await setup(t);
    const { a, b, aJoined, bJoined } = await pair(t, server);
    b.send({ type: 'signal', to: aJoined.id, data: offer });
    assert.deepEqual(await a.next('signal'), { type: 'signal', from: bJoined.id, data: offer });

    // The sender's message is relayed as it came, so it may hold no field the schema does not
    // know: spoofing `from`, even as the recipient's own id, is a protocol error, not relayed.
    const candidate = {
      candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 },
    };
    for (const from of ['spoofed-id', bJoined.id]) {
      a.send({ type: 'signal', to: bJoined.id, from, data: candidate });
      assert.match((await a.expectError('protocol')).message, /unknown field "from"/);
    }
    a.send({ type: 'signal', to: bJoined.id, data: candidate });
    assert.deepEqual(await b.next('signal'), { type: 'signal', from: aJoined.id, data: candidate });
    await a.expectQuiet();
    await b.expectQuiet();
  });

  // A signal racing its recipient's departure is normal, so a signal to anyone not in your room
  // is dropped without an error; what matters is that it never reaches another room.
  test('signal to a peer in another room is dropped, not delivered, and the sender keeps working', async (t) => {
    const server = await setup(t);
    const { a, b, aJoined, bJoined } = await pair(t, server, 'r1');
    const x = await Client.open(t, server);
    const xJoined = await x.join('r2', 'Xi');

    a.send({ type: 'signal', to: xJoined.id, data: offer });
    b.send({ type: 'signal', to: 'no-such-peer', data: offer });
    x.send({ type: 'signal', to: bJoined.id, data: offer });
    await x.expectQuiet();
    await b.expectQuiet();
    await a.expectQuiet();
    // Still in their room and relaying.
    b.send({ type: 'signal', to: aJoined.id, data: offer });
    assert.deepEqual(await a.next('signal'), { type: 'signal', from: bJoined.id, data: offer });
  });

  test('signal to yourself is not echoed back', async (t) => {
    const server = await setup(t);
    const a = await Client.open(t, server);
    const { id } = await a.join('r', 'Ada');
    a.send({ type: 'signal', to: id, data: offer });
    await a.expectQuiet();
  });

  test('capacity 2: a third joiner gets room-full and can still join elsewhere', async (t) => {
    const server = await setup(t);
    const { a, b } = await pair(t, server, 'full');
    const c = await Client.open(t, server);
    c.send({ type: 'join', room: 'full', name: 'Cy' });
    await c.expectError('room-full');
    assert.equal(server.signaling.memberCount, 2);
    await a.expectQuiet();
    await b.expectQuiet();
    assert.deepEqual((await c.join('other', 'Cy')).peers, []);
  });

  test('capacity is configurable: with capacity 3 a third joins, a fourth does not', async (t) => {
    const server = await setup(t, { capacity: 3 });
    const { a, b, aJoined, bJoined } = await pair(t, server, 'r');
    const c = await Client.open(t, server);
    const cJoined = await c.join('r', 'Cy');
    assert.deepEqual(cJoined.peers.map((p) => p.id).sort(), [aJoined.id, bJoined.id].sort());
    assert.equal((await a.next('peer-joined')).id, cJoined.id);
    assert.equal((await b.next('peer-joined')).id, cJoined.id);
    const d = await Client.open(t, server);
    d.send({ type: 'join', room: 'r' });
    await d.expectError('room-full');
  });

  const badInputs = {
    'malformed JSON': (c) => c.send('{"type":"join",'),
    'a JSON array': (c) => c.send('[]'),
    'an unknown type': (c) => c.send({ type: 'hello' }),
    'a binary frame': (c) => c.ws.send(Buffer.from(JSON.stringify({ type: 'join', room: 'r' })), { binary: true }),
    'signal before join': (c) => c.send({ type: 'signal', to: 'someone', data: offer }),
    'join with an empty room': (c) => c.send({ type: 'join', room: '' }),
  };
  for (const [name, sendBad] of Object.entries(badInputs)) {
    test(`${name} → error code protocol, and the server keeps working`, async (t) => {
      const server = await setup(t);
      const c = await Client.open(t, server);
      sendBad(c);
      await c.expectError('protocol');
      assert.equal(server.signaling.memberCount, 0);
      assert.equal(c.ws.readyState, WebSocket.OPEN);
      assert.match((await c.join('after', 'Ada')).id, ID);
    });
  }

  test('a second join on the same socket → error protocol; still in the first room only', async (t) => {
    const server = await setup(t);
    const a = await Client.open(t, server);
    const first = await a.join('r1', 'Ada');
    a.send({ type: 'join', room: 'r2', name: 'Ada' });
    await a.expectError('protocol');
    assert.equal(server.signaling.roomCount, 1);
    assert.equal(server.signaling.memberCount, 1);
    assert.equal(server.signaling.member(first.id).room, 'r1');
    // The server still works for others.
    const b = await Client.open(t, server);
    assert.deepEqual((await b.join('r1', 'Bo')).peers, [{ id: first.id, name: 'Ada' }]);
  });

  test('leave → the others get peer-left with the name; the socket may join again', async (t) => {
    const server = await setup(t);
    const { a, b, aJoined, bJoined } = await pair(t, server);
    b.send({ type: 'leave' });
    assert.deepEqual(await a.next('peer-left'), { type: 'peer-left', id: bJoined.id, name: 'Bo' });
    assert.equal(server.signaling.memberCount, 1);
    // A signal to the peer who left goes nowhere.
    a.send({ type: 'signal', to: bJoined.id, data: offer });
    await b.expectQuiet();
    const again = await b.join('room', 'Bo');
    assert.notEqual(again.id, bJoined.id);
    assert.deepEqual(again.peers, [{ id: aJoined.id, name: 'Ada' }]);
  });

  test('a closed socket → the others get peer-left', async (t) => {
    const server = await setup(t);
    const { a, b, bJoined } = await pair(t, server);
    b.ws.terminate();
    assert.deepEqual(await a.next('peer-left'), { type: 'peer-left', id: bJoined.id, name: 'Bo' });
    assert.equal(server.signaling.memberCount, 1);
    await a.expectQuiet();
  });

  test('empty rooms are removed, whether peers leave or disconnect', async (t) => {
    const server = await setup(t);
    const rooms = server.signaling;
    const { a, b } = await pair(t, server, 'r1');
    const x = await Client.open(t, server);
    await x.join('r2', 'Xi');
    assert.equal(rooms.roomCount, 2);

    b.ws.terminate();
    await a.next('peer-left');
    a.send({ type: 'leave' });
    await a.expectQuiet(); // the leave was handled before the probe
    assert.equal(rooms.roomCount, 1);

    x.ws.terminate();
    // Nobody is left to be told, so there is no event to await.
    await eventually(() => rooms.roomCount === 0, 'room r2 removed after its last socket closed');
    assert.equal(rooms.memberCount, 0);
  });

  test('a frame over the message limit closes that socket (1009); the peer is told', async (t) => {
    const server = await setup(t);
    const { a, b, bJoined } = await pair(t, server);
    b.send({ type: 'signal', to: 'x', data: { description: { type: 'offer', sdp: 'x'.repeat(80 * 1024) } } });
    assert.equal((await b.closed).code, 1009);
    assert.equal((await a.next('peer-left')).id, bJoined.id);
  });

  test('close() closes every socket with 1001', async (t) => {
    const server = await setup(t);
    const a = await Client.open(t, server);
    await a.join('r', 'Ada');
    await withTimeout(server.close(), 'server.close()');
    assert.equal((await a.closed).code, 1001);
  });

  test('an upgrade on a path other than /signal is refused', async (t) => {
    const server = await setup(t);
    for (const path of ['/', '/other', '/signal/x', '/rtc-call.js']) {
      const ws = new WebSocket(new URL(path, server.url.replace(/^http/, 'ws')));
      t.after(() => ws.terminate());
      let opened = false;
      ws.on('open', () => (opened = true));
      ws.on('error', () => {}); // terminate() during the handshake emits one
      const [, response] = await withTimeout(once(ws, 'unexpected-response'), `upgrade ${path}`);
      assert.equal(response.statusCode, 404, path);
      assert.equal(opened, false, path);
      ws.terminate();
    }
    assert.equal(server.signaling.connectionCount, 0);
  });
});

describe('http', () => {
  test('hardening: nosniff and no-referrer everywhere, a CSP on pages (inline scripts by hash)', async (t) => {
    const server = await setup(t);
    const page = await http(server, '/');
    assert.equal(page.status, 200);
    const csp = page.headers['content-security-policy'];
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ])
      assert.ok(csp.includes(directive), `${directive} in ${csp}`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    // The example page's inline module script is allowed by its hash, and by nothing looser.
    const example = await http(server, '/examples/html.html');
    const inline = /<script type="module">([\s\S]*?)<\/script>/.exec(example.body)[1];
    const hash = createHash('sha256').update(inline).digest('base64');
    assert.match(
      example.headers['content-security-policy'],
      new RegExp(`script-src 'self' 'sha256-${hash.replace(/[+/]/g, '\\$&')}'`),
    );
    for (const path of ['/', '/rtc-call.js', '/healthz', '/nothing-here']) {
      const res = await http(server, path);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', path);
      assert.equal(res.headers['referrer-policy'], 'no-referrer', path);
    }
    // The bundle keeps its name across builds: revalidated, never cached blind.
    assert.equal((await http(server, '/rtc-call.js')).headers['cache-control'], 'no-cache');
    assert.equal((await http(server, '/')).headers['cache-control'], 'no-cache');
  });

  test('demo: false (--no-demo) serves the bundle, /healthz and /signal only', async (t) => {
    const server = await setup(t, { demo: false });
    for (const path of ['/', '/index.html', '/demo.js', '/examples/html.html'])
      assert.equal((await http(server, path)).status, 404, path);
    assert.equal((await http(server, '/rtc-call.js')).status, 200);
    assert.equal((await http(server, '/healthz')).status, 200);
    const a = await Client.open(t, server);
    await a.join('room', 'Ada');
    assert.equal(readConfig(['--no-demo'], {}).demo, false);
    assert.equal(readConfig([], { NO_DEMO: '1' }).demo, false);
    assert.equal(readConfig([], { NO_DEMO: '0' }).demo, true);
    assert.throws(() => readConfig([], { NO_DEMO: 'maybe' }), ConfigError);
  });

  test('GET /healthz → 200', async (t) => {
    const server = await setup(t);
    const res = await http(server, '/healthz');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'ok\n');
  });

  test('GET /rtc-call.js → 200, any origin, JavaScript, ETag; If-None-Match → 304', async (t) => {
    assert.ok(existsSync(`${ROOT}dist/rtc-call.js`), 'dist/rtc-call.js is missing: run `npx rollup -c --silent` first');
    const server = await setup(t);
    const res = await http(server, '/rtc-call.js', { headers: { origin: 'https://elsewhere.example' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.match(res.headers['content-type'], /^text\/javascript\b/);
    assert.ok(res.headers.etag, 'ETag header');
    assert.ok(res.body.includes('rtc-call'), 'the body is the bundle');

    const again = await http(server, '/rtc-call.js', { headers: { 'if-none-match': res.headers.etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    assert.equal(again.headers.etag, res.headers.etag);

    const stale = await http(server, '/rtc-call.js', { headers: { 'if-none-match': '"stale"' } });
    assert.equal(stale.status, 200);
  });

  test('GET /chunks/* → 404: the bundle is one file, and nothing else of dist/ or the project is served', async (t) => {
    const server = await setup(t);
    for (const path of [
      '/chunks/session.js',
      '/rtc-call.jsx',
      '/chunks/..%2f..%2fpackage.json',
      '/chunks/%2e%2e/%2e%2e/package.json',
    ]) {
      const res = await http(server, path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.body, /"name"/, path);
    }
  });

  test('GET / → 200 text/html (the demo)', async (t) => {
    const server = await setup(t);
    const res = await http(server, '/');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/html\b/);
    assert.match(res.body, /<rtc-call/);
  });

  for (const path of [
    '/../package.json',
    '/%2e%2e/package.json',
    '/..%2fpackage.json',
    '/%2e%2e%2fpackage.json',
    '/..%2f..%2f..%2fetc%2fpasswd',
    '/x/..%2f..%2fpackage.json',
    '/..%5cpackage.json',
    '/%00',
    '/%E0%A4%A',
  ]) {
    test(`path traversal ${path} → 404`, async (t) => {
      const server = await setup(t);
      const res = await http(server, path);
      assert.equal(res.status, 404);
      assert.doesNotMatch(res.body, /"name"|root:/);
    });
  }

  test('POST → 405 with Allow', async (t) => {
    const server = await setup(t);
    for (const path of ['/', '/rtc-call.js', '/healthz']) {
      const res = await http(server, path, { method: 'POST' });
      assert.equal(res.status, 405, path);
      assert.match(res.headers.allow, /GET/);
    }
  });
});

describe('config', () => {
  /** What readConfig() says of the settings nobody set. */
  const UNSET = { limits: {}, logLevel: 'info', demo: true };

  test('limits, TRUST_PROXY and LOG_LEVEL: checked, and only what is set', () => {
    const config = readConfig([], {
      JOIN_BURST: '30',
      JOINS_PER_SECOND: '0.5',
      MESSAGES_PER_SECOND: '80',
      CONNECTIONS_PER_ADDRESS: '10',
      MAX_CONNECTIONS: '500',
      JOIN_TIMEOUT_MS: '5000',
      CONFIRM_TIMEOUT_MS: '30000',
      REPLAY_TOTAL_BYTES: '10485760',
      TRUST_PROXY: '127.0.0.1, 10.0.0.0/8, ::1',
      LOG_LEVEL: 'warn',
    });
    assert.deepEqual(config.limits, {
      joinRate: { burst: 30, perSecond: 0.5 },
      messageRate: { burst: 100, perSecond: 80 },
      connectionsPerAddress: 10,
      maxConnections: 500,
      joinTimeoutMs: 5000,
      confirmTimeoutMs: 30000,
      replayTotalBytes: 10485760,
    });
    assert.deepEqual(config.trustProxy, ['127.0.0.1', '10.0.0.0/8', '::1']);
    assert.equal(config.logLevel, 'warn');
    for (const [name, value, message] of [
      ['TRUST_PROXY', 'nginx', /TRUST_PROXY: "nginx" is not an IP address or a CIDR range/],
      ['TRUST_PROXY', '10.0.0.0/33', /not an IP address or a CIDR range/],
      ['JOINS_PER_SECOND', '0', /JOINS_PER_SECOND must be a number above 0/],
      ['CONNECTIONS_PER_ADDRESS', 'lots', /CONNECTIONS_PER_ADDRESS must be a whole number/],
      ['JOIN_TIMEOUT_MS', '10', /JOIN_TIMEOUT_MS must be a whole number from 1000/],
      ['LOG_LEVEL', 'loud', /LOG_LEVEL must be debug, info, warn, error or silent/],
    ])
      assert.throws(
        () => readConfig([], { [name]: value }),
        (error) => error instanceof ConfigError && message.test(error.message),
        `${name}=${value}`,
      );
  });

  test('defaults: 8080, 127.0.0.1, 2', () => {
    assert.deepEqual(readConfig([], {}), {
      port: 8080,
      host: '127.0.0.1',
      roomCapacity: 2,
      ...UNSET,
    });
  });

  test('env beats defaults', () => {
    assert.deepEqual(readConfig([], { PORT: '9000', HOST: '0.0.0.0', ROOM_CAPACITY: '5' }), {
      port: 9000,
      host: '0.0.0.0',
      roomCapacity: 5,
      ...UNSET,
    });
  });

  test('flags beat env', () => {
    const env = { PORT: '9000', HOST: '0.0.0.0', ROOM_CAPACITY: '5' };
    assert.deepEqual(readConfig(['--port', '9100', '--host', '::1', '--room-capacity', '3'], env), {
      port: 9100,
      host: '::1',
      roomCapacity: 3,
      ...UNSET,
    });
    assert.equal(readConfig(['--port=0'], env).port, 0);
  });

  test('an empty variable counts as unset', () => {
    assert.deepEqual(readConfig([], { PORT: '', HOST: '', ROOM_CAPACITY: '' }), {
      port: 8080,
      host: '127.0.0.1',
      roomCapacity: 2,
      ...UNSET,
    });
  });

  test('bad PORT / ROOM_CAPACITY throw ConfigError', () => {
    for (const PORT of ['nope', '-1', '65536', '80.5', '1e3', '0x50']) {
      assert.throws(() => readConfig([], { PORT }), ConfigError, `PORT=${PORT}`);
    }
    for (const ROOM_CAPACITY of ['0', '1001', 'two', '-2', '2.5']) {
      assert.throws(() => readConfig([], { ROOM_CAPACITY }), ConfigError, `ROOM_CAPACITY=${ROOM_CAPACITY}`);
    }
    assert.throws(() => readConfig(['--port', 'nope'], {}), /PORT.*nope/);
    assert.throws(() => readConfig(['--room-capacity', '0'], {}), ConfigError);
  });

  test('unknown flags and missing values throw ConfigError', () => {
    assert.throws(() => readConfig(['--nope'], {}), ConfigError);
    assert.throws(() => readConfig(['--port'], {}), ConfigError);
    assert.throws(() => readConfig(['extra'], {}), ConfigError);
  });

  test('--help and -h return "help"', () => {
    assert.equal(readConfig(['--help'], {}), 'help');
    assert.equal(readConfig(['-h'], { PORT: 'nope' }), 'help');
  });
});

describe('CLI', () => {
  function cli(t, args) {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !['PORT', 'HOST', 'ROOM_CAPACITY'].includes(name)),
    );
    const child = spawn(process.execPath, ['bin/rtc-call-server.js', ...args], { cwd: ROOT, env });
    // 'close', not 'exit': it also waits for stdout and stderr to end.
    const exited = once(child, 'close');
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    return { child, exited };
  }

  /** Starts the CLI on a free port; resolves with its first line of output and the URL in it. */
  async function serve(t) {
    const { child, exited } = cli(t, ['--port', '0']);
    const lines = createInterface({ input: child.stdout });
    const [line] = await withTimeout(once(lines, 'line'), 'the first line of output');
    const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
    assert.ok(match, `first line: ${line}`);
    assert.notEqual(Number(match[1]), 0);
    return { child, exited, url: match[0] };
  }

  test('--port 0 prints its URL, serves, and exits 0 on SIGTERM', async (t) => {
    const { child, exited, url } = await serve(t);
    const res = await http({ url }, '/healthz');
    assert.equal(res.status, 200);
    child.kill('SIGTERM');
    const [code, signal] = await withTimeout(exited, 'exit after SIGTERM');
    assert.equal(signal, null);
    assert.equal(code, 0);
  });

  // Run against the CLI in a child process, so a crash would show as a dead process, not a dead runner.
  for (const upgrade of [false, true]) {
    test(`a request target new URL() cannot parse gets a 4xx and the server keeps running (${upgrade ? 'upgrade' : 'GET'})`, async (t) => {
      const { child, url } = await serve(t);
      const { port } = new URL(url);
      const socket = connect(Number(port), '127.0.0.1');
      t.after(() => socket.destroy());
      socket.on('error', () => {});
      const headers = upgrade
        ? 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
        : '';
      socket.write(`GET http://[/ HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
      // The first chunk of the answer, or '' if the connection just closes.
      const answer = await withTimeout(
        new Promise((resolve) => {
          socket.once('data', (chunk) => resolve(chunk.toString()));
          socket.once('close', () => resolve(''));
        }),
        'an answer to the bad request target',
      );
      assert.match(answer, /^HTTP\/1\.1 4\d\d /);
      assert.equal((await http({ url }, '/healthz')).status, 200);
      assert.equal(child.exitCode, null, 'the server process is still running');
    });
  }

  test('--port nope exits 2 with a message on stderr', async (t) => {
    const { child, exited } = cli(t, ['--port', 'nope']);
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const [code] = await withTimeout(exited, 'exit');
    assert.equal(code, 2);
    assert.match(stderr, /PORT.*nope/);
  });
});
