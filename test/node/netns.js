/**
 * Two homes and the internet between them, in network namespaces (needs root, iproute2 and
 * iptables): each home a host behind its own NAT router, both homes with the same private
 * address, and a "public" namespace where the rtc-call server and coturn run.
 *
 *   home A  192.0.2.2 ── 192.0.2.1 [router A] 203.0.113.2 ─┐
 *                                                         ├─ br0 203.0.113.1 (public: server, coturn)
 *   home B  192.0.2.2 ── 192.0.2.1 [router B] 203.0.113.3 ─┘
 *
 * Only TEST-NET addresses (RFC 5737), only inside namespaces made here; `close()` deletes them,
 * and a later run deletes those a killed run left behind.
 *
 * A router is `cone` (MASQUERADE: the source port is kept where it can be, and only the address
 * and port a host sent to may answer: a port-restricted cone NAT) or `symmetric` (MASQUERADE
 * --random-fully: a new port for every destination). Either way it drops unsolicited packets to
 * itself, as a home router does: otherwise Linux conntrack would take a peer's first check for a
 * connection of the router's own and map the host's next packet to another port.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

export const PUBLIC_IP = '203.0.113.1';
export const HOME_IP = '192.0.2.2';
const ROUTER_LAN_IP = '192.0.2.1';
const WAN_IP = { a: '203.0.113.2', b: '203.0.113.3' };

/** Every namespace made here starts with this, then the pid of the process that made it. */
const PREFIX = 'rtccall-';

const run = (command, args) => execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const inside = (ns, command, args) => run('ip', ['netns', 'exec', ns, command, ...args]);

/** Why these tests cannot run here, or undefined when they can. */
export function netnsUnavailable() {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const [tool, hint] of [
    ['ip', 'apt-get install -y iproute2'],
    ['iptables', 'apt-get install -y iptables'],
  ]) {
    try {
      run(tool, ['-V']);
    } catch {
      return `${tool} is missing: ${hint}`;
    }
  }
  return undefined;
}

function listNamespaces() {
  return run('ip', ['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter(Boolean);
}

/** Deletes the namespaces of runs whose process is gone (killed before it could clean up). */
function sweepLeftovers() {
  for (const ns of listNamespaces()) {
    if (!ns.startsWith(PREFIX)) continue;
    const pid = Number(ns.slice(PREFIX.length).split('-')[0]);
    let alive = pid === process.pid;
    try {
      if (!alive) process.kill(pid, 0);
      alive = true;
    } catch {
      alive = false;
    }
    if (!alive) deleteNamespace(ns);
  }
}

function deleteNamespace(ns) {
  try {
    run('ip', ['netns', 'delete', ns]);
  } catch {
    // Already gone.
  }
}

let made = 0;

/**
 * Builds the two homes. `nat` is `{ a, b }`, each `cone` or `symmetric`. Returns the topology;
 * `close()` removes it all and is safe to call twice.
 */
export function buildHomes({ nat = { a: 'cone', b: 'cone' } } = {}) {
  sweepLeftovers();
  const id = `${PREFIX}${process.pid}-${++made}`;
  const names = { pub: `${id}-pub`, ra: `${id}-ra`, rb: `${id}-rb`, a: `${id}-a`, b: `${id}-b` };
  const dir = mkdtempSync(`${tmpdir()}/rtc-call-netns-`);
  const close = () => {
    for (const ns of Object.values(names)) deleteNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const ns of Object.values(names)) {
      run('ip', ['netns', 'add', ns]);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      // IPv4 only: no link-local IPv6 candidates on the veths.
      inside(ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
    }
    const ip = (ns, ...args) => run('ip', ['-n', ns, ...args]);
    ip(names.pub, 'link', 'add', 'br0', 'type', 'bridge');
    ip(names.pub, 'addr', 'add', `${PUBLIC_IP}/24`, 'dev', 'br0');
    ip(names.pub, 'link', 'set', 'br0', 'up');
    for (const side of ['a', 'b']) {
      const router = names[`r${side}`];
      const home = names[side];
      // Router's WAN end on the public bridge.
      run('ip', [
        'link',
        'add',
        'wan',
        'netns',
        router,
        'type',
        'veth',
        'peer',
        'name',
        `r${side}`,
        'netns',
        names.pub,
      ]);
      ip(names.pub, 'link', 'set', `r${side}`, 'master', 'br0', 'up');
      ip(router, 'addr', 'add', `${WAN_IP[side]}/24`, 'dev', 'wan');
      ip(router, 'link', 'set', 'wan', 'up');
      // The home's one host on the router's LAN.
      run('ip', ['link', 'add', 'lan', 'netns', router, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', home]);
      ip(router, 'addr', 'add', `${ROUTER_LAN_IP}/24`, 'dev', 'lan');
      ip(router, 'link', 'set', 'lan', 'up');
      ip(home, 'addr', 'add', `${HOME_IP}/24`, 'dev', 'eth0');
      ip(home, 'link', 'set', 'eth0', 'up');
      ip(home, 'route', 'add', 'default', 'via', ROUTER_LAN_IP);
      inside(router, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
      const iptables = (...args) => inside(router, 'iptables', ['-w', ...args]);
      const masquerade = ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE'];
      iptables(...masquerade, ...(nat[side] === 'symmetric' ? ['--random-fully'] : []));
      iptables('-A', 'INPUT', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP');
      iptables('-A', 'FORWARD', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP');
    }
  } catch (error) {
    close();
    throw new Error(`could not build the network namespaces: ${error.stderr?.toString() || error.message}`, {
      cause: error,
    });
  }

  /** A script that runs Chromium inside `ns` (playwright-core's executablePath). */
  const chromiumIn = (ns, chromium) => {
    const path = `${dir}/chromium-${ns}`;
    writeFileSync(path, `#!/bin/sh\nexec ip netns exec ${ns} ${chromium} "$@"\n`);
    chmodSync(path, 0o755);
    return path;
  };

  return {
    names,
    publicIp: PUBLIC_IP,
    /** Spawns `command` inside the public namespace (the server, coturn). */
    spawnPublic(command, args, options) {
      return spawn('ip', ['netns', 'exec', names.pub, command, ...args], options);
    },
    /** The wrapper script that starts `chromium` in home `side` (`a` or `b`). */
    chromiumIn: (side, chromium) => chromiumIn(names[side], chromium),
    /**
     * Between the two homes, only STUN gets through from now on (ICE checks and consent pass,
     * media is dropped): a direct path that stays `connected` with its picture frozen. Traffic
     * to the public namespace (the server, TURN) is untouched.
     */
    freezeDirectMedia() {
      for (const side of ['a', 'b']) {
        const other = WAN_IP[side === 'a' ? 'b' : 'a'];
        inside(names[`r${side}`], 'iptables', [
          '-w',
          '-I',
          'FORWARD',
          '-p',
          'udp',
          '-d',
          other,
          '-m',
          'u32',
          '!',
          '--u32',
          // The STUN magic cookie at UDP payload offset 4 (after the IP header and UDP's 8 bytes).
          '0>>22&0x3C@12=0x2112A442',
          '-j',
          'DROP',
        ]);
      }
    },
    /** The routers' NAT table entries (conntrack), for a failure message. */
    conntrack(side) {
      try {
        return inside(names[`r${side}`], 'iptables', ['-w', '-t', 'nat', '-L', '-n', '-v']);
      } catch (error) {
        return String(error);
      }
    },
    close,
  };
}
