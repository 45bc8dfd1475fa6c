/**
 * Calls between two homes, each behind its own NAT router, with the server and coturn on the
 * "public" network between them (netns.js builds it: network namespaces, veth pairs, iptables).
 * One Chromium in each home loads the drop-in page from the server's own origin (its text is
 * handed to the browser; only the bundle and the signaling socket cross the network).
 *
 * Needs root (network namespaces), iproute2 and iptables, coturn: `.ci/run` installs them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { findChromium } from '../../scripts/browsers.mjs';
import {
  callPageHtml,
  expectMediaFlowing,
  launchBrowsers,
  launchChromium,
  startCoturn,
  startRtcServer,
  uniqueRoom,
  withTimeout,
} from './browser-harness.js';
import { HOME_IP, PUBLIC_IP, buildHomes, netnsUnavailable } from './netns.js';

const unavailable = netnsUnavailable();
const options = (timeout) => ({ timeout, ...(unavailable ? { skip: unavailable } : {}) });
const WAN = { a: '203.0.113.2', b: '203.0.113.3' };

/** One figure per line, for the closing note and the README. */
const figure = (what, ms) => console.log(`# netns: ${what}: ${Math.round(ms)} ms`);

/**
 * The two homes (`nat` per side), the project's server in the public namespace (with coturn's
 * TURN settings when `turn`), one Chromium in each home with the drop-in page of the same room
 * (`attributes` on both elements, `attributesB` on B's only). A presses Call first and waits, then
 * B calls. Everything is removed when the test ends, the namespaces too.
 */
async function homes(t, { nat, turn = false, coturn: coturnOptions = {}, attributes = {}, attributesB = {} }) {
  const net = buildHomes({ nat });
  t.after(() => net.close());
  let coturn;
  const env = {};
  if (turn) {
    const secret = randomBytes(16).toString('hex');
    coturn = await startCoturn({
      namespace: net.names.pub,
      ip: PUBLIC_IP,
      authSecret: secret,
      verbose: true,
      ...coturnOptions,
    });
    t.after(() => coturn.stop());
    Object.assign(env, { TURN_SECRET: secret, TURN_URLS: `${coturn.url},${coturn.tcpUrl}` });
  }
  const server = await startRtcServer({ namespace: net.names.pub, args: ['--host', PUBLIC_IP], env });
  t.after(() => server.stop().catch(() => {}));
  const room = uniqueRoom('homes');
  const [browserA, browserB] = await launchBrowsers(
    t,
    ['a', 'b'].map(
      (side) => () =>
        launchChromium({
          label: side.toUpperCase(),
          executablePath: net.chromiumIn(side, findChromium()),
          extraArgs: [`--unsafely-treat-insecure-origin-as-secure=${server.origin}`],
        }),
    ),
  );
  const open = (browser, side, extra) =>
    browser.open(`${server.origin}/call-${side}.html`, {
      html: callPageHtml({
        bundleUrl: server.bundleUrl,
        room,
        name: side.toUpperCase(),
        attributes: { ...attributes, ...extra },
      }),
    });
  const a = await open(browserA, 'a', {});
  const b = await open(browserB, 'b', attributesB);
  for (const page of [a, b]) await page.armFrames();
  await a.call();
  await a.waitForState('waiting');
  await b.call();
  return { net, coturn, server, a, b };
}

/** Call (B's, the second) → `connected` on both and 10 frames each way, in ms. */
async function connectTime(a, b) {
  const [frames] = await expectMediaFlowing([b, a], { frames: 10, timeout: 30_000 });
  return frames.firstAt - frames.calledAt;
}

/** Frames keep coming on both sides: `count` more within `ms`. */
async function keepsFlowing(pages, count = 30, ms = 10_000) {
  const now = await Promise.all(pages.map((page) => page.frameCount()));
  await Promise.all(pages.map((page, i) => page.waitForFrames(now[i] + count, ms)));
}

const framesOf = (page) => page.evaluate(() => ({ ...window.__rtc.frames }));

/** Two homes behind cone NATs with coturn as the deployment guide sets it up (no relaying into private ranges). */
const relayHomes = (t, attributes = {}) =>
  homes(t, {
    nat: { a: 'cone', b: 'cone' },
    turn: true,
    coturn: { deniedPeers: ['192.0.2.0-192.0.2.255'] },
    attributes,
  });

/** The direct path's media stops (STUN still passes): both sides go `reconnecting`, then `connected` again. */
async function freezeUntilConnected(net, pages) {
  await Promise.all(pages.map((page) => page.clearEvents()));
  net.freezeDirectMedia();
  await Promise.all(pages.map((page) => page.waitForState('reconnecting', 10_000)));
  await Promise.all(pages.map((page) => page.waitForState('connected', 20_000)));
}

test(
  'two homes behind cone NATs, no settings: connected through server-reflexive candidates, video both ways',
  options(60_000),
  async (t) => {
    const { a, b, server } = await homes(t, { nat: { a: 'cone', b: 'cone' } });
    const ms = await connectTime(a, b);
    figure('cone NATs, built-in STUN: Call → first remote frame', ms);
    await keepsFlowing([a, b]);
    for (const [side, page] of [
      ['a', a],
      ['b', b],
    ]) {
      const pair = await page.selectedCandidatePair();
      // The only ICE server either side had is the one the server handed out: its own STUN.
      const servers = await page.evaluate(
        () => document.querySelector('rtc-call').connections[0].getConfiguration().iceServers,
      );
      assert.deepEqual(
        servers.flatMap((entry) => [entry.urls].flat()),
        [`stun:${PUBLIC_IP}:${server.port}`],
      );
      assert.ok(
        ['srflx', 'prflx'].includes(pair.local) || ['srflx', 'prflx'].includes(pair.remote),
        `${side}: ${JSON.stringify(pair)}`,
      );
      assert.notEqual(pair.local, 'relay');
      assert.equal(
        pair.localAddress.split(':')[0],
        WAN[side],
        `${side}: the path starts at its router's public address`,
      );
    }
    // Setup time, as the element reports it (Call → first remote frame), and the path's kind.
    const { setupTime, stats } = await b.evaluate(async () => {
      const el = document.querySelector('rtc-call');
      const stats = await new Promise((resolve) =>
        el.addEventListener('rtc-call-stats', (e) => resolve(e.detail), { once: true }),
      );
      return { setupTime: el.setupTime, stats };
    });
    assert.ok(setupTime > 0 && setupTime < 10_000, `setupTime ${setupTime}`);
    assert.equal(stats.setupTime, setupTime);
    assert.equal(stats.path, 'reflexive');
    figure('cone NATs: setupTime the element reports on B', setupTime);
  },
);

test(
  'two homes behind symmetric NATs, server TURN settings, relay policy: connected through coturn',
  options(60_000),
  async (t) => {
    const { a, b, coturn } = await homes(t, {
      nat: { a: 'symmetric', b: 'symmetric' },
      turn: true,
      attributes: { 'ice-transport-policy': 'relay' },
    });
    figure('symmetric NATs, TURN, relay policy: Call → first remote frame', await connectTime(a, b));
    await keepsFlowing([a, b]);
    const ids = [];
    for (const page of [a, b]) {
      const pair = await page.selectedCandidatePair();
      assert.equal(pair.local, 'relay', JSON.stringify(pair));
      assert.equal(pair.localAddress.split(':')[0], PUBLIC_IP);
      ids.push((await page.events('rtc-call-peer-joined'))[0].detail.peerId);
    }
    // coturn allocated for each peer, under the credentials the server issued to it (`expiry:peerId`).
    const allocations = coturn.allocations();
    for (const id of ids)
      assert.ok(
        allocations.some((user) => user.endsWith(`:${id}`)),
        `${id} in ${allocations}`,
      );
  },
);

test(
  'two homes behind symmetric NATs, server TURN settings, default policy: video flows both ways',
  options(90_000),
  async (t) => {
    // coturn as it comes: it ends an allocation whose send to a peer's private host candidate fails
    // ("network unreachable"), so Chromium's first pairs through it freeze while `connected`.
    const { a, b } = await homes(t, { nat: { a: 'symmetric', b: 'symmetric' }, turn: true });
    figure('symmetric NATs, TURN, policy all: Call → first remote frame', await connectTime(a, b));
    // Past the first frames (a path that freezes does so after a few): video keeps coming.
    await Promise.all([a, b].map((page) => page.waitForFrames(60, 40_000)));
    await Promise.all([a, b].map((page) => page.waitForState('connected', 20_000)));
    await keepsFlowing([a, b]);
    for (const page of [a, b]) {
      const frames = await framesOf(page);
      figure(`symmetric NATs, policy all: longest remote video freeze on ${page.label}`, frames.longestGap);
      assert.ok(frames.longestGap < 15_000, `${page.label}: video frozen for ${Math.round(frames.longestGap)} ms`);
      assert.deepEqual(await page.events('rtc-call-error'), []);
    }
  },
);

test(
  'a direct path whose media stops while ICE stays connected: reconnecting, then relays only, video back within 15 s',
  options(90_000),
  async (t) => {
    const { net, a, b } = await relayHomes(t);
    await connectTime(a, b);
    await keepsFlowing([a, b], 20);
    const before = await Promise.all([a, b].map((page) => page.selectedCandidatePair()));
    for (const pair of before) assert.notEqual(pair.local, 'relay', `starts direct: ${JSON.stringify(pair)}`);
    await freezeUntilConnected(net, [a, b]);
    await keepsFlowing([a, b]);
    for (const page of [a, b]) {
      const pair = await page.selectedCandidatePair();
      assert.equal(pair.local, 'relay', `${page.label} moved to the relay: ${JSON.stringify(pair)}`);
      assert.equal(pair.remote, 'relay', `${page.label}: ${JSON.stringify(pair)}`);
      const frames = await framesOf(page);
      figure(`frozen direct path → video flowing again on ${page.label}`, frames.longestGap);
      assert.ok(frames.longestGap < 15_000, `${page.label}: video frozen for ${Math.round(frames.longestGap)} ms`);
      const states = (await page.events('rtc-call-state-change')).map((e) => e.detail.state);
      assert.deepEqual(states, ['reconnecting', 'connected'], page.label);
      assert.deepEqual(await page.events('rtc-call-error'), []);
      assert.deepEqual(await page.events('rtc-call-peer-left'), []);
    }
  },
);

test(
  'an audio-only call whose media stops while ICE stays connected: recovered by its bytes',
  options(90_000),
  async (t) => {
    const { net, a, b } = await relayHomes(t, { constraints: '{"audio":true}' });
    await Promise.all([a, b].map((page) => page.waitForState('connected', 30_000)));
    const audioBytes = (page) =>
      page.evaluate(async () => {
        let bytes = 0;
        (await document.querySelector('rtc-call').connections[0].getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'audio') bytes += r.bytesReceived;
        });
        return bytes;
      });
    const frozenAt = Date.now();
    await freezeUntilConnected(net, [a, b]);
    figure('audio-only: frozen → connected again (slower side)', Date.now() - frozenAt);
    for (const page of [a, b]) {
      const first = await audioBytes(page);
      const deadline = Date.now() + 10_000;
      while ((await audioBytes(page)) < first + 2000) {
        assert.ok(Date.now() < deadline, `${page.label}: no audio arriving again`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal((await page.selectedCandidatePair()).local, 'relay');
    }
  },
);

test(
  'two homes behind symmetric NATs, no TURN: ice-failed within 30 s of Call, saying TURN would help',
  options(60_000),
  async (t) => {
    const { a, b } = await homes(t, { nat: { a: 'symmetric', b: 'symmetric' } });
    // Whichever side gives up first hangs up; the other hears it left and waits for someone else.
    const failed = await Promise.any([a, b].map((page) => page.waitForState('failed', 40_000).then(() => page)));
    const other = failed === a ? b : a;
    const calledAt = await b.evaluate(() => performance.timeOrigin + window.__rtc.calledAt);
    const [error] = await failed.eventsWithEpoch('rtc-call-error');
    figure(`symmetric NATs, no TURN: B's Call → ice-failed on ${failed.label}`, error.epoch - calledAt);
    assert.equal(error.detail.code, 'ice-failed');
    assert.ok(error.epoch - calledAt < 30_000, `${Math.round(error.epoch - calledAt)} ms`);
    assert.match(error.detail.message, /TURN_SECRET and TURN_URLS/);
    assert.match(error.detail.message, /ice-servers/);
    assert.match(await failed.statusText(), /TURN/);
    // The other side failed too, or heard the first one leave and waits for the next.
    await other.waitFor(() => ['failed', 'waiting'].includes(document.querySelector('rtc-call').state), undefined, {
      what: 'failed or waiting',
      timeout: 10_000,
    });
  },
);

test(
  'one home behind a symmetric NAT, the other behind a cone NAT, server TURN settings: video both ways',
  options(60_000),
  async (t) => {
    const { a, b } = await homes(t, { nat: { a: 'symmetric', b: 'cone' }, turn: true });
    figure('symmetric + cone NATs, TURN: Call → first remote frame', await connectTime(a, b));
    await keepsFlowing([a, b]);
    for (const page of [a, b]) {
      const frames = await framesOf(page);
      assert.ok(frames.longestGap < 15_000, `${page.label}: video frozen for ${Math.round(frames.longestGap)} ms`);
    }
  },
);

test(
  "the built-in STUN responder, asked from a home: the mapped address is the router's",
  options(30_000),
  async (t) => {
    const net = buildHomes({ nat: { a: 'symmetric', b: 'cone' } });
    t.after(() => net.close());
    const server = await startRtcServer({ namespace: net.names.pub, args: ['--host', PUBLIC_IP] });
    t.after(() => server.stop().catch(() => {}));
    const client = fileURLToPath(new URL('stun-client.js', import.meta.url));
    for (const side of ['a', 'b']) {
      const probe = spawnSync(
        'ip',
        ['netns', 'exec', net.names[side], process.execPath, client, PUBLIC_IP, String(server.port), '5000'],
        {
          encoding: 'utf8',
          timeout: 10_000,
        },
      );
      assert.equal(probe.status, 0, probe.stderr);
      const answer = JSON.parse(probe.stdout);
      assert.equal(answer.address, WAN[side], `home ${side} behind ${HOME_IP}: ${probe.stdout}`);
      assert.ok(answer.port > 0);
    }
    await withTimeout(server.stop(), 10_000, 'server stop');
  },
);
