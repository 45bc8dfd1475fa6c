// Signaled setup, two separate Chromium browsers on loopback, alternating in one run: rtc-call
// through its own server, PeerJS (the `peerjs` client and the `peer` server from npm), and the
// floor: a bare RTCPeerConnection signaled through a minimal `ws` relay. Same flow for all three:
// both sides have their camera on and are ready; one calls; the time is from that call to the
// first remote frame on the slower side (epoch ms: both browsers share the machine's clock).
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';
import { PeerServer } from 'peer';
import { WebSocketServer } from 'ws';
import { startServer } from '../lib/server/index.js';
import { CHROMIUM_ARGS, findChromium } from '../scripts/browsers.mjs';

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The floor's relay: every text message goes to every other socket, as is. */
export async function startRawRelay(host = '127.0.0.1') {
  const wss = new WebSocketServer({ host, port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      for (const other of wss.clients) if (other !== socket) other.send(data.toString());
    });
  });
  return { url: `ws://${host}:${wss.address().port}`, close: () => new Promise((resolve) => wss.close(resolve)) };
}

async function startPeerServer() {
  const port = await freePort();
  // The callback gets the http server once it listens; PeerServer itself returns the app.
  const http = await new Promise((resolve) => PeerServer({ host: '127.0.0.1', port, path: '/peerjs' }, resolve));
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        http.close(resolve);
        http.closeAllConnections?.();
      }),
  };
}

/**
 * One measured call of `kind` between two fresh pages, one in each browser; ms. `route(page)`
 * may hand a page its text (where the browser cannot reach the bench's page server).
 */
export async function measure(kind, browsers, urlFor, run, route = async () => {}) {
  const [a, b] = await Promise.all(browsers.map((browser) => browser.newPage()));
  try {
    const ids = [`b${run}-${kind}-a`, `b${run}-${kind}-b`];
    await Promise.all([a, b].map(route));
    await a.goto(urlFor(kind, run));
    await b.goto(urlFor(kind, run));
    for (const page of [a, b]) await page.waitForFunction(() => typeof window.prepare === 'function');
    if (kind === 'peerjs') {
      await a.evaluate((id) => window.prepare(id), ids[0]);
      await b.evaluate((id) => window.prepare(id), ids[1]);
    } else {
      await a.evaluate(() => window.prepare(true));
      await b.evaluate(() => window.prepare(false));
    }
    const at = await b.evaluate((id) => window.dial(id), ids[0]);
    const frames = await Promise.all(
      [a, b].map((page) =>
        page.waitForFunction(() => window.firstFrame(), undefined, { timeout: 20_000 }).then((h) => h.jsonValue()),
      ),
    );
    return Math.max(...frames) - at;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

/** Medians and median pairwise ratios of `runs` alternating rounds. */
export async function signaledSetup({ runs, origin, median, round }) {
  const ours = await startServer({ port: 0 });
  const peer = await startPeerServer();
  const raw = await startRawRelay();
  const browsers = await Promise.all(
    [0, 1].map(() => chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS })),
  );
  const signal = ours.url.replace(/^http/, 'ws') + 'signal';
  const urlFor = (kind, run) => {
    const query = { ours: `room=bench-${run}&signal=${signal}`, peerjs: `port=${peer.port}`, raw: `signal=${raw.url}` };
    return `${origin}/bench/pages/signaled-${kind}.html?${query[kind]}`;
  };
  const kinds = ['ours', 'peerjs', 'raw'];
  const samples = { ours: [], peerjs: [], raw: [], vsPeerjs: [], vsRaw: [] };
  try {
    for (let run = 0; run < runs; run++) {
      const times = {};
      // Rotate the order, so drift on a shared machine hits all three alike.
      for (const kind of [...kinds.slice(run % 3), ...kinds.slice(0, run % 3)]) {
        times[kind] = await measure(kind, browsers, urlFor, run);
      }
      for (const kind of kinds) samples[kind].push(times[kind]);
      samples.vsPeerjs.push(times.ours / times.peerjs);
      samples.vsRaw.push(times.ours / times.raw);
    }
  } finally {
    await Promise.all(browsers.map((browser) => browser.close()));
    await Promise.all([ours.close(), peer.close(), raw.close()]);
  }
  return {
    runs,
    oursMs: round(median(samples.ours)),
    peerjsMs: round(median(samples.peerjs)),
    rawMs: round(median(samples.raw)),
    ratioVsPeerjs: round(median(samples.vsPeerjs), 2),
    ratioVsRaw: round(median(samples.vsRaw), 2),
    goals: { vsPeerjs: 0.8, vsRaw: 1.2 },
    samples: { ours: samples.ours, peerjs: samples.peerjs, raw: samples.raw },
  };
}
