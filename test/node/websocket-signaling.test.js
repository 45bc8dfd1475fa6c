// The element's WebSocket signaling client, run in Node against the real server: reconnect,
// resume and re-join, with the `ws` package standing in for the browser's WebSocket.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { WebSocketSignaling } from '../../lib/signaling/websocket.js';
import { startTcpProxy } from './browser-harness.js';
import { setup, withTimeout } from './signal-client.js';

globalThis.WebSocket ??= WebSocket;

const fast = { backoff: { baseMs: 20, capMs: 100, giveUpMs: 5000 }, pingIntervalMs: 200, pongTimeoutMs: 300 };

/** A listener that records what the signaling client reports, with awaitable waits. */
function recorder() {
  const events = [];
  const waiters = [];
  const push = (event) => {
    events.push(event);
    for (const waiter of [...waiters]) {
      if (waiter.match(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  };
  return {
    events,
    listener: {
      joined: (info) => push({ kind: 'joined', ...info }),
      peerJoined: (peer) => push({ kind: 'peerJoined', ...peer }),
      peerLeft: (peer) => push({ kind: 'peerLeft', ...peer }),
      signal: (from, data) => push({ kind: 'signal', from, data }),
      connection: (status) => push({ kind: 'connection', status }),
      error: (error) => push({ kind: 'error', code: error.code, message: error.message }),
    },
    next(match, what) {
      const found = events.find(match);
      if (found) return Promise.resolve(found);
      return withTimeout(new Promise((resolve) => waiters.push({ match, resolve })), what);
    },
  };
}

const offer = (n) => ({ description: { type: 'offer', sdp: `v=0\r\no=- ${n} 1 IN IP4 0.0.0.0\r\n` } });

describe('WebSocketSignaling', () => {
  test("a join refused for its address rate is signaling-unreachable, with the server's wait; the client confirms every 16 messages", async (t) => {
    const server = await setup(t, { joinRate: { burst: 2, perSecond: 0.01 } });
    const url = server.url.replace(/^http/, 'ws') + 'signal';
    const ada = recorder();
    const bob = recorder();
    const a = new WebSocketSignaling(url, { room: 'r', name: 'Ada' }, { pingIntervalMs: 60_000 });
    const b = new WebSocketSignaling(url, { room: 'r', name: 'Bo' }, { pingIntervalMs: 60_000 });
    t.after(() => (a.leave(), b.leave()));
    a.join(ada.listener);
    const aJoined = await ada.next((e) => e.kind === 'joined', 'Ada joined');
    b.join(bob.listener);
    const bJoined = await bob.next((e) => e.kind === 'joined', 'Bo joined');
    // 40 signals to Ada, who pings only once a minute here: her confirms come every 16.
    for (let i = 0; i < 40; i++) b.signal(aJoined.id, offer(i));
    for (let i = 0; i < 40; i++)
      await ada.next((e) => e.kind === 'signal' && e.data.description.sdp === offer(i).description.sdp, `signal ${i}`);
    const deadline = Date.now() + 5000;
    while (server.signaling.replayBytes > 2000 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    // The peer-joined and the 8 signals since the last confirm, at most: not all 41.
    assert.ok(server.signaling.replayBytes < 2000, `${server.signaling.replayBytes} characters kept`);
    // A third join from this address is over the limit.
    const carol = recorder();
    const c = new WebSocketSignaling(url, { room: 'other', name: 'Cy' }, { pingIntervalMs: 60_000 });
    t.after(() => c.leave());
    c.join(carol.listener);
    const refused = await carol.next((e) => e.kind === 'error', 'Cy refused');
    assert.equal(refused.code, 'signaling-unreachable');
    assert.match(
      refused.message,
      /refusing joins from your network for now: too many joins from your address: try again in \d+ s/,
    );
    assert.ok(bJoined.id);
  });

  test('a dropped connection is resumed: same seat, signals sent meanwhile arrive once, in order', async (t) => {
    const server = await setup(t, { resumeGraceMs: 5000 });
    const link = await startTcpProxy({ targetPort: Number(new URL(server.url).port) });
    t.after(() => link.close());
    const ada = recorder();
    const bob = recorder();
    const a = new WebSocketSignaling(link.signalUrl, { room: 'r', name: 'Ada' }, fast);
    const b = new WebSocketSignaling(server.url.replace(/^http/, 'ws') + 'signal', { room: 'r', name: 'Bo' }, fast);
    t.after(() => (a.leave(), b.leave()));
    a.join(ada.listener);
    const aJoined = await ada.next((e) => e.kind === 'joined', 'Ada joined');
    b.join(bob.listener);
    const bJoined = await bob.next((e) => e.kind === 'joined', 'Bo joined');

    link.drop();
    await ada.next((e) => e.kind === 'connection' && e.status === 'reconnecting', 'Ada reconnecting');
    // Sent both ways while Ada is away.
    a.signal(bJoined.id, offer(1));
    a.signal(bJoined.id, offer(2));
    b.signal(aJoined.id, offer(3));
    await ada.next((e) => e.kind === 'connection' && e.status === 'connected', 'Ada back');
    await bob.next((e) => e.kind === 'signal' && e.data.description.sdp.includes(' 2 '), 'second signal');
    await ada.next((e) => e.kind === 'signal', 'signal from Bo');

    assert.deepEqual(
      bob.events.filter((e) => e.kind === 'signal').map((e) => [e.from, e.data]),
      [
        [aJoined.id, offer(1)],
        [aJoined.id, offer(2)],
      ],
    );
    assert.deepEqual(
      ada.events.filter((e) => e.kind === 'signal').map((e) => e.data),
      [offer(3)],
    );
    // A resume, not a re-join: one `joined` each, and nobody left.
    assert.equal(ada.events.filter((e) => e.kind === 'joined').length, 1);
    assert.deepEqual(
      bob.events.filter((e) => e.kind === 'peerLeft' || e.kind === 'error'),
      [],
    );
  });

  test('a server that lost its state: the client re-joins its room without being asked', async (t) => {
    const first = await setup(t);
    const url = first.url.replace(/^http/, 'ws') + 'signal';
    const ada = recorder();
    const a = new WebSocketSignaling(url, { room: 'r', name: 'Ada' }, fast);
    t.after(() => a.leave());
    a.join(ada.listener);
    const joined = await ada.next((e) => e.kind === 'joined', 'joined');
    assert.equal(joined.rejoin, false);
    const { port } = new URL(first.url);
    await first.close();
    await ada.next((e) => e.kind === 'connection' && e.status === 'reconnecting', 'reconnecting');
    await setup(t, { port: Number(port) });
    const again = await ada.next((e) => e.kind === 'joined' && e.rejoin, 're-joined');
    assert.notEqual(again.id, joined.id);
    await ada.next((e) => e.kind === 'connection' && e.status === 'connected', 'connected');
  });

  test('a server that never comes back: signaling-unreachable once the give-up time has passed', async (t) => {
    const server = await setup(t);
    const ada = recorder();
    const a = new WebSocketSignaling(
      server.url.replace(/^http/, 'ws') + 'signal',
      { room: 'r', name: 'Ada' },
      { ...fast, backoff: { baseMs: 20, capMs: 50, giveUpMs: 400 } },
    );
    t.after(() => a.leave());
    a.join(ada.listener);
    await ada.next((e) => e.kind === 'joined', 'joined');
    await server.close();
    const error = await ada.next((e) => e.kind === 'error', 'gave up');
    assert.equal(error.code, 'signaling-unreachable');
    assert.match(error.message, /could not get it back/);
  });

  test('a server that cannot be reached at all fails at once, naming the URL', async (t) => {
    const ada = recorder();
    const a = new WebSocketSignaling('ws://127.0.0.1:9/signal', { room: 'r', name: 'Ada' }, fast);
    t.after(() => a.leave());
    a.join(ada.listener);
    const error = await ada.next((e) => e.kind === 'error', 'error');
    assert.equal(error.code, 'signaling-unreachable');
    assert.match(error.message, /ws:\/\/127\.0\.0\.1:9\/signal/);
  });
});
