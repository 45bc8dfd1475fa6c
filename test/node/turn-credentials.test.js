/**
 * Short-lived TURN credentials issued by our server (TURN_SECRET, TURN_URLS), checked by a real
 * coturn started with the same secret (`use-auth-secret`): a relay-only call between two
 * Chromium browsers that were given no ICE servers of their own, and an expired credential that
 * coturn refuses.
 *
 * Needs `npm run build` first, and coturn (`apt-get install -y coturn`).
 * Run: node --test --test-concurrency=1 test/node/turn-credentials.test.js
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { turnCredentials } from '../../lib/server/index.js';
import {
  expectMediaFlowing,
  launchBrowsers,
  launchChromium,
  startCoturn,
  startServers,
  uniqueRoom,
} from './browser-harness.js';

/** In the page: gathers candidates for `iceServer` with relay only; what came, and the errors. */
async function gather(iceServer) {
  const pc = new RTCPeerConnection({ iceServers: [iceServer], iceTransportPolicy: 'relay' });
  const candidates = [];
  const errors = [];
  pc.onicecandidate = ({ candidate }) => candidate && candidates.push(candidate.type);
  pc.onicecandidateerror = (event) => errors.push(event.errorCode);
  pc.createDataChannel('probe');
  await pc.setLocalDescription();
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
    setTimeout(resolve, 10_000);
  });
  pc.close();
  return { candidates, errors };
}

test(
  'a relay-only call with TURN credentials from the server, checked by a real coturn',
  { timeout: 90_000 },
  async (t) => {
    const secret = randomBytes(24).toString('hex');
    const coturn = await startCoturn({ authSecret: secret, verbose: true });
    t.after(() => coturn.stop());
    const { server, pages } = await startServers(t, {
      env: { TURN_SECRET: secret, TURN_URLS: coturn.url, TURN_TTL: '600' },
    });
    const room = uniqueRoom('turn');
    const [ada, bob] = await launchBrowsers(t, [
      () => launchChromium({ label: 'A (Ada)' }),
      () => launchChromium({ label: 'B (Bob)' }),
    ]);
    // No ice-servers attribute: the relay and its credentials come from the server only.
    const attributes = { 'ice-transport-policy': 'relay' };
    const a = await ada.open(pages.pageUrl({ room, name: 'Ada', attributes }));
    const b = await bob.open(pages.pageUrl({ room, name: 'Bob', attributes }));
    await Promise.all([a.armFrames(), b.armFrames()]);
    const startedAt = Math.floor(Date.now() / 1000);
    await a.call();
    await a.waitForState('waiting');
    await b.call();
    await expectMediaFlowing([a, b], { frames: 10 });
    for (const page of [a, b]) {
      const pair = await page.selectedCandidatePair();
      assert.equal(pair.local, 'relay', `${page.label}: ${JSON.stringify(pair)}`);
      assert.equal(pair.remote, 'relay', `${page.label}: ${JSON.stringify(pair)}`);
      // The element's own ice-servers were empty: what it uses is the server's.
      const servers = await page.evaluate(
        () => document.querySelector('rtc-call').connections[0].getConfiguration().iceServers,
      );
      // The server's own STUN, then the relay with this peer's credentials.
      assert.equal(servers.length, 2);
      assert.deepEqual(servers[0].urls, [`stun:127.0.0.1:${new URL(server.url).port}`]);
      assert.deepEqual(servers[1].urls, [coturn.url]);
      const [expiry, peerId] = servers[1].username.split(':');
      assert.ok(Number(expiry) >= startedAt + 600 && Number(expiry) <= startedAt + 660, servers[0].username);
      assert.match(peerId, /^[A-Za-z0-9_-]{22}$/);
      // coturn made an allocation for exactly that username.
      assert.match(
        coturn.output(),
        new RegExp(`user <${servers[1].username}>: incoming packet ALLOCATE processed, success`),
      );
    }
    assert.ok(!server.output().includes(secret), 'the server printed the TURN secret');
  },
);

test('coturn refuses an expired credential, and takes a fresh one', { timeout: 60_000 }, async (t) => {
  const secret = randomBytes(24).toString('hex');
  const coturn = await startCoturn({ authSecret: secret, verbose: true });
  t.after(() => coturn.stop());
  const { pages } = await startServers(t);
  const [browser] = await launchBrowsers(t, [() => launchChromium({ label: 'gatherer' })]);
  const page = await browser.open(pages.pageUrl({ room: uniqueRoom('turn'), name: 'x' }));
  const now = Math.floor(Date.now() / 1000);
  const expired = turnCredentials(secret, [coturn.url], 'expired-peer', { ttlSeconds: 60, now: now - 3600 });
  const fresh = turnCredentials(secret, [coturn.url], 'fresh-peer', { ttlSeconds: 60, now });

  const refused = await page.evaluate(gather, expired);
  assert.deepEqual(refused.candidates, [], JSON.stringify(refused));
  assert.ok(refused.errors.includes(401), `expected a 401 from coturn: ${JSON.stringify(refused)}`);
  assert.match(
    coturn.output(),
    new RegExp(`user <${expired.username}>: incoming packet message processed, error 401: Unauthorized`),
  );

  const admitted = await page.evaluate(gather, fresh);
  assert.ok(admitted.candidates.includes('relay'), JSON.stringify(admitted));
  assert.match(coturn.output(), new RegExp(`user <${fresh.username}>: incoming packet ALLOCATE processed, success`));
});
