/**
 * Faults, end to end, with real processes only: the server's bin as a child process, separate
 * headless Chromium browsers, a TCP proxy that cuts or blackholes the signaling connections, a
 * SIGKILLed and restarted server, a SIGSTOPped browser, and a real coturn relay that is stopped
 * and resumed. Each measured figure is printed as `figure: <what>: <n> ms` (`# figure: …` in TAP).
 *
 * Needs `npm run build` first, and coturn (`apt-get install -y coturn`).
 * Run: node --test --test-concurrency=1 test/node/faults.test.js
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import {
  axeViolations,
  expectMediaFlowing,
  launchBrowsers,
  launchChromium,
  launchFreezableChromium,
  median,
  startCoturn,
  startRtcServer,
  startTcpProxy,
  uniqueRoom,
  withTimeout,
  startServers,
} from './browser-harness.js';

const RECONNECTING = 'Signaling connection lost — reconnecting…';

function figure(label, ms) {
  console.log(`figure: ${label}: ${Math.round(ms)} ms`);
}

/**
 * Two browsers in one room, in a call with media flowing both ways; each page keeps its status
 * line history and the gaps between its remote frames.
 */
async function establishCall(t, pages, { attributes = {}, launchA = launchChromium, launchB = launchChromium } = {}) {
  const room = uniqueRoom('faults');
  const [ada, bob] = await launchBrowsers(t, [
    () => launchA({ label: 'A (Ada)' }),
    () => launchB({ label: 'B (Bob)' }),
  ]);
  const a = await ada.open(pages.pageUrl({ room, name: 'Ada', attributes }));
  const b = await bob.open(pages.pageUrl({ room, name: 'Bob', attributes }));
  await Promise.all([a.armFrames(), b.armFrames()]);
  await a.call();
  await a.waitForState('waiting');
  await b.call();
  await expectMediaFlowing([a, b], { frames: 10 });
  await Promise.all(
    [a, b].map((page) =>
      Promise.all([page.trackStatus(), page.evaluate(trackFrameGaps), page.evaluate(watchVideoReloads)]),
    ),
  );
  return { room, ada, bob, a, b, pageUrl: (name) => pages.pageUrl({ room, name, attributes }) };
}

// In-page probes (serialised into the page, so each is self-contained).

/** Keeps the longest gap between two remote frames (and the count) since the last reset. */
function trackFrameGaps() {
  const video = document.querySelector('rtc-call').shadowRoot.querySelector('[part~="remote-video"]');
  const gaps = { last: null, max: 0, count: 0 };
  window.__rtc.gaps = gaps;
  const onFrame = () => {
    const now = Date.now();
    if (gaps.last !== null) gaps.max = Math.max(gaps.max, now - gaps.last);
    gaps.last = now;
    gaps.count += 1;
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

function resetFrameGaps() {
  Object.assign(window.__rtc.gaps, { max: 0, count: 0, since: Date.now() });
}

/** The longest gap so far also counts the time since the last frame (a stall still under way). */
function frameGaps() {
  const { last, max, count } = window.__rtc.gaps;
  return { max: Math.max(max, last === null ? Infinity : Date.now() - last), count };
}

/**
 * Counts `emptied` on both videos: the media load algorithm ran again (what assigning
 * `srcObject`, even the same stream, does): the picture blanks and playback restarts.
 */
function watchVideoReloads() {
  const root = document.querySelector('rtc-call').shadowRoot;
  const reloads = { 'remote-video': 0, 'local-video': 0 };
  window.__rtc.reloads = reloads;
  for (const part of Object.keys(reloads)) {
    root.querySelector(`[part~="${part}"]`).addEventListener('emptied', () => (reloads[part] += 1));
  }
}

/** Records the first connection's `connectionState` changes (with `Date.now()`). */
function trackConnectionStates() {
  const pc = document.querySelector('rtc-call').connections[0];
  const history = [{ state: pc.connectionState, at: Date.now() }];
  window.__rtc.pcStates = history;
  pc.addEventListener('connectionstatechange', () => history.push({ state: pc.connectionState, at: Date.now() }));
}

// Helpers over a page.

const statesAfterConnected = async (page) => {
  const states = (await page.events('rtc-call-state-change')).map((e) => e.detail.state);
  return states.slice(states.indexOf('connected') + 1);
};

/**
 * Waits until the status line showed the signaling "reconnecting" text after `since` and shows
 * something else now; returns when it was first lost and when it was last back (`Date.now()`).
 */
async function waitForSignalingBack(page, since, timeout) {
  await page.waitFor(
    ({ since, text }) => {
      const history = (window.__rtc.status ?? []).filter((entry) => entry.at >= since);
      return history.some((entry) => entry.text === text) && history.at(-1).text !== text;
    },
    { since, text: RECONNECTING },
    { what: 'status line: reconnecting, then cleared', timeout },
  );
  const history = (await page.statusHistory()).filter((entry) => entry.at >= since);
  const back = history[history.findLastIndex((entry) => entry.text === RECONNECTING) + 1];
  return { lostAt: history.find((entry) => entry.text === RECONNECTING).at, backAt: back.at, backText: back.text };
}

/** Waits until the status line shows the signaling "reconnecting" text after `since`; returns when. */
async function waitForSignalingLost(page, since, timeout) {
  await page.waitFor(
    ({ since, text }) => (window.__rtc.status ?? []).some((entry) => entry.at >= since && entry.text === text),
    { since, text: RECONNECTING },
    { what: 'status line: reconnecting', timeout },
  );
  return (await page.statusHistory()).find((entry) => entry.at >= since && entry.text === RECONNECTING).at;
}

/** Nothing a user would see went wrong: no error, no peer left, no second peer-joined. */
async function assertCallUndisturbed(page) {
  assert.deepEqual(await page.events('rtc-call-error'), [], `${page.label}: rtc-call-error`);
  assert.deepEqual(await page.events('rtc-call-peer-left'), [], `${page.label}: rtc-call-peer-left`);
  assert.equal((await page.events('rtc-call-peer-joined')).length, 1, `${page.label}: more than one peer-joined`);
  assert.deepEqual(await statesAfterConnected(page), [], `${page.label}: left "connected"`);
  assert.equal(await page.state(), 'connected');
}

// ---------------------------------------------------------------------------------------------

test(
  'signaling through a TCP proxy: a dropped connection resumes its seat, a blackholed one comes back; the call never leaves "connected"',
  { timeout: 90_000 },
  async (t) => {
    const { server, pages } = await startServers(t);
    const proxy = await startTcpProxy({ targetPort: server.port });
    t.after(() => proxy.close());
    const { a, b } = await establishCall(t, pages, { attributes: { 'signaling-url': proxy.signalUrl } });
    assert.equal(proxy.openCount, 2, 'both elements signal through the proxy');
    assert.equal(proxy.connections.length, 2);

    await t.test('drop(): both reconnect and resume their seats', async () => {
      await Promise.all([a, b].map((page) => page.evaluate(resetFrameGaps)));
      const before = await Promise.all([a.frameCount(), b.frameCount()]);
      const droppedAt = Date.now();
      proxy.drop();

      const back = await Promise.all([a, b].map((page) => waitForSignalingBack(page, droppedAt, 15_000)));
      // Frames over at least 2 s from the drop, outage included.
      await sleep(Math.max(0, droppedAt + 2000 - Date.now()));
      const after = await Promise.all([a.frameCount(), b.frameCount()]);
      const gaps = await Promise.all([a, b].map((page) => page.evaluate(frameGaps)));
      for (const [i, page] of [a, b].entries()) {
        assert.ok(
          after[i] - before[i] >= 15,
          `${page.label}: ${after[i] - before[i]} frames in the 2 s after the drop`,
        );
        assert.ok(gaps[i].max < 1000, `${page.label}: remote video stalled ${gaps[i].max} ms`);
        assert.match(back[i].backText, /^Connected$/);
        await assertCallUndisturbed(page);
      }
      figure(
        'resume after signaling drop (drop → status cleared, slower side)',
        Math.max(...back.map((x) => x.backAt)) - droppedAt,
      );
      console.log(
        `drop: frames in 2 s A=${after[0] - before[0]} B=${after[1] - before[1]}, longest frame gap A=${gaps[0].max} B=${gaps[1].max} ms`,
      );

      // The server answered the new connections with `resumed` (same seat, same id), never `joined`.
      const fresh = proxy.connections.slice(2);
      assert.equal(fresh.length, 2, `expected one new connection per element, got ${fresh.length}`);
      for (const connection of fresh) {
        assert.match(connection.fromServer, /"type":"resumed"/, `connection ${connection.id}: no resumed`);
        assert.doesNotMatch(connection.fromServer, /"type":"joined"/, `connection ${connection.id}: a new seat`);
      }
    });

    await t.test('only the status line changed: the videos were not reloaded', async () => {
      const reloads = await Promise.all([a, b].map((page) => page.evaluate(() => window.__rtc.reloads)));
      assert.deepEqual(reloads, [
        { 'remote-video': 0, 'local-video': 0 },
        { 'remote-video': 0, 'local-video': 0 },
      ]);
    });

    await t.test(
      'blackhole() for 12 s and more, then restore(): signaling comes back by itself, media never stops',
      async () => {
        await Promise.all([a, b].map((page) => page.evaluate(resetFrameGaps)));
        const firstNew = proxy.connections.length;
        const before = await Promise.all([a.frameCount(), b.frameCount()]);
        const holedAt = Date.now();
        proxy.blackhole();
        // The client takes a socket for dead after ~8 s of silence, at one of its 4 s pings.
        const noticed = await Promise.all([a, b].map((page) => waitForSignalingLost(page, holedAt, 16_000)));
        await sleep(Math.max(0, holedAt + 12_000 - Date.now()));
        for (const [i, at] of noticed.entries())
          figure(`dead signaling socket noticed (blackhole → reconnecting), ${'AB'[i]}`, at - holedAt);
        assert.equal(await a.state(), 'connected');
        assert.equal(await b.state(), 'connected');

        const restoredAt = Date.now();
        proxy.restore();
        const back = await Promise.all([a, b].map((page) => waitForSignalingBack(page, holedAt, 20_000)));
        const resumed = Math.max(...back.map((x) => x.backAt)) - restoredAt;
        figure('signaling back after blackhole (restore → status cleared, slower side)', resumed);

        const after = await Promise.all([a.frameCount(), b.frameCount()]);
        const gaps = await Promise.all([a, b].map((page) => page.evaluate(frameGaps)));
        const seconds = (Date.now() - holedAt) / 1000;
        for (const [i, page] of [a, b].entries()) {
          assert.ok(
            after[i] - before[i] >= 8 * seconds,
            `${page.label}: ${after[i] - before[i]} frames in ${seconds.toFixed(1)} s of blackhole`,
          );
          assert.ok(gaps[i].max < 1000, `${page.label}: remote video stalled ${gaps[i].max} ms`);
          assert.match(back[i].backText, /^Connected$/);
          await assertCallUndisturbed(page);
        }
        const replies = proxy.connections
          .slice(firstNew)
          .map((c) => /"type":"(resumed|joined)"/.exec(c.fromServer)?.[1] ?? 'nothing');
        console.log(
          `blackhole: ${seconds.toFixed(1)} s, frames A=${after[0] - before[0]} B=${after[1] - before[1]}, ` +
            `longest frame gap A=${gaps[0].max} B=${gaps[1].max} ms, server answered the new connections: ${replies.join(', ')}`,
        );
      },
    );
  },
);

test(
  'server SIGKILLed mid-call and restarted on the same port: media never stops, both peers re-join their room by themselves',
  { timeout: 90_000 },
  async (t) => {
    const { server, pages } = await startServers(t);
    const { a, b, pageUrl } = await establishCall(t, pages);
    await Promise.all([a, b].map((page) => page.evaluate(resetFrameGaps)));
    const before = await Promise.all([a.frameCount(), b.frameCount()]);

    const killedAt = Date.now();
    server.child.kill('SIGKILL');
    assert.deepEqual(await server.stop(), { code: null, signal: 'SIGKILL' });
    await Promise.all([a, b].map((page) => waitForSignalingLost(page, killedAt, 5000)));
    await sleep(Math.max(0, killedAt + 3000 - Date.now()));

    const restarted = await startRtcServer({ args: ['--port', String(server.port)] });
    t.after(() => restarted.stop().catch(() => {}));
    const upAt = Date.now();
    assert.equal(restarted.port, server.port);
    const back = await Promise.all([a, b].map((page) => waitForSignalingBack(page, killedAt, 20_000)));
    const rejoinedAt = Math.max(...back.map((x) => x.backAt));
    figure('re-join after server restart (restarted server listening → both status lines cleared)', rejoinedAt - upAt);

    const after = await Promise.all([a.frameCount(), b.frameCount()]);
    const gaps = await Promise.all([a, b].map((page) => page.evaluate(frameGaps)));
    const seconds = (rejoinedAt - killedAt) / 1000;
    console.log(
      `server restart: outage ${seconds.toFixed(1)} s (kill → both re-joined), frames A=${after[0] - before[0]} ` +
        `B=${after[1] - before[1]}, longest frame gap A=${gaps[0].max} B=${gaps[1].max} ms`,
    );
    for (const [i, page] of [a, b].entries()) {
      assert.ok(after[i] - before[i] >= 8 * seconds, `${page.label}: ${after[i] - before[i]} frames in ${seconds} s`);
      assert.ok(gaps[i].max < 1000, `${page.label}: remote video stalled ${gaps[i].max} ms`);
      await assertCallUndisturbed(page);
    }

    const health = await fetch(new URL('healthz', restarted.url));
    assert.equal(health.status, 200);
    assert.equal((await health.text()).trim(), 'ok');

    // The restarted server has both back in the room: a third browser is refused.
    const [carol] = await launchBrowsers(t, [() => launchChromium({ label: 'C (Carol)' })]);
    const c = await carol.open(pageUrl('Carol'));
    await c.call();
    await c.waitForState('failed');
    assert.equal((await c.nextEvent('rtc-call-error')).detail.code, 'room-full');
    await carol.close();
    for (const page of [a, b]) await assertCallUndisturbed(page);
    const counts = await Promise.all([a.frameCount(), b.frameCount()]);
    await Promise.all([a.waitForFrames(counts[0] + 10, 10_000), b.waitForFrames(counts[1] + 10, 10_000)]);
  },
);

test(
  'a frozen peer (SIGSTOP on its browser): the other side hears peer-left within 10 s and waits again',
  { timeout: 60_000 },
  async (t) => {
    const { pages } = await startServers(t);
    // Its close(), when the test ends, thaws it first.
    const { a, bob } = await establishCall(t, pages, { launchB: launchFreezableChromium });

    const frozenAt = Date.now();
    bob.freeze();
    await a.nextEvent('rtc-call-peer-left', 15_000);
    const [left] = await a.eventsWithEpoch('rtc-call-peer-left');
    const elapsed = left.epoch - frozenAt;
    figure('frozen peer: SIGSTOP → rtc-call-peer-left on the other side', elapsed);
    assert.equal(left.detail.name, 'Bob');
    assert.ok(elapsed <= 10_000, `peer-left came ${Math.round(elapsed)} ms after the freeze`);
    await a.waitForState('waiting', 5000);
    const after = await statesAfterConnected(a);
    assert.equal(after.at(-1), 'waiting');
    assert.ok(
      after.every((state) => state === 'reconnecting' || state === 'waiting'),
      after.join(' → '),
    );
    assert.deepEqual(await a.events('rtc-call-error'), []);
    console.log(`frozen peer: A went ${['connected', ...after].join(' → ')}`);

    bob.thaw();
    await bob.close();
  },
);

test(
  'ICE restart through a real coturn relay: relay frozen → reconnecting (never failed), resumed → connected again with media',
  { timeout: 90_000 },
  async (t) => {
    const coturn = await startCoturn();
    t.after(() => coturn.stop());
    const { pages } = await startServers(t);
    const attributes = {
      'ice-servers': JSON.stringify([coturn.iceServer]),
      'ice-transport-policy': 'relay',
    };
    const { a, b } = await establishCall(t, pages, { attributes });
    const pairs = await Promise.all([a.selectedCandidatePair(), b.selectedCandidatePair()]);
    for (const [i, pair] of pairs.entries()) {
      assert.equal(pair.local, 'relay', `${'AB'[i]}: ${JSON.stringify(pair)}`);
      assert.equal(pair.remote, 'relay', `${'AB'[i]}: ${JSON.stringify(pair)}`);
    }
    await Promise.all(
      [a, b].map((page) =>
        Promise.all([trackConnectionStates, recordSignalingStates].map((probe) => page.evaluate(probe))),
      ),
    );

    const stoppedAt = Date.now();
    coturn.freeze();
    await Promise.all([a, b].map((page) => page.waitForState('reconnecting', 20_000)));
    const lost = await Promise.all([a, b].map((page) => page.eventsWithEpoch('rtc-call-state-change')));
    const reconnectingAt = lost.map((events) => events.find((e) => e.detail.state === 'reconnecting').epoch);
    figure('relay frozen → element reconnecting (slower side)', Math.max(...reconnectingAt) - stoppedAt);
    // The one state the browser tests cannot reach: axe-clean there too.
    assert.deepEqual(await axeViolations(a.page, { element: 'rtc-call' }), [], 'axe, reconnecting');
    // Give the first ICE restart time to go out while the relay is still gone.
    await sleep(1000);

    const resumedAt = Date.now();
    coturn.thaw();
    await Promise.all([a, b].map((page) => page.waitForState('connected', 25_000)));
    const events = await Promise.all([a, b].map((page) => page.eventsWithEpoch('rtc-call-state-change')));
    const connectedAt = events.map((list) => list.findLast((e) => e.detail.state === 'connected').epoch);
    figure('ICE restart through the relay (SIGCONT → both connected)', Math.max(...connectedAt) - resumedAt);

    // Both sides' remote video plays on, the polite side's included, though it may have rolled
    // back its restart offer for the other's.
    for (const page of [a, b]) {
      const count = await page.frameCount();
      await page.waitForFrames(count + 20, 10_000);
    }
    const pairsAfter = await Promise.all([a.selectedCandidatePair(), b.selectedCandidatePair()]);
    const collisions = await Promise.all([a, b].map((page) => page.evaluate(() => window.__rtc.collisions)));
    console.log(
      `ICE restart: the two restart offers ${collisions[0] > 0 ? 'collided (A, polite, rolled back)' : 'did not collide'}`,
    );
    const pcStates = await Promise.all(
      [a, b].map((page) => page.evaluate(() => window.__rtc.pcStates.map((s) => s.state))),
    );
    console.log(`ICE restart: connectionState A ${pcStates[0].join(' → ')}; B ${pcStates[1].join(' → ')}`);
    for (const [i, side] of ['A', 'B'].entries()) {
      console.log(
        `ICE restart: ${side} ufrag ${pairs[i].ufrag} → ${pairsAfter[i].ufrag}, relay candidate ${pairs[i].localAddress} → ${pairsAfter[i].localAddress}`,
      );
    }
    for (const [i, page] of [a, b].entries()) {
      assert.deepEqual(await statesAfterConnected(page), ['reconnecting', 'connected'], page.label);
      assert.ok(!pcStates[i].includes('failed'), `${page.label}: connectionState went failed`);
      assert.equal(pairsAfter[i].local, 'relay');
      assert.equal(pairsAfter[i].remote, 'relay');
      assert.notEqual(pairsAfter[i].ufrag, pairs[i].ufrag, `${page.label}: no ICE restart (same ufrag)`);
      assert.deepEqual(await page.events('rtc-call-error'), []);
      assert.deepEqual(await page.events('rtc-call-peer-left'), []);
    }

    const { pid } = coturn;
    await coturn.stop();
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'coturn still running');
  },
);

test(
  'glare: 20 runs of both sides adding a transceiver at the same moment in an established call',
  { timeout: 120_000 },
  async (t) => {
    const RUNS = 20;
    const { pages } = await startServers(t);
    const { a, b } = await establishCall(t, pages);
    await Promise.all([a, b].map((page) => page.evaluate(recordSignalingStates)));
    const initial = await Promise.all([a, b].map((page) => page.evaluate(transceiverState)));
    assert.equal(initial[0].count, initial[1].count);

    let glares = 0;
    const skews = [];
    const sdpLengths = [];
    for (let run = 1; run <= RUNS; run += 1) {
      await Promise.all(
        [a, b].map((page) =>
          page.evaluate(() => {
            window.__rtc.signaling.length = 0;
            window.__rtc.collisions = 0;
          }),
        ),
      );
      // Far enough ahead that both pages are waiting before it comes, even on a busy machine.
      const at = Date.now() + 600;
      const added = await Promise.all([a, b].map((page) => page.evaluate(addTransceiverAt, at)));
      skews.push(Math.abs(added[0] - added[1]));
      const expected = initial[0].count + 2;
      let settled;
      try {
        settled = await withTimeout(waitSettled([a, b], expected), 10_000, `run ${run}: settle`);
      } catch (error) {
        const states = await Promise.all([a, b].map((page) => page.evaluate(transceiverState)));
        const histories = await Promise.all([a, b].map((page) => page.evaluate(() => window.__rtc.signaling)));
        error.message += `\nA ${JSON.stringify(states[0])} ${histories[0]}\nB ${JSON.stringify(states[1])} ${histories[1]}`;
        throw error;
      }
      const collisions = await Promise.all([a, b].map((page) => page.evaluate(() => window.__rtc.collisions)));
      // Only the polite side (A: it was in the room first) ever applies a colliding offer.
      assert.equal(collisions[1], 0, `run ${run}: the impolite side applied a colliding offer`);
      if (collisions[0] > 0) glares += 1;
      for (const page of [a, b]) {
        assert.equal(await page.state(), 'connected', `run ${run}: ${page.label}`);
        assert.deepEqual(await page.events('rtc-call-error'), [], `run ${run}: ${page.label}`);
      }
      assert.equal(settled[0].count, settled[1].count, `run ${run}`);
      sdpLengths.push(...settled.map((state) => state.sdpLength));
      // Back to the call's own transceivers (an ordinary renegotiation from one side), so the SDP
      // does not grow by two video sections a run: the server refuses an SDP over 64 KiB.
      await a.evaluate(stopTransceiversBeyond, initial[0].count);
      await withTimeout(
        waitSettled([a, b], initial[0].count),
        10_000,
        `run ${run}: back to ${initial[0].count} transceivers`,
      );
    }
    console.log(
      `glare: ${RUNS} runs settled, offers collided (polite side rolled back) in ${glares}; ` +
        `skew between the two adds: median ${median(skews)} ms, max ${Math.max(...skews)} ms; longest SDP ${Math.max(...sdpLengths)} characters`,
    );
    assert.ok(glares >= RUNS / 4, `only ${glares} of ${RUNS} runs were real collisions`);
    for (const page of [a, b]) {
      assert.deepEqual(await statesAfterConnected(page), [], page.label);
      assert.deepEqual(await page.events('rtc-call-peer-left'), []);
    }

    // Both remote videos play on, the polite side's (A) included, which rolled back its offers.
    for (const page of [a, b]) {
      const count = await page.frameCount();
      await page.waitForFrames(count + 10, 10_000);
    }
  },
);

/** Polls both pages until both are stable, every transceiver negotiated (has a mid), `expected` each. */
async function waitSettled(pages, expected) {
  let previous;
  for (;;) {
    const states = await Promise.all(pages.map((page) => page.evaluate(transceiverState)));
    if (states.some((s) => !s.connection)) throw new Error(`a connection is gone: ${JSON.stringify(states)}`);
    const ok = states.every((s) => s.signaling === 'stable' && s.unassociated === 0 && s.count === expected);
    // Twice in a row, so a negotiation about to start is not taken for the end.
    if (ok && previous) return states;
    previous = ok;
    await sleep(100);
  }
}

/**
 * Records the first connection's signaling states, and counts collisions: a remote offer applied
 * while this side has an offer of its own out and no answer to it on the way in (the polite side
 * rolling back; the impolite side ignores such an offer and never applies it).
 */
function recordSignalingStates() {
  const pc = document.querySelector('rtc-call').connections[0];
  window.__rtc.signaling = [];
  window.__rtc.collisions = 0;
  pc.addEventListener('signalingstatechange', () => window.__rtc.signaling.push(pc.signalingState));
  const setRemoteDescription = pc.setRemoteDescription;
  let answersPending = 0;
  pc.setRemoteDescription = function (description, ...rest) {
    const type = description?.type;
    if (type === 'offer' && this.signalingState === 'have-local-offer' && answersPending === 0) {
      window.__rtc.collisions += 1;
    }
    const applied = setRemoteDescription.call(this, description, ...rest);
    if (type !== 'answer') return applied;
    answersPending += 1;
    return applied.finally(() => (answersPending -= 1));
  };
}

/** Waits until `Date.now()` ≥ `at`, then adds a sendrecv video transceiver; returns when it did. */
async function addTransceiverAt(at) {
  const pc = document.querySelector('rtc-call').connections[0];
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now() - 20)));
  while (Date.now() < at) {
    // spin the last few ms
  }
  pc.addTransceiver('video', { direction: 'sendrecv' });
  return Date.now();
}

/** Stops every transceiver after the first `keep` (the ones the call started with). */
function stopTransceiversBeyond(keep) {
  const pc = document.querySelector('rtc-call').connections[0];
  for (const transceiver of pc.getTransceivers().slice(keep)) transceiver.stop();
}

function transceiverState() {
  const el = document.querySelector('rtc-call');
  const pc = el.connections[0];
  if (!pc) {
    return {
      state: el.state,
      connection: null,
      errors: window.__rtc.events.filter((e) => e.type === 'rtc-call-error'),
    };
  }
  const transceivers = pc.getTransceivers();
  return {
    state: el.state,
    signaling: pc.signalingState,
    connection: pc.connectionState,
    count: transceivers.length,
    sdpLength: pc.localDescription?.sdp.length ?? 0,
    unassociated: transceivers.filter((transceiver) => transceiver.mid === null).length,
  };
}
