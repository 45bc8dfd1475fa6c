// The benchmark in quick mode, so its scripts cannot rot: every figure it reports must be a
// finite positive number (not any particular one: quick figures are too rough to judge).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KINDS = ['ours', 'peer', 'raw'];

/** `node bench/run.mjs --quick --out DIR`, killed (and failed) past the deadline. */
function runQuick(out, deadlineMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bench/run.mjs', '--quick', '--out', out], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench/run.mjs --quick still running after ${deadlineMs} ms:\n${output}`));
    }, deadlineMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`bench/run.mjs --quick exited with ${code}:\n${output}`));
    });
  });
}

function positive(value, what) {
  assert.equal(typeof value, 'number', `${what} is a number (got ${JSON.stringify(value)})`);
  assert.ok(Number.isFinite(value) && value > 0, `${what} is finite and positive (got ${value})`);
}

test('the quick benchmark runs and reports every figure, without touching the committed results', async (t) => {
  const committed = ['results.json', 'RESULTS.md'].map((file) => statSync(join(ROOT, 'bench', file)).mtimeMs);
  const out = mkdtempSync(join(tmpdir(), 'rtc-call-bench-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  await runQuick(out, 170_000);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  const markdown = readFileSync(join(out, 'RESULTS.md'), 'utf8');

  assert.equal(results.quick, true);
  positive(results.bundle.gzipBytes, 'bundle gzip bytes');
  assert.equal(results.bundle.file, 'dist/rtc-call.js');
  for (const key of ['oursMs', 'floorMs', 'ratio']) positive(results.loopbackSetup[key], `loopbackSetup.${key}`);
  for (const key of ['oursMs', 'peerjsMs', 'rawMs', 'ratioVsPeerjs', 'ratioVsRaw']) {
    positive(results.signaledSetup[key], `signaledSetup.${key}`);
  }
  // Across simulated homes: measured as root (as in CI), else skipped with the reason.
  if (process.getuid?.() === 0) {
    for (const key of ['oursMs', 'floorMs', 'ratio']) positive(results.homesSetup[key], `homesSetup.${key}`);
  } else assert.match(results.homesSetup.skipped, /root/);
  for (const key of ['bytes', 'seconds', 'mbPerSecond', 'senderHeapPeakMB']) {
    positive(results.fileTransfer[key], `fileTransfer.${key}`);
  }

  const server = results.server;
  positive(server.messageBytes, 'server.messageBytes');
  assert.ok(
    server.messageBytes >= 4000 && server.messageBytes <= 6500,
    `SDP-sized messages (${server.messageBytes} B)`,
  );
  for (const kind of KINDS) {
    const load = server.load[kind];
    // Every message arrived, from clients that kept to our server's default limits.
    assert.equal(load.complete, true, `${kind}: ${JSON.stringify(load.runs)}`);
    for (const key of ['p50Ms', 'p99Ms', 'serverUsPerMessage']) positive(load[key], `${kind} ${key}`);
  }
  assert.equal(server.load.ours.limits.joinRate.burst, 20, 'ours at its default limits');
  for (const key of ['cpuPerMessageVsPeer', 'p99VsPeer', 'idleCpuVsPeer', 'rssPerConnectionVsRaw']) {
    assert.ok(server.ratios[key] === null || server.ratios[key] > 0, `${key}: ${server.ratios[key]}`);
  }
  positive(server.ratios.cpuPerMessageVsPeer, 'CPU per message, ours / PeerJS');
  positive(server.ratios.p99VsPeer, 'p99, ours / PeerJS');
  assert.deepEqual(
    server.scales.map((row) => row.connections),
    server.config.scales,
  );
  for (const row of server.scales) {
    assert.equal(row.skipped, undefined, `${row.connections} connections measured`);
    for (const kind of KINDS) {
      const at = `${kind} at ${row.connections}`;
      // RSS grows in steps of a few hundred KB: at 100 connections it can come out at 0.
      if (row.connections >= 1000) positive(row[kind].rssPerConnectionKB, `${at}: rssPerConnectionKB`);
      else assert.ok(Number.isFinite(row[kind].rssPerConnectionKB), `${at}: RSS per connection is a number`);
      for (const key of ['heapPerConnectionKB', 'connectPerSecond', 'p50Ms', 'p99Ms', 'serverUsPerMessage']) {
        positive(row[kind][key], `${at}: ${key}`);
      }
    }
  }
  assert.match(markdown, /## Signaling server/);
  assert.match(markdown, /### The four figures/);
  assert.match(markdown, /quick mode/);

  // Quick figures never replace the committed ones.
  assert.deepEqual(
    ['results.json', 'RESULTS.md'].map((file) => statSync(join(ROOT, 'bench', file)).mtimeMs),
    committed,
  );
});
