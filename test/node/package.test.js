/**
 * The package as npm ships it: `npm pack` builds lib/ and dist/ (prepack) and packs them with the
 * LICENSE; the tarball installed into a fresh project brings `@redis/client` and not the `redis`
 * meta-package, its `rtc-call-server` bin runs with `npx` (the demo, the bundle, /healthz), without
 * the Redis client even installed when REDIS_URL is unset, and each entry point imports.
 *
 * Run: node --test --test-concurrency=1 test/node/package.test.js (about a minute: it builds).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { ROOT, withTimeout } from './browser-harness.js';

const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** `npx rtc-call-server --port 0` in `cwd`: its URL, and a stop. */
async function startBin(cwd) {
  const child = spawn('npx', ['--no-install', 'rtc-call-server', '--port', '0'], {
    cwd,
    env: { ...process.env, REDIS_URL: '', JOIN_SECRET: '', TURN_SECRET: '', PORT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const output = [];
  child.stderr.on('data', (chunk) => output.push(String(chunk)));
  const url = await withTimeout(
    new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        output.push(line);
        const match = /"url":"(http:\/\/[^"]+\/)"/.exec(line);
        if (match) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`the bin exited (${code}):\n${output.join('\n')}`)));
    }),
    30_000,
    'npx rtc-call-server',
  );
  return {
    url,
    stop() {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // gone already
      }
    },
  };
}

test('npm pack → install in a fresh project → npx rtc-call-server, and every entry point imports', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtc-call-pack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], ROOT));
  const files = packed.files.map((file) => file.path);
  for (const file of ['LICENSE', 'README.md', 'package.json', 'custom-elements.json', 'bin/rtc-call-server.js']) {
    assert.ok(files.includes(file), `${file} in the tarball`);
  }
  for (const file of ['dist/rtc-call.js', 'lib/index.js', 'lib/define.js', 'lib/server/cli.js', 'demo/index.html']) {
    assert.ok(files.includes(file), `${file} in the tarball (built by prepack)`);
  }
  assert.deepEqual(
    files.filter((file) => /^(src|test|bench|scripts|dist\/chunks)\//.test(file)),
    [],
    'sources, tests and old chunks stay out',
  );

  const project = join(dir, 'site');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'site', private: true, type: 'module' }));
  // The React wrapper's peer, at the version the cache already holds.
  const react = JSON.parse(readFileSync(`${ROOT}node_modules/react/package.json`, 'utf8')).version;
  npm(
    ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, packed.filename), `react@${react}`],
    project,
  );
  const modules = join(project, 'node_modules');
  assert.ok(existsSync(join(modules, '@redis/client')), '@redis/client installed');
  for (const unwanted of ['redis', '@redis/bloom', '@redis/json', '@redis/search', '@redis/time-series']) {
    assert.ok(!existsSync(join(modules, unwanted)), `${unwanted} is not installed`);
  }

  // The server without REDIS_URL never loads the Redis client: it runs with the client gone.
  renameSync(join(modules, '@redis/client'), join(modules, '@redis/client-away'));
  const server = await startBin(project);
  t.after(() => server.stop());
  const get = async (path) => {
    const response = await fetch(new URL(path, server.url), { signal: AbortSignal.timeout(10_000) });
    return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
  };
  assert.equal((await get('/healthz')).status, 200);
  const bundle = await get('/rtc-call.js');
  assert.equal(bundle.status, 200);
  assert.equal(bundle.body, readFileSync(join(modules, 'rtc-call/dist/rtc-call.js'), 'utf8'));
  assert.match((await get('/')).type, /^text\/html/);
  server.stop();
  renameSync(join(modules, '@redis/client-away'), join(modules, '@redis/client'));

  const probe = `
    const seen = {};
    for (const specifier of ['rtc-call', 'rtc-call/define', 'rtc-call/element', 'rtc-call/react', 'rtc-call/vue',
      'rtc-call/server', 'rtc-call/rtc-call.js']) {
      seen[specifier] = Object.keys(await import(specifier)).sort();
    }
    const manifest = await import('rtc-call/custom-elements.json', { with: { type: 'json' } });
    seen.manifest = manifest.default.modules.some((m) => m.declarations?.some((d) => d.tagName === 'rtc-call'));
    seen.version = (await import('rtc-call/package.json', { with: { type: 'json' } })).default.version;
    console.log(JSON.stringify(seen));`;
  const seen = JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: project, encoding: 'utf8' }),
  );
  assert.ok(seen['rtc-call'].includes('RtcCall') && seen['rtc-call'].includes('RtcCallError'));
  for (const specifier of ['rtc-call/define', 'rtc-call/element', 'rtc-call/react', 'rtc-call/rtc-call.js'])
    assert.ok(seen[specifier].includes('RtcCall'), specifier);
  assert.deepEqual(seen['rtc-call/vue'], []);
  assert.ok(seen['rtc-call/server'].includes('startServer'));
  assert.equal(seen.manifest, true);
  assert.equal(seen.version, JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).version);
});
