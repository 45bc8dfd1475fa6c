/**
 * The deployment guide of docs/server.md, run as written: its files (the settings file, the
 * systemd unit, nginx's site or the Caddyfile, coturn's configuration) are read from the page,
 * given a test certificate, and started in network namespaces. The public host has the guide's two
 * addresses, call.example.com (203.0.113.10: the proxy) and turn.example.com (203.0.113.11:
 * coturn); two homes behind symmetric NATs find them by name (a name server for the test), so a call
 * between them can only go through coturn. Two server instances share rooms through Redis. Then
 * the guide's "what to check" commands run from a home, and a call is made on the demo page; with
 * nginx, a second call from homes whose firewall lets only 443 out (TURN over TLS).
 *
 * Needs root, iproute2, iptables, nginx, caddy, coturn, redis-server, curl, openssl, Chromium.
 * Run: node --test --test-concurrency=1 test/node/deploy.test.js
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import MarkdownIt from 'markdown-it';
import { findChromium } from '../../scripts/browsers.mjs';
import {
  ROOT,
  WAIT,
  closeAll,
  expectMediaFlowing,
  launchChromium,
  nginxConfig,
  uniqueRoom,
  withTimeout,
} from './browser-harness.js';
import { PUBLIC_IP, buildHomes, netnsUnavailable } from './netns.js';

const CALL_IP = '203.0.113.10';
const TURN_IP = '203.0.113.11';

function missingTool() {
  const why = netnsUnavailable();
  if (why) return why;
  for (const [tool, args, hint] of [
    ['nginx', ['-v'], 'apt-get install -y nginx'],
    ['caddy', ['version'], 'apt-get install -y caddy'],
    ['turnserver', ['-h'], 'apt-get install -y coturn'],
    ['redis-server', ['--version'], 'apt-get install -y redis-server'],
    ['curl', ['--version'], 'apt-get install -y curl'],
    ['systemd-analyze', ['--version'], 'apt-get install -y systemd'],
  ]) {
    if (spawnSync(tool, args, { stdio: 'ignore' }).error) return `${tool} is missing: ${hint}`;
  }
  return undefined;
}
const unavailable = missingTool();
const options = (timeout) => ({ timeout, ...(unavailable ? { skip: unavailable } : {}) });

/** The fenced blocks of docs/server.md whose info string names a file: `{ path → text }`; and the `sh` blocks in order. */
function guide() {
  const tokens = new MarkdownIt().parse(readFileSync(join(ROOT, 'docs/server.md'), 'utf8'), {});
  const files = {};
  const shell = [];
  for (const token of tokens.filter((t) => t.type === 'fence')) {
    const [lang, path] = token.info.trim().split(/\s+/);
    if (path) files[path] = token.content;
    else if (lang === 'sh') shell.push(token.content);
  }
  return { files, shell };
}

/** A self-signed certificate for both names of the guide, in `dir`. */
function certificate(dir) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1']
      .concat(['-subj', '/CN=call.example.com'])
      .concat(['-addext', 'subjectAltName=DNS:call.example.com,DNS:turn.example.com'])
      .concat(['-keyout', key, '-out', cert]),
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** The guide's certificate paths, made the test's. */
const withCertificate = (text, { cert, key }) =>
  text
    .replaceAll(/\/etc\/letsencrypt\/live\/[a-z.]+\/fullchain\.pem/g, cert)
    .replaceAll(/\/etc\/letsencrypt\/live\/[a-z.]+\/privkey\.pem/g, key);

/** `KEY=VALUE` lines, as systemd's EnvironmentFile reads them (comments and blank lines skipped). */
function environmentFile(text) {
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/** `Key=value` lines of one section of a unit file. */
function unitSection(text, section) {
  const lines = text.split(`[${section}]`)[1].split(/\n\[/)[0].split('\n');
  return lines
    .filter((line) => /^[A-Za-z]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
}

/** A process in the public namespace, its output kept; `waitFor(re)` resolves on the first line matching. */
function daemon(t, net, name, command, args, { env = process.env } = {}) {
  const child = net.spawnPublic(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const waiters = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      for (const waiter of waiters) if (waiter.re.test(line)) waiter.resolve(line);
    });
  }
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
  return {
    name,
    child,
    exited,
    output: () => lines.join('\n'),
    waitFor(re) {
      const found = lines.find((line) => re.test(line));
      if (found) return Promise.resolve(found);
      return withTimeout(
        Promise.race([
          new Promise((resolve) => waiters.push({ re, resolve })),
          exited.then(({ code }) => {
            throw new Error(`${name} exited (${code}) before printing ${re}:\n${lines.join('\n')}`);
          }),
        ]),
        WAIT,
        `${name} to print ${re}:\n${lines.join('\n')}`,
      );
    },
  };
}

/** Runs `command` in `ns` until it exits 0 or `ms` pass. */
async function until(ns, command, args, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const result = spawnSync('ip', ['netns', 'exec', ns, command, ...args], { encoding: 'utf8', timeout: 5000 });
    if (result.status === 0) return result.stdout;
    if (Date.now() > deadline) throw new Error(`${command} ${args.join(' ')} in ${ns}: ${result.stderr}`);
    await sleep(200);
  }
}

/**
 * The guide's deployment, with `proxy` (`nginx` or `caddy`) in front: Redis, the two systemd
 * instances, the proxy, coturn, all in the public namespace; the homes resolve the guide's names.
 */
async function deploy(t, proxy) {
  const { files, shell } = guide();
  const net = buildHomes({ nat: { a: 'symmetric', b: 'symmetric' } });
  t.after(() => net.close());
  const dir = mkdtempSync(join(tmpdir(), 'rtc-call-deploy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tls = certificate(dir);
  const pub = net.names.pub;
  for (const ip of [CALL_IP, TURN_IP]) execFileSync('ip', ['-n', pub, 'addr', 'add', `${ip}/24`, 'dev', 'br0']);
  // The guide's names, from a name server on the public network: `ip netns exec` puts
  // /etc/netns/<ns>/resolv.conf over /etc/resolv.conf in each home.
  const dns = daemon(t, net, 'dns', process.execPath, [
    join(ROOT, 'test/node/dns-server.js'),
    PUBLIC_IP,
    `call.example.com=${CALL_IP}`,
    `turn.example.com=${TURN_IP}`,
  ]);
  await dns.waitFor(/^listening$/);
  for (const ns of [net.names.a, net.names.b]) {
    mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    writeFileSync(`/etc/netns/${ns}/resolv.conf`, `nameserver ${PUBLIC_IP}\n`);
    t.after(() => rmSync(`/etc/netns/${ns}`, { recursive: true, force: true }));
  }

  // Redis, as Debian's redis-server listens: 127.0.0.1:6379.
  const redis = daemon(t, net, 'redis', 'redis-server', [
    '--bind',
    '127.0.0.1',
    '--port',
    '6379',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  await redis.waitFor(/Ready to accept connections/);

  // The systemd unit: checked by systemd-analyze, then started as systemd would (its
  // EnvironmentFile, its Environment, its ExecStart), one instance per port.
  const unitText = files['/etc/systemd/system/rtc-call@.service']
    .replace('/usr/bin/node', process.execPath)
    .replace('/opt/rtc-call/node_modules/rtc-call/', ROOT)
    .replace('/etc/rtc-call.env', join(dir, 'rtc-call.env'));
  writeFileSync(join(dir, 'rtc-call.env'), files['/etc/rtc-call.env']);
  writeFileSync(join(dir, 'rtc-call@8080.service'), unitText);
  const verify = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'rtc-call@8080.service')], {
    encoding: 'utf8',
  });
  assert.equal(verify.status, 0, verify.stderr);
  assert.doesNotMatch(verify.stderr, /rtc-call@8080\.service/, `systemd-analyze: ${verify.stderr}`);
  const service = unitSection(unitText, 'Service');
  const settings = environmentFile(files['/etc/rtc-call.env']);
  const instances = [];
  for (const port of ['8080', '8081']) {
    const env = { PATH: process.env.PATH, ...settings };
    for (const [, value] of service.filter(([key]) => key === 'Environment')) {
      const [name, ...rest] = value.split('=');
      env[name] = rest.join('=').replace('%i', port);
    }
    const [command, ...args] = service.find(([key]) => key === 'ExecStart')[1].split(' ');
    const instance = daemon(t, net, `rtc-call@${port}`, command, args, { env });
    instances.push(instance);
  }
  for (const instance of instances) await instance.waitFor(/"msg":"rtc-call server listening"/);

  // coturn, as its configuration file says, logging to stdout.
  // The homes here use 192.0.2.0/24 where real homes use 192.168.0.0/16: denied as the guide denies that.
  writeFileSync(
    join(dir, 'turnserver.conf'),
    `${withCertificate(files['/etc/turnserver.conf'], tls)}denied-peer-ip=192.0.2.0-192.0.2.255\n`,
  );
  const coturn = daemon(t, net, 'coturn', 'turnserver', [
    '-c',
    join(dir, 'turnserver.conf'),
    '--log-file=stdout',
    '--verbose', // its allocations in the log
  ]);
  await until(pub, 'turnutils_stunclient', ['-p', '3478', TURN_IP]);

  if (proxy === 'nginx') {
    writeFileSync(join(dir, 'site.conf'), withCertificate(files['/etc/nginx/sites-available/rtc-call'], tls));
    mkdirSync(join(dir, 'nginx'));
    // Debian's /etc/nginx/nginx.conf includes the sites: so does the test's, from its folder.
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(join(dir, 'nginx'), `  include ${dir}/site.conf;`));
    daemon(t, net, 'nginx', 'nginx', ['-c', join(dir, 'nginx.conf'), '-e', 'stderr']);
  } else {
    // Caddy would get its certificate from Let's Encrypt: here it is given the test's.
    const caddyfile = files['/etc/caddy/Caddyfile'].replace(
      /^(call\.example\.com \{)$/m,
      `$1\n  tls ${tls.cert} ${tls.key}`,
    );
    writeFileSync(join(dir, 'Caddyfile'), caddyfile);
    const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
    daemon(t, net, 'caddy', 'caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { env });
  }
  await until(net.names.a, 'curl', ['-fsS', '--cacert', tls.cert, 'https://call.example.com/healthz']);
  return { net, dir, tls, shell, instances, coturn };
}

/** The guide's "what to check" commands, run in home A with the test certificate trusted. */
function runChecks({ net, tls, shell }) {
  const checks = shell.find((block) => block.includes('/healthz'));
  assert.ok(checks, 'docs/server.md has the checks');
  return execFileSync('ip', ['netns', 'exec', net.names.a, 'bash', '-c', checks], {
    encoding: 'utf8',
    env: { ...process.env, CURL_CA_BUNDLE: tls.cert, SSL_CERT_FILE: tls.cert },
    timeout: 30_000,
  });
}

/** Chromium in each home on the demo page at https://call.example.com, both in one room, called. */
async function callFromHomes(t, { net, coturn, instances }) {
  const room = uniqueRoom('deploy');
  const launch = (side) =>
    launchChromium({
      label: side.toUpperCase(),
      executablePath: net.chromiumIn(side, findChromium()),
      extraArgs: ['--ignore-certificate-errors'],
    });
  const browsers = [await launch('a'), await launch('b')];
  t.after(() => closeAll(...browsers));
  const [a, b] = [
    await browsers[0].open(`https://call.example.com/?room=${room}&name=Ada`),
    await browsers[1].open(`https://call.example.com/?room=${room}&name=Bob`),
  ];
  for (const page of [a, b]) await page.armFrames();
  await a.call();
  await a.waitForState('waiting');
  await b.call();
  await expectMediaFlowing([a, b], { frames: 10, timeout: 40_000 }).catch(async (error) => {
    error.message += `\ncoturn:\n${coturn.output()}`;
    for (const instance of instances) error.message += `\n${instance.name}:\n${instance.output()}`;
    throw error;
  });
  return [a, b];
}

/** The candidate types of the pair a page's call uses, and how its local end reaches coturn. */
async function relayedOver(page) {
  return page.evaluate(async () => {
    const stats = await document.querySelector('rtc-call').connections[0].getStats();
    const all = [...stats.values()];
    const transport = all.find((r) => r.type === 'transport');
    const pair = all.find((r) => r.id === transport?.selectedCandidatePairId);
    const local = all.find((r) => r.id === pair?.localCandidateId);
    const remote = all.find((r) => r.id === pair?.remoteCandidateId);
    return { local: local?.candidateType, remote: remote?.candidateType, relayProtocol: local?.relayProtocol };
  });
}

/**
 * Each page's call goes through coturn: one end of its pair at least is a relay (the other may be
 * the far side's NAT, found as a peer-reflexive candidate), and the element says `relayed`.
 */
async function throughCoturn(pages) {
  for (const page of pages) {
    const pair = await relayedOver(page);
    assert.ok(pair.local === 'relay' || pair.remote === 'relay', `${page.label}: ${JSON.stringify(pair)}`);
    await page.waitFor(() => document.querySelector('rtc-call').stats?.path === 'relayed', undefined, {
      what: 'rtc-call-stats to say relayed',
    });
  }
}

/**
 * `systemctl restart rtc-call@8080` (SIGTERM): it exits 0, its client moves to the other instance
 * through the proxy (a re-join its seat's secret vouches for), and the call carries on meanwhile:
 * no `peer-left`, frames all along.
 */
async function restartOne({ instances }, pages) {
  const [first] = instances;
  const before = await Promise.all(pages.map((page) => page.frameCount()));
  for (const page of pages) await page.trackStatus();
  first.child.kill('SIGTERM');
  assert.deepEqual(await withTimeout(first.exited, 15_000, 'rtc-call@8080 to stop'), { code: 0, signal: null });
  // The client of rtc-call@8080 lost its signaling socket and got it back (on rtc-call@8081).
  const deadline = Date.now() + WAIT;
  for (;;) {
    const histories = await Promise.all(pages.map((page) => page.statusHistory()));
    const moved = histories.findIndex((history) => history.some(({ text }) => /Signaling connection lost/.test(text)));
    if (moved >= 0 && !/reconnecting/.test(await pages[moved].statusText())) break;
    assert.ok(Date.now() < deadline, `no client moved and came back: ${JSON.stringify(histories)}`);
    await sleep(100);
  }
  await Promise.all(pages.map((page, i) => page.waitForFrames(before[i] + 60)));
  for (const page of pages) {
    assert.equal(await page.state(), 'connected');
    assert.deepEqual(await page.events('rtc-call-peer-left'), [], page.label);
  }
}

/** Established TCP connections from the proxy to an instance's port, in the public namespace. */
function socketsTo(net, port) {
  return execFileSync(
    'ip',
    ['netns', 'exec', net.names.pub, 'ss', '-Htn', 'state', 'established', `( dport = :${port} )`],
    {
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter(Boolean).length;
}

test(
  'the deployment guide with nginx: checks pass, a call between symmetric NATs goes through coturn, and through turns: on 443 when only 443 gets out',
  options(180_000),
  async (t) => {
    const deployment = await deploy(t, 'nginx');
    const { net, coturn } = deployment;
    const checks = runChecks(deployment);
    const lines = checks.trim().split('\n');
    assert.equal(lines[0], 'ok', checks);
    assert.match(lines[1], /^HTTP\/1\.1 200 OK/, checks);
    assert.equal(lines[2], '403', checks);
    assert.equal(lines[3], 'Verification: OK', checks);
    // turnutils_stunclient tells home A its public address: router A's, 203.0.113.2.
    assert.match(checks, /UDP reflexive addr: 203\.0\.113\.2:\d+/, checks);

    const [a, b] = await callFromHomes(t, deployment);
    await throughCoturn([a, b]);
    // least_conn put the two signaling sockets on the two instances, whose rooms are one in Redis.
    assert.deepEqual([socketsTo(net, 8080), socketsTo(net, 8081)], [1, 1]);
    assert.match(coturn.output(), /ALLOCATE processed, success/);

    await restartOne(deployment, [a, b]);

    // An office firewall at both routers: from the LAN, only TCP 443 (and the name server) gets
    // out; no UDP, no TCP 3478. What is left is TURN over TLS on 443.
    for (const side of ['ra', 'rb']) {
      const iptables = (...args) =>
        execFileSync('ip', ['netns', 'exec', net.names[side], 'iptables', '-w', ...args], { stdio: 'ignore' });
      iptables('-I', 'FORWARD', '1', '-i', 'lan', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP');
      iptables('-I', 'FORWARD', '1', '-i', 'lan', '-p', 'udp', '-d', PUBLIC_IP, '--dport', '53', '-j', 'ACCEPT');
      iptables('-I', 'FORWARD', '1', '-i', 'lan', '-p', 'tcp', '--dport', '443', '-j', 'ACCEPT');
    }
    const [c, d] = await callFromHomes(t, deployment);
    for (const page of [c, d]) {
      const pair = await relayedOver(page);
      assert.deepEqual([pair.local, pair.relayProtocol], ['relay', 'tls'], `${page.label}: ${JSON.stringify(pair)}`);
    }
  },
);

test(
  'the deployment guide with Caddy: the checks pass and a call between symmetric NATs goes through coturn',
  options(120_000),
  async (t) => {
    const deployment = await deploy(t, 'caddy');
    const checks = runChecks(deployment);
    const lines = checks.trim().split('\n');
    assert.equal(lines[0], 'ok', checks);
    assert.match(lines[1], /^HTTP\/[12](\.1)? 200/, checks);
    assert.equal(lines[2], '403', checks);
    assert.equal(lines[3], 'Verification: OK', checks);
    const [a, b] = await callFromHomes(t, deployment);
    await throughCoturn([a, b]);
    // Both instances serve: Caddy keeps idle connections to them besides the two sockets.
    for (const port of [8080, 8081]) assert.ok(socketsTo(deployment.net, port) >= 1, `nothing on ${port}`);
    await restartOne(deployment, [a, b]);
  },
);
