// npm run bench: measures in one run, on this machine, as ratios against a floor; writes
// bench/results.json and bench/RESULTS.md. `--quick` does few runs and short steps (CI checks
// the scripts work) and writes to bench/tmp/ instead; `--out DIR` writes there. `--render`
// measures nothing: it writes RESULTS.md again from the results.json there.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startServer } from '../lib/server/index.js';
import { CHROMIUM_ARGS, findChromium } from '../scripts/browsers.mjs';
import { serverBench, serverMarkdown } from './server.mjs';
import { homesSetup } from './homes.mjs';
import { signaledSetup } from './signaled.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const render = process.argv.includes('--render');
const RUNS = quick ? 2 : 9;
const outFlag = process.argv.indexOf('--out');
if (outFlag >= 0 && !process.argv[outFlag + 1]) throw new Error('--out needs a directory');
// Quick figures are too rough to keep: they never replace the committed ones.
const out = outFlag >= 0 ? resolve(process.argv[outFlag + 1]) : join(root, quick ? 'bench/tmp' : 'bench');
mkdirSync(out, { recursive: true });

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (value, digits = 1) => Number(value.toFixed(digits));

/** Static files from the project root (bench pages and dist/), on a free loopback port. */
async function serveRoot() {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json' };
  const server = createServer((request, response) => {
    const path = normalize(join(root, new URL(request.url, 'http://x').pathname));
    if (!path.startsWith(root)) return response.writeHead(404).end();
    try {
      const body = readFileSync(path);
      response.writeHead(200, { 'Content-Type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** Call → first remote frame, camera already on, alternating ours and the floor in one browser. */
async function loopbackSetup(origin) {
  const browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS });
  const pages = { ours: 'loopback-ours.html', floor: 'loopback-floor.html' };
  const samples = { ours: [], floor: [], ratio: [] };
  try {
    for (let run = 0; run < RUNS; run++) {
      const pair = {};
      // Alternate which goes first so drift on a shared machine hits both alike.
      const order = run % 2 ? ['floor', 'ours'] : ['ours', 'floor'];
      for (const kind of order) {
        const page = await browser.newPage();
        await page.goto(`${origin}/bench/pages/${pages[kind]}`);
        await page.waitForFunction(() => typeof window.measure === 'function');
        await page.evaluate(() => window.prepare());
        pair[kind] = await page.evaluate(() => window.measure());
        await page.close();
      }
      samples.ours.push(pair.ours);
      samples.floor.push(pair.floor);
      samples.ratio.push(pair.ours / pair.floor);
    }
  } finally {
    await browser.close();
  }
  return {
    runs: RUNS,
    oursMs: round(median(samples.ours)),
    floorMs: round(median(samples.floor)),
    ratio: round(median(samples.ratio), 2),
    goal: 1.1,
    samples: { ours: samples.ours.map((v) => round(v)), floor: samples.floor.map((v) => round(v)) },
  };
}

/**
 * One big file between two browsers through the real server: throughput (send call → the
 * receiver has the File) and the sender's JS heap while it sends, sampled over CDP, against its
 * heap before: the file must stream, not be read whole.
 */
async function fileTransfer() {
  const mib = quick ? 16 : 128;
  const server = await startServer({ port: 0, roots: { demo: join(root, 'bench/pages'), dist: join(root, 'dist') } });
  const browsers = await Promise.all(
    [0, 1].map(() => chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS })),
  );
  try {
    const room = `bench-${Date.now()}`;
    const [sender, receiver] = await Promise.all(browsers.map((browser) => browser.newPage()));
    for (const page of [sender, receiver]) await page.goto(`${server.url}file-transfer.html?room=${room}`);
    await sender.evaluate(() => window.join());
    await receiver.evaluate(() => window.join());
    await Promise.all([sender, receiver].map((page) => page.evaluate(() => window.ready())));
    const cdp = await sender.context().newCDPSession(sender);
    await cdp.send('Performance.enable');
    const heap = async () => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      return metrics.find((m) => m.name === 'JSHeapUsedSize').value;
    };
    await cdp.send('HeapProfiler.collectGarbage');
    const before = await heap();
    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await heap());
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const arrived = receiver.evaluate(() => window.expect());
    const t0 = Date.now();
    let size;
    let seconds;
    try {
      await sender.evaluate((size) => window.send(size), mib);
      size = await arrived;
      seconds = (Date.now() - t0) / 1000;
    } finally {
      // Stopped before the browsers close, so that a failed send is reported as itself.
      sampling = false;
      await sampler.catch(() => {});
    }
    return {
      mib,
      bytes: size,
      seconds: round(seconds, 2),
      mbPerSecond: round(size / 1e6 / seconds),
      senderHeapBeforeMB: round(before / 1e6),
      senderHeapPeakMB: round(peak / 1e6),
    };
  } finally {
    await Promise.all(browsers.map((browser) => browser.close()));
    await server.close();
  }
}

/**
 * The single file a page loads (`dist/rtc-call.js`: element, Lit, webrtc-adapter's shims,
 * signaling client, in-call features) against the goal, and what a page would load instead.
 */
function bundleSize() {
  const size = (file) => {
    const code = readFileSync(join(root, file));
    return { file, minBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
  };
  return {
    ...size('dist/rtc-call.js'),
    goalGzipBytes: 28 * 1024,
    // What a page would load instead (neither has a UI or a server in it).
    others: [size('node_modules/peerjs/dist/peerjs.min.js'), size('node_modules/simple-peer/simplepeer.min.js')],
  };
}

/** What the changes made to close the gaps bought, each measured when it was made. */
const CHANGES = `## What the changes bought

- **Bundle, one self-contained file again** (2026-12-03): everything built into one file, as the
  chunked build stood, was 36.2 KB gzip -9, over the 28 KB goal. Of webrtc-adapter's factory,
  only the shims that can change something the element uses in a supported browser (Chrome and
  Edge 111+, Firefox 115+, Safari 16.4+) are applied (\`src/adapter/shims.ts\`; the rest return at
  once there or add legacy APIs the element never calls, checked in Chromium and Firefox by
  test/node/adapter.test.js): −6.7 KB, to 29.5 KB. The sdp parser, which only the shims left out
  call, marked free of side effects so that rollup drops it (it is CommonJS, so rollup kept it
  whole): −3.4 KB, to 26.0 KB. The messages for a framed page without \`allow\`, for
  \`unsupported\` and for a refused screen share: +0.4 KB, to the table's figure.
- **Bundle, split** (2026-11-24, since undone): 30.8 KB gzip as one file then. Only this
  browser's webrtc-adapter shims fetched as a chunk, with the in-call features and the WebSocket
  client fetched when the camera is asked for: 24.0 KiB before a call. The element's CSS minified
  at build (esbuild, in \`rollup.config.mjs\`): −0.2 KiB; it stays.
- **Loopback setup, one file** (2026-12-03): with nothing fetched at Start any more and only the
  adapter shims that act applied, an A/B run of 15 rounds (the chunked build of the day before,
  this build and the floor, in rotation, on a loaded machine) measured 1.09× the floor for the
  chunked build and 1.12× for this one: no difference that the machine's noise lets one see. The
  chunks were fetched at Start, before Call, so they never were in this figure.
- **Signaled setup between runs**: this run's figure is higher than the run before's (161 ms, 1.12×
  the floor, 2026-12-02) with the same code on the path: an A/B run of 9 rounds of the build
  measured then against this one gave medians of 247 and 246 ms. The figures follow the machine's
  load, and the floor's simpler exchange suffers less from it.
- **Signaled setup**: the signaling socket opened at Start instead of at Call, and the side waiting
  alone keeps a connection ready for the next peer (media added, offer made, candidates gathered),
  so the waiting side sends its offer 1 ms after it hears of the newcomer instead of about 70 ms
  (one traced call). Against the floor in the
  same run: 1.56× before (264 ms against 174 ms, 2026-11-24), the table above now.
- **Loopback setup**: none of the above changed it: in an A/B run (11 rounds, twice) the build from
  before measured 1.22× and 1.29× the floor, the current one 1.31× and 1.25×.
- **Server**: the heartbeat pings only the sockets that said nothing for an interval, a slice of
  them every 100 ms: the longest idle stall at 10,000 sockets went from 253–1466 ms to 54 ms. A
  relayed \`signal\` is numbered without serialising the whole message again: CPU per message
  107.5 → 101.2 µs (old and new server alternated in one run). Keeping the replayed text as a
  Buffer instead cost 3 % more, and was left out.
- **Server, rebuilt over one room model** (2026-12-02): a signal is checked against a schema that
  allows no unknown field and relayed as the sender wrote it, inside an envelope, instead of its
  \`data\` being serialised again: measured alone on a 5.2 KB offer, serialising the \`data\` took
  5.3 µs, the envelope with its \`seq\` put in front instead of spliced in 3.4 µs (the old splice
  4.9 µs). The element confirms after every 16 messages as well as every 4 s, so replay copies go
  sooner. The heartbeat pings a socket only once it has been silent for 4.5 s, past the element's
  own 4 s ping, where it used to ping at 4 s and so pinged some sockets that were about to speak.
  The figures before this were taken with the limits lifted and at other loads (the table of the
  run before: 41 against PeerJS's 34 µs per message at 19,229/s, 11.7 % against 8.0 % idle CPU at
  10,000 sockets), so they are not set beside these; no A/B run of the old and new server yet.
`;

/** Why a goal of the browser figures is not met, where it is not. */
const WHY = {
  loopback: `Not met: the element does more than the floor's two bare connections between Call and the
first frame: it opens the call's data channel (an SCTP association over the same DTLS), runs the
two ends through the same room sessions and perfect negotiation as a signaled call (each signal
one task later), and renders its state.`,
  signaled: `Not met: the newcomer's Call still costs a join round trip to the server before the
offer can reach it (the floor's pages are paired before the click), and the offer carries a data
channel the floor does not open. PeerJS keeps its socket open from page load and offers straight
away; ours joins at Call, since being in a room is what Call means.`,
};

const { server, origin } = render ? { server: undefined, origin: '' } : await serveRoot();
try {
  const results = render
    ? JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))
    : {
        date: new Date().toISOString(),
        quick,
        bundle: bundleSize(),
        // Before any browser starts: it wants the machine's CPUs to itself.
        server: await serverBench({ quick, round }),
        loopbackSetup: await loopbackSetup(origin),
        signaledSetup: await signaledSetup({ runs: quick ? 1 : 7, origin, median, round }),
        homesSetup: await homesSetup({ runs: quick ? 1 : 7, median, round }),
        fileTransfer: await fileTransfer(),
      };
  if (!render) writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  const { bundle, loopbackSetup: loop, signaledSetup: sig, homesSetup: homes, fileTransfer: file } = results;
  const kb = (bytes) => (bytes / 1024).toFixed(1);
  const verdict = (ok) => (ok ? 'met' : 'not met');
  const markdown = `# Benchmark results

Measured ${results.date}${quick ? ' (quick mode: too few runs to trust)' : ''} on one machine in one run; medians.

## Bundle

The one file a page loads, \`dist/rtc-call.js\`: the element, Lit, webrtc-adapter's shims, the
signaling client and the in-call features; it fetches nothing else.

| | file | min | gzip -9 | goal |
|---|---|---|---|---|
| rtc-call | ${bundle.file} | ${kb(bundle.minBytes)} KB | ${kb(bundle.gzipBytes)} KB | ≤ ${kb(bundle.goalGzipBytes)} KB gzip: ${verdict(bundle.gzipBytes <= bundle.goalGzipBytes)} |
${bundle.others.map((other) => `| instead: ${other.file.split('/')[1]} | ${other.file} | ${kb(other.minBytes)} KB | ${kb(other.gzipBytes)} KB | |`).join('\n')}

## Loopback setup: Call → first remote frame (camera already on)

| | median | |
|---|---|---|
| \`<rtc-call loopback>\` | ${loop.oursMs} ms | |
| floor: two bare RTCPeerConnections | ${loop.floorMs} ms | |
| ratio (median of ${loop.runs} pairwise ratios) | ${loop.ratio}× | goal ≤ ${loop.goal}×: ${verdict(loop.ratio <= loop.goal)} |
${loop.ratio <= loop.goal ? '' : `\nBy ${Math.round((loop.ratio / loop.goal - 1) * 100)} %. ${WHY.loopback}\n`}
## Signaled setup: Call → first remote frame on both sides, two Chromium browsers

Same flow for all: both cameras on and ready, one side calls.

| | median | |
|---|---|---|
| \`<rtc-call>\` through its own server | ${sig.oursMs} ms | |
| PeerJS (\`peerjs\` + \`peer\` server) | ${sig.peerjsMs} ms | |
| floor: bare RTCPeerConnection over a raw \`ws\` relay | ${sig.rawMs} ms | |
| ours / PeerJS (median of ${sig.runs} pairwise ratios) | ${sig.ratioVsPeerjs}× | goal ≤ ${sig.goals.vsPeerjs}×: ${verdict(sig.ratioVsPeerjs <= sig.goals.vsPeerjs)} |
| ours / floor | ${sig.ratioVsRaw}× | goal ≤ ${sig.goals.vsRaw}×: ${verdict(sig.ratioVsRaw <= sig.goals.vsRaw)} |
${
  sig.ratioVsPeerjs <= sig.goals.vsPeerjs && sig.ratioVsRaw <= sig.goals.vsRaw
    ? ''
    : `\nOver ${[
        [sig.ratioVsPeerjs / sig.goals.vsPeerjs, 'PeerJS'],
        [sig.ratioVsRaw / sig.goals.vsRaw, 'floor'],
      ]
        .filter(([over]) => over > 1)
        .map(([over, what]) => `the goal by ${Math.round((over - 1) * 100)} % (${what})`)
        .join(' and ')}. ${WHY.signaled}\n`
}
## Across two homes behind cone NATs: Call → first remote frame on both sides

Two simulated homes (network namespaces, each behind its own NAT router, the same private address
in both), the server on a public network between them; one Chromium in each home. Both sides use
the server's built-in STUN. Same flow as above.

${
  homes?.skipped
    ? `Not measured: ${homes.skipped}.`
    : `| | median |
|---|---|
| \`<rtc-call>\` through its own server | ${homes?.oursMs} ms |
| floor: two bare RTCPeerConnections, the same STUN server, a raw \`ws\` relay | ${homes?.floorMs} ms |
| ours / floor (median of ${homes?.runs} pairwise ratios) | ${homes?.ratio}× |`
}

## File transfer between two browsers (one run)

| file | time | throughput | sender's JS heap before → peak |
|---|---|---|---|
| ${file.mib} MiB | ${file.seconds} s | ${file.mbPerSecond} MB/s | ${file.senderHeapBeforeMB} → ${file.senderHeapPeakMB} MB |

${serverMarkdown(results.server)}
${CHANGES}`;
  writeFileSync(join(out, 'RESULTS.md'), markdown);
  console.log(markdown);
} finally {
  server?.close();
}
// The `peer` server keeps housekeeping intervals it has no way to stop: leave without waiting.
process.exit(0);
