// Setup across two simulated homes behind cone NATs (test/node/netns.js: network namespaces, NAT
// routers, the server on a public network between them): Call → first remote frame on the slower
// side, rtc-call through its own server and its built-in STUN, against two bare
// RTCPeerConnections given the same STUN server and a raw `ws` relay in the same topology.
// Alternating in one run; needs root (skipped, saying why, without).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium } from '../scripts/browsers.mjs';
import { startRtcServer } from '../test/node/browser-harness.js';
import { PUBLIC_IP, buildHomes, netnsUnavailable } from '../test/node/netns.js';
import { measure } from './signaled.mjs';

const pages = fileURLToPath(new URL('pages/', import.meta.url));

/** The raw relay, run inside the public namespace; resolves with its URL and a stop(). */
async function rawRelayIn(net) {
  const child = net.spawnPublic(
    process.execPath,
    [fileURLToPath(new URL('raw-relay.mjs', import.meta.url)), PUBLIC_IP],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [url] = await Promise.race([
    new Promise((resolve) => createInterface({ input: child.stdout }).once('line', (line) => resolve([line]))),
    new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`the raw relay exited (${code})`)))),
  ]);
  return { url, stop: () => child.kill('SIGKILL') };
}

export async function homesSetup({ runs, median, round }) {
  const unavailable = netnsUnavailable();
  if (unavailable) return { skipped: unavailable };
  const net = buildHomes({ nat: { a: 'cone', b: 'cone' } });
  let server;
  let relay;
  let browsers = [];
  try {
    server = await startRtcServer({ namespace: net.names.pub, args: ['--host', PUBLIC_IP] });
    relay = await rawRelayIn(net);
    browsers = await Promise.all(
      ['a', 'b'].map((side) =>
        chromium.launch({
          executablePath: net.chromiumIn(side, findChromium()),
          headless: true,
          args: [...CHROMIUM_ARGS, `--unsafely-treat-insecure-origin-as-secure=${server.origin}`],
        }),
      ),
    );
    // The bench pages, as if the server served them (the bundle and the sockets are real).
    const html = {
      ours: readFileSync(`${pages}signaled-ours.html`, 'utf8').replace('/dist/rtc-call.js', '/rtc-call.js'),
      raw: readFileSync(`${pages}signaled-raw.html`, 'utf8'),
    };
    const route = (page) =>
      page.route(
        (url) => url.origin === server.origin && url.pathname.startsWith('/bench-'),
        (request) => {
          const kind = new URL(request.request().url()).pathname.slice('/bench-'.length, -'.html'.length);
          return request.fulfill({ status: 200, contentType: 'text/html', body: html[kind] });
        },
      );
    const stun = `stun:${PUBLIC_IP}:${server.port}`;
    const urlFor = (kind, run) =>
      kind === 'ours'
        ? `${server.origin}/bench-ours.html?room=homes-${run}&signal=${server.signalUrl}`
        : `${server.origin}/bench-raw.html?signal=${relay.url}&stun=${stun}`;
    const samples = { ours: [], floor: [], ratio: [] };
    for (let run = 0; run < runs; run++) {
      const order = run % 2 ? ['raw', 'ours'] : ['ours', 'raw'];
      const times = {};
      for (const kind of order) times[kind] = await measure(kind, browsers, urlFor, run, route);
      samples.ours.push(times.ours);
      samples.floor.push(times.raw);
      samples.ratio.push(times.ours / times.raw);
    }
    return {
      runs,
      oursMs: round(median(samples.ours)),
      floorMs: round(median(samples.floor)),
      ratio: round(median(samples.ratio), 2),
      samples,
    };
  } finally {
    await Promise.all(browsers.map((browser) => browser.close().catch(() => {})));
    relay?.stop();
    await server?.stop().catch(() => {});
    net.close();
  }
}
