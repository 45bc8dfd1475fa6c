/**
 * The lobby, on the wire and in real browsers: someone who joins a room whose member has `lobby`
 * knocks, and until they are let in the server relays nothing between them, neither learns the
 * other's id or name, and the host's element sends nothing. Admit, decline, a knock nobody
 * answers, either order of arrival, across two servers sharing a real Redis, and a resume that
 * does not knock again. Prints the knock → admitted → first frame time as `figure:` lines.
 *
 * Needs `npm run build` first, Chromium, and redis-server for the Redis part.
 * Run: node --test --test-concurrency=1 test/node/lobby.test.js
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  expectMediaFlowing,
  launchBrowsers,
  launchChromium,
  median,
  startPageServer,
  startRtcServer,
  startServers,
  startTcpProxy,
  uniqueRoom,
} from './browser-harness.js';
import { SKIP, startRedis } from './redis-server.js';
import { Client, setup } from './signal-client.js';

const SIGNAL = { candidate: { candidate: 'candidate:1 1 udp 1 192.0.2.1 9 typ host', sdpMid: '0' } };

function figure(label, ms) {
  console.log(`figure: ${label}: ${Math.round(ms)} ms`);
}

/** Joins `room` on `server` (a running server or its URL) with these fields; returns the client and its `joined`. */
async function join(t, server, room, name, fields = {}) {
  const client = await Client.open(t, server);
  client.send({ type: 'join', room, name, ...fields });
  const joined = await client.next();
  assert.equal(joined.type, 'joined', JSON.stringify(joined));
  return { client, joined };
}

/**
 * The host (with `lobby`) and a guest who knocks; each side has seen what it is told at the
 * knock. `order`: who is in the room first.
 */
async function knock(t, [hostServer, guestServer], { order = 'host-first' } = {}) {
  const room = uniqueRoom('lobby');
  const enter = {
    host: () => join(t, hostServer, room, 'Host', { lobby: true }),
    guest: () => join(t, guestServer, room, 'Guest'),
  };
  const first = order === 'host-first' ? await enter.host() : await enter.guest();
  const second = order === 'host-first' ? await enter.guest() : await enter.host();
  const [host, guest] = order === 'host-first' ? [first, second] : [second, first];
  // Neither is named to the other: the host hears a knock, the guest that it waits.
  const knocked = await host.client.next('knock');
  assert.deepEqual(knocked, { type: 'knock', id: guest.joined.id, name: 'Guest' });
  assert.deepEqual(await guest.client.next('knocking'), { type: 'knocking' });
  assert.deepEqual(guest.joined.peers, []);
  assert.deepEqual(host.joined.peers, []);
  return { room, host, guest };
}

/** Both sides' signals are dropped: the probe comes back before anything else would. */
async function nothingCrosses({ host, guest }) {
  host.client.send({ type: 'signal', to: guest.joined.id, data: SIGNAL });
  // The guest was never told the host's id; one learned elsewhere (the TURN username) is no way in.
  guest.client.send({ type: 'signal', to: host.joined.id, data: SIGNAL });
  await sleep(200);
  await host.client.expectQuiet();
  await guest.client.expectQuiet();
}

describe('the lobby on the wire', () => {
  for (const order of ['host-first', 'guest-first']) {
    test(`${order}: the guest knocks, nothing passes either way; admitted, both are named and signals pass`, async (t) => {
      const server = await setup(t);
      const lobby = await knock(t, [server, server], { order });
      await nothingCrosses(lobby);
      const { host, guest } = lobby;
      // Only the host can let the guest in: the guest's own answer, or one for a stranger, does nothing.
      guest.client.send({ type: 'admit', id: host.joined.id });
      host.client.send({ type: 'admit', id: 'no-one-by-that-id' });
      await nothingCrosses(lobby);
      host.client.send({ type: 'admit', id: guest.joined.id });
      // The one there first is the polite side, as without a lobby.
      const hostFirst = order === 'host-first';
      assert.deepEqual(await host.client.next('peer-joined'), {
        type: 'peer-joined',
        id: guest.joined.id,
        name: 'Guest',
        polite: hostFirst,
      });
      assert.deepEqual(await guest.client.next('peer-joined'), {
        type: 'peer-joined',
        id: host.joined.id,
        name: 'Host',
        polite: !hostFirst,
      });
      host.client.send({ type: 'signal', to: guest.joined.id, data: SIGNAL });
      assert.deepEqual(await guest.client.next('signal'), { type: 'signal', from: host.joined.id, data: SIGNAL });
      guest.client.send({ type: 'signal', to: host.joined.id, data: SIGNAL });
      assert.deepEqual(await host.client.next('signal'), { type: 'signal', from: guest.joined.id, data: SIGNAL });
      // Let in once is let in: the host leaving and a new host coming is a new knock.
      guest.client.send({ type: 'leave' });
      assert.equal((await host.client.next('peer-left')).id, guest.joined.id);
    });
  }

  test('declined: the guest hears `declined` and is out of the room (its seat free); the host hears it left', async (t) => {
    const server = await setup(t);
    const { room, host, guest } = await knock(t, [server, server]);
    host.client.send({ type: 'decline', id: guest.joined.id });
    const refusal = await guest.client.expectError('declined');
    assert.match(refusal.message, /not let in/);
    assert.deepEqual(await host.client.next('peer-left'), { type: 'peer-left', id: guest.joined.id, name: 'Guest' });
    // Its seat is free: someone else can knock.
    const next = await join(t, server, room, 'Next');
    assert.equal((await host.client.next('knock')).id, next.joined.id);
    await guest.client.expectQuiet();
  });

  test('a knock nobody answers is turned away after KNOCK_TIMEOUT_MS', async (t) => {
    const server = await setup(t, { knockTimeoutMs: 1000 });
    const { host, guest } = await knock(t, [server, server]);
    const started = Date.now();
    const refusal = await guest.client.expectError('declined');
    assert.match(refusal.message, /nobody let you in within 1 s/);
    assert.ok(Date.now() - started >= 800, `turned away after ${Date.now() - started} ms`);
    assert.equal((await host.client.next('peer-left')).id, guest.joined.id);
  });

  test('a knock that leaves: the host hears it gone; the host leaving: the guest is told nothing', async (t) => {
    const server = await setup(t);
    const first = await knock(t, [server, server]);
    first.guest.client.send({ type: 'leave' });
    assert.equal((await first.host.client.next('peer-left')).id, first.guest.joined.id);
    const second = await knock(t, [server, server]);
    second.host.client.send({ type: 'leave' });
    await sleep(200);
    await second.guest.client.expectQuiet();
  });

  test('a resumed seat keeps its place: admitted stays admitted, a knock stays a knock', async (t) => {
    const server = await setup(t, { resumeGraceMs: 10_000 });
    const { room, host, guest } = await knock(t, [server, server]);
    // Still knocking: back on a new socket, it is still not let in, and the host is not knocked at again.
    guest.client.ws.terminate();
    const back = await Client.open(t, server);
    back.send({
      type: 'join',
      room,
      name: 'Guest',
      resume: { id: guest.joined.id, secret: guest.joined.secret, received: Math.max(...guest.client.seqs) },
    });
    assert.equal((await back.next()).type, 'resumed');
    host.client.send({ type: 'signal', to: guest.joined.id, data: SIGNAL });
    await sleep(100);
    await back.expectQuiet();
    host.client.send({ type: 'admit', id: guest.joined.id });
    assert.equal((await back.next('peer-joined')).id, host.joined.id);
    assert.equal((await host.client.next('peer-joined')).id, guest.joined.id);
    // Admitted, it resumes again: no knock, and signals pass.
    back.ws.terminate();
    const again = await Client.open(t, server);
    again.send({
      type: 'join',
      room,
      name: 'Guest',
      resume: { id: guest.joined.id, secret: guest.joined.secret, received: Math.max(...back.seqs) },
    });
    assert.equal((await again.next()).type, 'resumed');
    host.client.send({ type: 'signal', to: guest.joined.id, data: SIGNAL });
    assert.equal((await again.next('signal')).from, host.joined.id);
    await host.client.expectQuiet();
  });

  test('without lobby on either side, nothing changes: peers named at once', async (t) => {
    const server = await setup(t);
    const room = uniqueRoom('lobby');
    const a = await join(t, server, room, 'A');
    const b = await join(t, server, room, 'B');
    assert.deepEqual(b.joined.peers, [{ id: a.joined.id, name: 'A' }]);
    assert.equal((await a.client.next('peer-joined')).id, b.joined.id);
  });

  test('`lobby` must be a boolean', async (t) => {
    const server = await setup(t);
    const client = await Client.open(t, server);
    client.send({ type: 'join', room: 'r', lobby: 'yes' });
    const error = await client.expectError('protocol');
    assert.match(error.message, /lobby/);
  });
});

describe('the lobby across two servers sharing Redis', { skip: SKIP }, () => {
  test('host on one server, guest on the other: knock, nothing crosses, admit; and decline', async (t) => {
    const redis = await startRedis(t);
    const servers = await Promise.all([1, 2].map(() => setup(t, { redisUrl: redis.url })));
    const lobby = await knock(t, servers);
    await nothingCrosses(lobby);
    const { host, guest } = lobby;
    host.client.send({ type: 'admit', id: guest.joined.id });
    assert.equal((await host.client.next('peer-joined')).id, guest.joined.id);
    assert.equal((await guest.client.next('peer-joined')).name, 'Host');
    host.client.send({ type: 'signal', to: guest.joined.id, data: SIGNAL });
    assert.equal((await guest.client.next('signal')).from, host.joined.id);

    const other = await knock(t, [servers[1], servers[0]], { order: 'guest-first' });
    other.host.client.send({ type: 'decline', id: other.guest.joined.id });
    await other.guest.client.expectError('declined');
    assert.equal((await other.host.client.next('peer-left')).id, other.guest.joined.id);
  });
});

// --- In real browsers -------------------------------------------------------------------------

/** Clicks a lobby button in the host's element by keyboard: Tab to it, then Enter. */
async function pressInLobby(page, part) {
  const button = page.page.locator('rtc-call').locator(`[part="${part}"]`);
  await button.focus();
  await page.page.keyboard.press('Enter');
}

/**
 * A host page with `lobby` (on `hostPages`) and a guest page (on `guestPages`), each in its own
 * Chromium: the host waits in the room, the guest has knocked; `knock` is the host's
 * `rtc-call-knock` detail.
 */
async function knockInBrowsers(t, hostPages, guestPages = hostPages, guestAttributes = {}) {
  const room = uniqueRoom('lobby');
  const [hostBrowser, guestBrowser] = await launchBrowsers(t, [
    () => launchChromium({ label: 'host' }),
    () => launchChromium({ label: 'guest' }),
  ]);
  const host = await hostBrowser.open(hostPages.pageUrl({ room, name: 'Host', attributes: { lobby: '' } }));
  const guest = await guestBrowser.open(guestPages.pageUrl({ room, name: 'Guest', attributes: guestAttributes }));
  await Promise.all([host.armFrames(), guest.armFrames()]);
  await host.call();
  await host.waitForState('waiting');
  await guest.call();
  const { detail: knock } = await host.nextEvent('rtc-call-knock');
  return { host, guest, knock };
}

describe('the lobby in the element', () => {
  test('a raw client knocking at an element with lobby gets no signal and no name; the element shows the knock', async (t) => {
    const { server, pages } = await startServers(t);
    const room = uniqueRoom('lobby');
    const [browser] = await launchBrowsers(t, [() => launchChromium({ label: 'host' })]);
    const host = await browser.open(pages.pageUrl({ room, name: 'Host', attributes: { lobby: '' } }));
    await host.call();
    await host.waitForState('waiting');
    const stranger = await join(t, server.url, room, 'Mallory');
    assert.deepEqual(stranger.joined.peers, []);
    assert.deepEqual(await stranger.client.next('knocking'), { type: 'knocking' });
    const knockEvent = await host.nextEvent('rtc-call-knock');
    assert.deepEqual(knockEvent.detail, { peerId: stranger.joined.id, name: 'Mallory' });
    // The element had its offer ready for whoever comes: it waits, and the wire stays empty.
    await sleep(1500);
    await stranger.client.expectQuiet();
    assert.equal(await host.state(), 'waiting');
    assert.deepEqual(await host.evaluate(() => document.querySelector('rtc-call').knocks), [
      { peerId: stranger.joined.id, name: 'Mallory' },
    ]);
    const shown = await host.evaluate(() =>
      document
        .querySelector('rtc-call')
        .shadowRoot.querySelector('[part="knock"]')
        .textContent.replace(/\s+/g, ' ')
        .trim(),
    );
    assert.equal(shown, 'Mallory wants to join Admit Decline');
    // Declined by keyboard: the stranger is told, the knock goes from the element.
    await pressInLobby(host, 'decline-button');
    await stranger.client.expectError('declined');
    await host.waitFor(() => document.querySelector('rtc-call').knocks.length === 0, undefined, { what: 'no knock' });
    assert.equal((await host.events('rtc-call-peer-left'))[0]?.detail.peerId, stranger.joined.id);
    // Admitting someone who is not there is a clear error, not a call.
    const refused = await host.evaluate(() =>
      document
        .querySelector('rtc-call')
        .admit('nobody')
        .then(
          () => null,
          (error) => error.code,
        ),
    );
    assert.equal(refused, 'bad-config');
  });

  test('two browsers: knock, admit by keyboard → connected with frames; the guest waited with a status line', async (t) => {
    const { pages } = await startServers(t);
    const [hostBrowser, guestBrowser] = await launchBrowsers(t, [
      () => launchChromium({ label: 'host' }),
      () => launchChromium({ label: 'guest' }),
    ]);
    const times = [];
    for (let round = 0; round < 3; round++) {
      const room = uniqueRoom('lobby');
      const host = await hostBrowser.open(pages.pageUrl({ room, name: 'Host', attributes: { lobby: '' } }));
      const guest = await guestBrowser.open(pages.pageUrl({ room, name: 'Guest' }));
      await Promise.all([host.armFrames(), guest.armFrames()]);
      await host.call();
      await host.waitForState('waiting');
      await guest.call();
      const knocked = await host.nextEvent('rtc-call-knock');
      assert.equal(knocked.detail.name, 'Guest');
      await guest.waitFor(
        () =>
          /let you in/.test(
            document.querySelector('rtc-call').shadowRoot.querySelector('[part~="status"]').textContent,
          ),
        undefined,
        {
          what: 'the knocking status line',
        },
      );
      assert.equal(await guest.state(), 'waiting');
      // Nothing of the host's reached the guest: no peer, no stream.
      assert.deepEqual(await guest.events('rtc-call-peer-joined'), []);
      assert.deepEqual(await guest.events('rtc-call-remote-stream'), []);
      // Nor has the host a connection to the guest: its prepared offer stays with it.
      assert.equal(await host.evaluate(() => document.querySelector('rtc-call').connections.length), 0);
      const admittedAt = await host.evaluate(() => performance.timeOrigin + performance.now());
      await pressInLobby(host, 'admit-button');
      await expectMediaFlowing([host, guest], { frames: 5 });
      const first = await guest.evaluate(() => performance.timeOrigin + window.__rtc.frames.firstAt);
      times.push(first - admittedAt);
      assert.equal((await guest.events('rtc-call-peer-joined'))[0].detail.name, 'Host');
      assert.equal((await host.events('rtc-call-peer-joined'))[0].detail.name, 'Guest');
      assert.deepEqual(await host.evaluate(() => document.querySelector('rtc-call').knocks), []);
      await host.close();
      await guest.close();
    }
    figure('admit → first frame at the guest (median of 3)', median(times));
  });

  test('declined in the element: failed with `declined`, said in the element', async (t) => {
    const { pages } = await startServers(t);
    const { host, guest, knock } = await knockInBrowsers(t, pages);
    await host.evaluate((id) => document.querySelector('rtc-call').decline(id), knock.peerId);
    await guest.waitForState('failed');
    const error = await guest.nextEvent('rtc-call-error');
    assert.equal(error.detail.code, 'declined');
    assert.match(await guest.statusText(), /Not let in/);
    assert.equal(await host.state(), 'waiting');
  });

  test('a knock nobody answers: the guest fails with `declined` after KNOCK_TIMEOUT_MS', async (t) => {
    const { pages } = await startServers(t, { env: { KNOCK_TIMEOUT_MS: '2000' } });
    const { host, guest } = await knockInBrowsers(t, pages);
    await guest.waitForState('failed', 10_000);
    assert.equal((await guest.nextEvent('rtc-call-error')).detail.code, 'declined');
    assert.match(await guest.statusText(), /nobody let you in within 2 s/);
    await host.waitFor(() => document.querySelector('rtc-call').knocks.length === 0, undefined, {
      what: 'the knock gone',
    });
  });

  test('across two servers over Redis: knock on one, admit → connected with frames', { skip: SKIP }, async (t) => {
    const redis = await startRedis(t);
    const [one, two] = await Promise.all(
      [1, 2].map(async () => {
        const server = await startRtcServer({ env: { REDIS_URL: redis.url } });
        t.after(() => server.stop().catch(() => {}));
        const pages = await startPageServer({ bundleUrl: server.bundleUrl });
        t.after(() => pages.close());
        return pages;
      }),
    );
    // The host on server one, the guest on server two.
    const { host, guest, knock } = await knockInBrowsers(t, one, two);
    assert.equal(knock.name, 'Guest');
    await sleep(500);
    assert.deepEqual(await guest.events('rtc-call-peer-joined'), []);
    await host.evaluate((id) => document.querySelector('rtc-call').admit(id), knock.peerId);
    await expectMediaFlowing([host, guest], { frames: 5 });
  });

  test('resume: the admitted guest loses its signaling socket and comes back on the same seat; no new knock', async (t) => {
    const { server, pages } = await startServers(t);
    const proxy = await startTcpProxy({ targetPort: server.port });
    t.after(() => proxy.close());
    const { host, guest, knock } = await knockInBrowsers(t, pages, pages, { 'signaling-url': proxy.signalUrl });
    await host.evaluate((id) => document.querySelector('rtc-call').admit(id), knock.peerId);
    await expectMediaFlowing([host, guest], { frames: 5 });
    await guest.trackStatus();
    const before = proxy.connections.length;
    proxy.drop();
    // Back on a new socket, the same seat: the status line said so, and nothing else happened.
    await guest.waitFor(() => window.__rtc.status?.some((s) => /reconnecting/i.test(s.text)), undefined, {
      what: 'the reconnecting status',
    });
    await guest.waitFor(
      () =>
        document.querySelector('rtc-call').state === 'connected' &&
        !/reconnecting/i.test(
          document.querySelector('rtc-call').shadowRoot.querySelector('[part~="status"]').textContent,
        ),
      undefined,
      {
        what: 'back to connected',
      },
    );
    assert.ok(proxy.connections.length > before, 'the guest opened a new socket');
    assert.match(proxy.connections.at(-1).fromServer, /"type":"resumed"/);
    assert.equal((await host.events('rtc-call-knock')).length, 1, 'knocked again after a resume');
    assert.deepEqual(await host.events('rtc-call-peer-left'), []);
    const frames = await guest.frameCount();
    await guest.waitForFrames(frames + 5);
  });
});
