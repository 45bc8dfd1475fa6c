// First step of `npm test`: say in one line how to get a browser, rather than fail deep inside a runner.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findChromium, findFirefox } from './browsers.mjs';

if (!findChromium()) {
  console.error(
    'npm test needs Chromium: install it with `sudo apt-get install -y chromium` (Debian/Ubuntu), or set CHROME_PATH to a Chromium or Chrome binary.',
  );
  process.exit(1);
}
if (!findFirefox()) {
  console.error(
    'npm test needs Firefox for the cross-browser call: install it with `sudo apt-get install -y firefox-esr`, or set FIREFOX_PATH.',
  );
  process.exit(1);
}
if (!existsSync('/usr/bin/turnserver')) {
  console.error('npm test needs coturn for the relay tests: install it with `sudo apt-get install -y coturn`.');
  process.exit(1);
}
if (!existsSync('/usr/bin/WebKitWebDriver') || !existsSync('/usr/bin/Xvfb')) {
  console.error(
    'npm test needs WebKitGTK for the WebKit test: install it with `sudo apt-get install -y webkit2gtk-driver xvfb`.',
  );
  process.exit(1);
}
/** Exits with one line saying how to get `command` unless it runs. */
function need(command, versionFlag, pkg, what) {
  try {
    execFileSync(command, [versionFlag], { stdio: 'ignore' });
  } catch {
    console.error(`npm test needs ${pkg} for ${what}: install it with \`sudo apt-get install -y ${pkg}\`.`);
    process.exit(1);
  }
}
need('openssl', 'version', 'openssl', 'the TLS test certificate');
need('redis-server', '--version', 'redis-server', 'the scale-out test');
// The network tests build simulated homes as root; without root they are skipped (and say so).
if (process.getuid?.() === 0) {
  need('ip', '-V', 'iproute2', 'the network tests (simulated home networks)');
  need('iptables', '-V', 'iptables', 'the network tests (NAT routers)');
}
