/**
 * The built-in STUN responder (src/server/stun.ts): what it answers, what it drops, the rate
 * limit per address, and the STUN server the signaling server hands to peers. A real UDP socket on
 * loopback, with a client written byte by byte (stun-client.js). netns.test.js asks it from
 * behind a NAT.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { readConfig } from '../../lib/server/config.js';
import { bindingResponse, ipv6Bytes, MAX_REQUEST_BYTES } from '../../lib/server/stun.js';
import { bindingRequest, openUdp, readResponse } from './stun-client.js';
import { Client, setup, signalUrl, withTimeout } from './signal-client.js';

describe('bindingResponse', () => {
  test('a binding request: a success response with the XOR-mapped address, the same transaction, 32 bytes', () => {
    const request = bindingRequest();
    const response = bindingResponse(request, '198.51.100.7', 40000);
    assert.equal(response.length, 32);
    const read = readResponse(response);
    assert.equal(read.address, '198.51.100.7');
    assert.equal(read.port, 40000);
    assert.equal(read.transaction, request.subarray(8, 20).toString('hex'));
    assert.deepEqual(read.types, [0x0020]);
  });

  test('with FINGERPRINT (and optional attributes) in the request: the answer ends with a valid one', () => {
    const request = bindingRequest({ attributes: [[0x8022, Buffer.from('some client')]], fingerprint: true });
    const read = readResponse(bindingResponse(request, '198.51.100.7', 1));
    assert.deepEqual(read.types, [0x0020, 0x8028]);
    assert.equal(read.fingerprintValid, true);
  });

  test('IPv6 sources get an IPv6 address; IPv4 ones seen through a dual-stack socket get IPv4', () => {
    assert.equal(readResponse(bindingResponse(bindingRequest(), '2001:db8::1', 5)).address, '2001:db8:0:0:0:0:0:1');
    assert.equal(readResponse(bindingResponse(bindingRequest(), '::ffff:192.0.2.9', 5)).address, '192.0.2.9');
    assert.deepEqual([...ipv6Bytes('fe80::1%eth0')], [0xfe, 0x80, ...Array(13).fill(0), 1]);
  });

  const refused = {
    'too short': Buffer.alloc(19),
    'a response, not a request': bindingRequest({ type: 0x0101 }),
    'an indication': bindingRequest({ type: 0x0011 }),
    'another method (Allocate)': bindingRequest({ type: 0x0003 }),
    'RFC 3489 (no magic cookie)': bindingRequest({ cookie: 0x01020304 }),
    'a length that is not the datagram': bindingRequest({ length: 8 }),
    'an attribute that overruns the message': (() => {
      const message = bindingRequest({ attributes: [[0x8022, Buffer.from('abcd')]] });
      message.writeUInt16BE(64, 22);
      return message;
    })(),
    'a comprehension-required attribute (USERNAME)': bindingRequest({ attributes: [[0x0006, Buffer.from('user')]] }),
    'CHANGE-REQUEST': bindingRequest({ attributes: [[0x0003, Buffer.alloc(4)]] }),
    'a FINGERPRINT that does not match': (() => {
      const message = bindingRequest({ fingerprint: true });
      message[message.length - 1] ^= 0xff;
      return message;
    })(),
    'an attribute after FINGERPRINT': (() => {
      const signed = bindingRequest({ fingerprint: true });
      const message = Buffer.concat([signed, Buffer.from([0x80, 0x22, 0, 0])]);
      message.writeUInt16BE(message.length - 20, 2);
      return message;
    })(),
    [`over ${MAX_REQUEST_BYTES} bytes, though well-formed`]: bindingRequest({
      attributes: [[0x8022, Buffer.alloc(MAX_REQUEST_BYTES)]],
    }),
    JSON: Buffer.from('{"type":"join","room":"x"}'),
  };
  for (const [what, message] of Object.entries(refused)) {
    test(`no answer to ${what}`, () => assert.equal(bindingResponse(message, '198.51.100.7', 1), undefined));
  }
});

describe('the responder on its UDP port', () => {
  test("answers on the HTTP port number by default, with the sender's address; drops junk and oversized packets", async (t) => {
    const server = await setup(t, { stunPort: undefined });
    assert.equal(server.stunPort, new URL(server.url).port * 1);
    const udp = await openUdp();
    t.after(() => udp.close());
    const request = bindingRequest();
    await udp.send(request, server.stunPort, '127.0.0.1');
    const [answer] = await udp.until(1, 2000);
    const read = readResponse(answer);
    assert.equal(read.address, '127.0.0.1');
    assert.equal(read.port, udp.socket.address().port);
    assert.ok(answer.length <= 32, `${answer.length} bytes for a ${request.length}-byte request`);

    udp.received.length = 0;
    for (const junk of [Buffer.from('hello'), Buffer.alloc(20), bindingRequest({ cookie: 1 }), Buffer.alloc(1400, 1)])
      await udp.send(junk, server.stunPort, '127.0.0.1');
    await udp.send(bindingRequest({ attributes: [[0x8022, Buffer.alloc(600)]] }), server.stunPort, '127.0.0.1');
    // A good one after them, so that "nothing" is not just "not yet".
    await udp.send(bindingRequest(), server.stunPort, '127.0.0.1');
    const answers = await udp.until(2, 1000);
    assert.equal(answers.length, 1, 'only the last, well-formed request is answered');
    assert.ok(readResponse(answers[0]));
  });

  test('a flood from one address is cut to its rate; another address is still answered', async (t) => {
    const rate = { burst: 20, perSecond: 10 };
    const server = await setup(t, { stunPort: undefined, stunRate: rate });
    const flood = await openUdp();
    const other = await openUdp('127.0.0.2');
    t.after(() => Promise.all([flood.close(), other.close()]));
    const started = performance.now();
    for (let i = 0; i < 500; i++) await flood.send(bindingRequest(), server.stunPort, '127.0.0.1');
    await flood.until(500, 300);
    // Generous: the bucket refills while the last requests are still being read.
    const elapsed = (performance.now() - started) / 1000;
    // Once the flood is through (a burst that size overflows the socket's buffer: some of it
    // never reaches the responder at all).
    await other.send(bindingRequest(), server.stunPort, '127.0.0.1');
    await other.until(1, 2000);
    const allowed = rate.burst + Math.ceil(elapsed * rate.perSecond) + 1;
    assert.ok(flood.received.length >= rate.burst, `${flood.received.length} answers`);
    assert.ok(flood.received.length <= allowed, `${flood.received.length} answers to 500 in ${elapsed.toFixed(2)} s`);
    assert.equal(other.received.length, 1, 'the limit is per address');
  });

  test('STUN_PORT=0: no responder', async (t) => {
    const server = await setup(t, { stunPort: 0 });
    assert.equal(server.stunPort, undefined);
  });
});

describe('the STUN server handed to peers', () => {
  const join = async (t, server, headers = {}) => {
    const ws = new WebSocket(signalUrl(server.url), { headers });
    t.after(() => ws.terminate());
    const client = new Client(ws);
    await withTimeout(once(ws, 'open'), 'open');
    client.send({ type: 'join', room: 'stun', name: 'Ada' });
    return client.next('joined');
  };

  test('in every joined: the built-in responder, at the host the client reached the server by', async (t) => {
    const server = await setup(t, { stunPort: undefined });
    const joined = await join(t, server);
    assert.deepEqual(joined.iceServers, [{ urls: `stun:127.0.0.1:${server.stunPort}` }]);
    // Behind a name (or a proxy that keeps the Host header), that name.
    const named = await join(t, server, { Host: `calls.example.com:${new URL(server.url).port}` });
    assert.deepEqual(named.iceServers, [{ urls: `stun:calls.example.com:${server.stunPort}` }]);
  });

  test('STUN_URLS instead (coturn, say), before the TURN credentials', async (t) => {
    const server = await setup(t, {
      stunPort: undefined,
      stunUrls: ['stun:turn.example.com:3478'],
      iceServers: () => [{ urls: ['turn:turn.example.com:3478'], username: 'u', credential: 'c' }],
    });
    const joined = await join(t, server);
    assert.deepEqual(joined.iceServers, [
      { urls: ['stun:turn.example.com:3478'] },
      { urls: ['turn:turn.example.com:3478'], username: 'u', credential: 'c' },
    ]);
  });
});

test('settings: STUN_PORT (default: none given, the PORT number; 0 off), STUN_URLS, checked', () => {
  assert.equal(readConfig([], {}).stunPort, undefined);
  assert.equal(readConfig([], { STUN_PORT: '0' }).stunPort, 0);
  assert.equal(readConfig(['--stun-port', '3478'], {}).stunPort, 3478);
  assert.deepEqual(readConfig([], { STUN_URLS: 'stun:a.example:3478, stun:b.example' }).stunUrls, [
    'stun:a.example:3478',
    'stun:b.example',
  ]);
  assert.throws(() => readConfig([], { STUN_PORT: '70000' }), /STUN_PORT must be a whole number/);
  assert.throws(
    () => readConfig([], { STUN_URLS: 'turn:a.example' }),
    /STUN_URLS: "turn:a.example" is not a stun: URL/,
  );
});

test('settings: TURN_URLS may list UDP, TCP and TLS transports of a relay', () => {
  const urls =
    'turn:t.example:3478?transport=udp, turn:t.example:3478?transport=tcp, turns:t.example:443?transport=tcp';
  assert.deepEqual(readConfig([], { TURN_SECRET: 's', TURN_URLS: urls }).turn.urls, [
    'turn:t.example:3478?transport=udp',
    'turn:t.example:3478?transport=tcp',
    'turns:t.example:443?transport=tcp',
  ]);
  assert.throws(
    () => readConfig([], { TURN_SECRET: 's', TURN_URLS: 'turn:t.example?transport=sctp' }),
    /TURN_URLS: "turn:t\.example\?transport=sctp" is not a turn: or turns: URL/,
  );
});
