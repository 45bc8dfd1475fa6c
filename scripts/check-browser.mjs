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
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  console.error(
    'npm test needs openssl for the TLS test certificate: install it with `sudo apt-get install -y openssl`.',
  );
  process.exit(1);
}
try {
  execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
} catch {
  console.error(
    'npm test needs redis-server for the scale-out test: install it with `sudo apt-get install -y redis-server`.',
  );
  process.exit(1);
}
