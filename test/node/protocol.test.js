import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LIMITS, parseClientMessage, parseServerMessage, relayedSignalText } from '../../lib/protocol.js';

const json = (value) => JSON.stringify(value);

function ok(result) {
  assert.equal(result.ok, true, result.ok ? '' : `expected ok, got error: ${result.error}`);
  return result.message;
}

function refused(result) {
  assert.equal(result.ok, false, `expected a refusal, got ${json(result.message)}`);
  assert.equal(typeof result.error, 'string');
  assert.ok(result.error.length > 0);
  return result.error;
}

const description = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };
const candidate = { candidate: 'candidate:1 1 udp 2122260223 10.0.0.1 54321 typ host', sdpMid: '0', sdpMLineIndex: 0 };

describe('parseClientMessage: valid messages', () => {
  test('join with room only', () => {
    assert.deepEqual(ok(parseClientMessage(json({ type: 'join', room: 'r1' }))), { type: 'join', room: 'r1' });
  });

  test('join with name and token', () => {
    const message = ok(parseClientMessage(json({ type: 'join', room: 'r1', name: 'Ada', token: 't.k' })));
    assert.deepEqual(message, { type: 'join', room: 'r1', name: 'Ada', token: 't.k' });
  });

  test('signal with a description', () => {
    const message = ok(parseClientMessage(json({ type: 'signal', to: 'peer', data: { description } })));
    assert.deepEqual(message, { type: 'signal', to: 'peer', data: { description } });
  });

  test('signal with an answer', () => {
    const answer = { type: 'answer', sdp: 'v=0' };
    assert.deepEqual(ok(parseClientMessage(json({ type: 'signal', to: 'p', data: { description: answer } }))).data, {
      description: answer,
    });
  });

  test('signal with a candidate', () => {
    const full = { ...candidate, usernameFragment: 'abcd' };
    const message = ok(parseClientMessage(json({ type: 'signal', to: 'peer', data: { candidate: full } })));
    assert.deepEqual(message, { type: 'signal', to: 'peer', data: { candidate: full } });
  });

  test('signal with null fields in a candidate keeps them null', () => {
    const c = { candidate: 'candidate:x', sdpMid: null, sdpMLineIndex: null, usernameFragment: null };
    assert.deepEqual(ok(parseClientMessage(json({ type: 'signal', to: 'p', data: { candidate: c } }))).data, {
      candidate: c,
    });
  });

  test('signal with the end-of-candidates null', () => {
    const message = ok(parseClientMessage(json({ type: 'signal', to: 'peer', data: { candidate: null } })));
    assert.deepEqual(message, { type: 'signal', to: 'peer', data: { candidate: null } });
  });

  test('signal with a step of the move to relays only', () => {
    for (const step of ['ask', 'replace', 'ready']) {
      const message = ok(parseClientMessage(json({ type: 'signal', to: 'peer', data: { relayOnly: step } })));
      assert.deepEqual(message, { type: 'signal', to: 'peer', data: { relayOnly: step } });
    }
  });

  test('leave', () => {
    assert.deepEqual(ok(parseClientMessage(json({ type: 'leave' }))), { type: 'leave' });
  });

  test('fields at exactly their limit are accepted', () => {
    ok(parseClientMessage(json({ type: 'join', room: 'r'.repeat(LIMITS.room), name: 'n'.repeat(LIMITS.name) })));
    ok(
      parseClientMessage(
        json({ type: 'signal', to: 'p', data: { description: { type: 'offer', sdp: 's'.repeat(LIMITS.sdp) } } }),
      ),
    );
    ok(
      parseClientMessage(
        json({ type: 'signal', to: 'p', data: { candidate: { candidate: 'c'.repeat(LIMITS.candidate) } } }),
      ),
    );
  });
});

describe('parseClientMessage: refused input', () => {
  const cases = {
    'malformed JSON': '{"type":"join",',
    'empty text': '',
    'a JSON string': json('join'),
    'a JSON number': '42',
    'JSON null': 'null',
    'a JSON array': json([{ type: 'join', room: 'r' }]),
    'no type': json({ room: 'r' }),
    'relayOnly that is not a step': json({ type: 'signal', to: 'peer', data: { relayOnly: true } }),
    'a numeric type': json({ type: 1, room: 'r' }),
    'an unknown type': json({ type: 'hello', room: 'r' }),
    'a server message type': json({ type: 'joined', room: 'r', id: 'x', peers: [] }),
    'join without room': json({ type: 'join' }),
    'join with an empty room': json({ type: 'join', room: '' }),
    'join with a blank room': json({ type: 'join', room: '   ' }),
    'join with a numeric room': json({ type: 'join', room: 7 }),
    'join with an object room': json({ type: 'join', room: { toString: 'r' } }),
    'join with a numeric name': json({ type: 'join', room: 'r', name: 5 }),
    'join with a non-string token': json({ type: 'join', room: 'r', token: ['t'] }),
    'join with an over-long room': json({ type: 'join', room: 'r'.repeat(LIMITS.room + 1) }),
    'join with an over-long name': json({ type: 'join', room: 'r', name: 'n'.repeat(LIMITS.name + 1) }),
    'join with an over-long token': json({ type: 'join', room: 'r', token: 't'.repeat(LIMITS.token + 1) }),
    'signal without to': json({ type: 'signal', data: { description } }),
    'signal with an empty to': json({ type: 'signal', to: '', data: { description } }),
    'signal with an over-long to': json({ type: 'signal', to: 'p'.repeat(LIMITS.peerId + 1), data: { description } }),
    'signal without data': json({ type: 'signal', to: 'p' }),
    'signal with string data': json({ type: 'signal', to: 'p', data: 'offer' }),
    'signal with array data': json({ type: 'signal', to: 'p', data: [description] }),
    'signal with empty data': json({ type: 'signal', to: 'p', data: {} }),
    'signal with a bad description type': json({
      type: 'signal',
      to: 'p',
      data: { description: { type: 'pranswer', sdp: 'v=0' } },
    }),
    'signal with a description without sdp': json({
      type: 'signal',
      to: 'p',
      data: { description: { type: 'offer' } },
    }),
    'signal with a numeric sdp': json({ type: 'signal', to: 'p', data: { description: { type: 'offer', sdp: 1 } } }),
    'signal with a string description': json({ type: 'signal', to: 'p', data: { description: 'v=0' } }),
    'signal with an over-long sdp': json({
      type: 'signal',
      to: 'p',
      data: { description: { type: 'offer', sdp: 's'.repeat(LIMITS.sdp + 1) } },
    }),
    'signal with a string candidate': json({ type: 'signal', to: 'p', data: { candidate: 'candidate:1' } }),
    'signal with a candidate without candidate': json({
      type: 'signal',
      to: 'p',
      data: { candidate: { sdpMid: '0' } },
    }),
    'signal with an over-long candidate': json({
      type: 'signal',
      to: 'p',
      data: { candidate: { candidate: 'c'.repeat(LIMITS.candidate + 1) } },
    }),
    'signal with a numeric sdpMid': json({
      type: 'signal',
      to: 'p',
      data: { candidate: { candidate: 'c', sdpMid: 0 } },
    }),
    'signal with a negative sdpMLineIndex': json({
      type: 'signal',
      to: 'p',
      data: { candidate: { candidate: 'c', sdpMLineIndex: -1 } },
    }),
    'signal with a fractional sdpMLineIndex': json({
      type: 'signal',
      to: 'p',
      data: { candidate: { candidate: 'c', sdpMLineIndex: 0.5 } },
    }),
    'signal with a string sdpMLineIndex': json({
      type: 'signal',
      to: 'p',
      data: { candidate: { candidate: 'c', sdpMLineIndex: '0' } },
    }),
    'signal with a numeric usernameFragment': json({
      type: 'signal',
      to: 'p',
      data: { candidate: { candidate: 'c', usernameFragment: 1 } },
    }),
    'a message over LIMITS.message': json({ type: 'leave', pad: 'x'.repeat(LIMITS.message) }),
  };
  for (const [name, text] of Object.entries(cases)) {
    test(name, () => refused(parseClientMessage(text)));
  }

  test('non-string input (a Buffer, an object, undefined)', () => {
    refused(parseClientMessage(Buffer.from(json({ type: 'leave' }))));
    refused(parseClientMessage({ type: 'leave' }));
    refused(parseClientMessage(undefined));
  });

  test('the error names the offending field', () => {
    assert.match(refused(parseClientMessage(json({ type: 'join', room: 'r'.repeat(LIMITS.room + 1) }))), /room/);
    assert.match(refused(parseClientMessage(json({ type: 'nope' }))), /nope/);
  });
});

describe('parseClientMessage: the result is a fresh object', () => {
  test('a signal, relayed verbatim, may hold no field the schema does not know, at any level', () => {
    const refusals = [
      [
        { type: 'signal', to: 'p', from: 'spoofed', data: { description } },
        /a "signal" message has an unknown field "from"/,
      ],
      [
        { type: 'signal', to: 'p', data: { description: { ...description, extra: 2 } } },
        /"description" has an unknown field "extra"/,
      ],
      [{ type: 'signal', to: 'p', data: { description, extra: 3 } }, /"data" needs exactly one of/],
      [{ type: 'signal', to: 'p', data: { description, candidate: null } }, /"data" needs exactly one of/],
      [
        { type: 'signal', to: 'p', data: { candidate: { candidate: 'c', foo: 1 } } },
        /"candidate" has an unknown field "foo"/,
      ],
      [{ type: 'signal', to: 'p', data: { offer: 1 } }, /"data" has an unknown field "offer"/],
    ];
    for (const [message, error] of refusals) assert.match(refused(parseClientMessage(json(message))), error);
    // What it does allow, all of it.
    const full = { candidate: 'c', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u' };
    assert.deepEqual(
      ok(parseClientMessage(json({ type: 'signal', to: 'p', seq: 1, data: { candidate: full } }))).data,
      {
        candidate: full,
      },
    );
  });

  test('other messages are not relayed: their extra keys are dropped', () => {
    const join = ok(parseClientMessage(json({ type: 'join', room: 'r', id: 'chosen-by-me', admin: true })));
    assert.deepEqual(join, { type: 'join', room: 'r' });
  });

  test('__proto__ and constructor keys are not copied and do not pollute Object.prototype', () => {
    const texts = [
      '{"type":"join","room":"r","__proto__":{"polluted":"yes","type":"leave"}}',
      '{"type":"join","room":"r","constructor":{"prototype":{"polluted":"yes"}}}',
      '{"type":"leave","__proto__":{"polluted":"yes"}}',
    ];
    for (const text of texts) {
      const message = ok(parseClientMessage(text));
      for (const object of [message]) {
        assert.equal(Object.getPrototypeOf(object), Object.prototype, text);
        assert.equal(Object.hasOwn(object, '__proto__'), false, text);
        assert.equal(Object.hasOwn(object, 'constructor'), false, text);
        assert.equal(object.polluted, undefined, text);
      }
      assert.equal({}.polluted, undefined, `Object.prototype polluted by ${text}`);
    }
    // In a signal, relayed verbatim, such a key is refused outright.
    const signals = [
      '{"type":"signal","to":"p","__proto__":{"polluted":"yes"},"data":{"candidate":null}}',
      '{"type":"signal","to":"p","data":{"description":{"type":"offer","sdp":"v=0","__proto__":{"polluted":"yes"}}}}',
      '{"type":"signal","to":"p","data":{"candidate":{"candidate":"c","constructor":{"prototype":{"polluted":"yes"}}}}}',
      '{"type":"signal","to":"p","data":{"candidate":null,"__proto__":{"polluted":"yes"}}}',
    ];
    for (const text of signals) assert.match(refused(parseClientMessage(text)), /unknown field|exactly one/, text);
    assert.equal({}.polluted, undefined);
  });

  test('a __proto__ key cannot smuggle in a type', () => {
    // JSON.parse makes "__proto__" an own key, so `type` is not inherited from it.
    refused(parseClientMessage('{"__proto__":{"type":"join","room":"r"}}'));
    refused(
      parseClientMessage('{"type":"signal","to":"p","data":{"__proto__":{"description":{"type":"offer","sdp":"x"}}}}'),
    );
  });

  test('nested objects are copies, not the parsed input', () => {
    const text = json({ type: 'signal', to: 'p', data: { description } });
    const a = ok(parseClientMessage(text));
    const b = ok(parseClientMessage(text));
    assert.notEqual(a.data, b.data);
    assert.notEqual(a.data.description, b.data.description);
  });
});

describe('parseServerMessage', () => {
  test('joined', () => {
    const input = {
      type: 'joined',
      room: 'r',
      id: 'me',
      peers: [{ id: 'p1', name: 'Ada', extra: 1 }],
      polite: false,
      iceServers: [{ urls: ['stun:stun.example.org'], username: 'u', credential: 'c', extra: 1 }],
      secret: 's3cret',
    };
    assert.deepEqual(ok(parseServerMessage(json(input))), {
      type: 'joined',
      room: 'r',
      id: 'me',
      peers: [{ id: 'p1', name: 'Ada' }],
      polite: false,
      iceServers: [{ urls: ['stun:stun.example.org'], username: 'u', credential: 'c' }],
      secret: 's3cret',
    });
  });

  test('joined without iceServers gets an empty list; polite is a strict boolean', () => {
    const message = ok(
      parseServerMessage(json({ type: 'joined', room: 'r', id: 'me', peers: [], polite: 'yes', secret: 's' })),
    );
    assert.deepEqual(message.iceServers, []);
    assert.equal(message.polite, false);
  });

  test('peer-joined, peer-left, signal, error', () => {
    assert.deepEqual(ok(parseServerMessage(json({ type: 'peer-joined', id: 'p', name: 'Bo', polite: true }))), {
      type: 'peer-joined',
      id: 'p',
      name: 'Bo',
      polite: true,
    });
    assert.deepEqual(ok(parseServerMessage(json({ type: 'peer-left', id: 'p', name: 'Bo' }))), {
      type: 'peer-left',
      id: 'p',
      name: 'Bo',
    });
    // A relayed signal is the sender's message verbatim, in an envelope with `from`.
    const sent = { type: 'signal', to: 'me', data: { candidate: null } };
    assert.deepEqual(ok(parseServerMessage(json({ type: 'signal', from: 'p', signal: sent, seq: 4 }))), {
      type: 'signal',
      from: 'p',
      data: { candidate: null },
      seq: 4,
    });
    assert.equal(
      ok(parseServerMessage(relayedSignalText('p', json(sent)))).from,
      'p',
      'relayedSignalText() makes what the element reads',
    );
    refused(parseServerMessage(json({ type: 'signal', from: 'p', data: { candidate: null } })));
    for (const code of ['room-full', 'unauthorized', 'protocol', 'rate-limited']) {
      assert.deepEqual(ok(parseServerMessage(json({ type: 'error', code, message: 'm' }))), {
        type: 'error',
        code,
        message: 'm',
      });
    }
  });

  const cases = {
    'malformed JSON': '{',
    'an array': '[]',
    'unknown type': json({ type: 'welcome' }),
    'a client message type': json({ type: 'join', room: 'r' }),
    'joined without peers': json({ type: 'joined', room: 'r', id: 'me' }),
    'joined with an empty id': json({ type: 'joined', room: 'r', id: '', peers: [] }),
    'joined with a bad peer': json({ type: 'joined', room: 'r', id: 'me', peers: ['p1'] }),
    'joined with a peer without a name': json({ type: 'joined', room: 'r', id: 'me', peers: [{ id: 'p' }] }),
    'joined with non-array iceServers': json({ type: 'joined', room: 'r', id: 'me', peers: [], iceServers: {} }),
    'joined with an ICE server without urls': json({
      type: 'joined',
      room: 'r',
      id: 'me',
      peers: [],
      iceServers: [{}],
    }),
    'joined with numeric ICE urls': json({
      type: 'joined',
      room: 'r',
      id: 'me',
      peers: [],
      iceServers: [{ urls: [1] }],
    }),
    'signal without from': json({ type: 'signal', data: { candidate: null } }),
    'signal with bad data': json({ type: 'signal', from: 'p', data: { offer: 'x' } }),
    'error with an unknown code': json({ type: 'error', code: 'teapot', message: 'm' }),
    'error without a message': json({ type: 'error', code: 'protocol' }),
    'peer-left without id': json({ type: 'peer-left', name: 'Bo' }),
  };
  for (const [name, text] of Object.entries(cases)) {
    test(`refuses ${name}`, () => refused(parseServerMessage(text)));
  }

  test('__proto__ in a server message does not pollute', () => {
    const message = ok(
      parseServerMessage('{"type":"peer-joined","id":"p","name":"n","__proto__":{"polluted":"yes"},"polite":true}'),
    );
    assert.equal(Object.getPrototypeOf(message), Object.prototype);
    assert.equal(message.polluted, undefined);
    assert.equal({}.polluted, undefined);
  });
});
