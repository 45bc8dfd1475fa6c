// The README's picture: two people in a call on the demo page, as the element shows it.
//
//   npm run screenshot      (builds, then writes docs/screenshot.png)
//
// The rtc-call server runs in this process on a free port; two headless Chromiums open the demo in
// one room, as Ada and Bob, and both press Join. Each camera is a generated picture of a person
// (Chromium plays it as its fake camera), so the shot shows two people rather than test patterns.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../lib/server/index.js';
import { CHROMIUM_ARGS, findChromium } from './browsers.mjs';

const OUT = fileURLToPath(new URL('../docs/screenshot.png', import.meta.url));
const WIDTH = 640;
const HEIGHT = 480;

/** RGB → the Y, U, V of BT.601 (studio range), as a Y4M 4:2:0 file carries them. */
function yuv([r, g, b]) {
  return [
    16 + (65.7 * r + 129 * g + 25.1 * b) / 256,
    128 + (-37.9 * r - 74.4 * g + 112.4 * b) / 256,
    128 + (112.4 * r - 94.1 * g - 18.2 * b) / 256,
  ].map(Math.round);
}

/**
 * A head-and-shoulders figure on a coloured wall, as a Y4M video of a few frames (it breathes a
 * little, so the remote video is seen to play).
 */
function person({ wall, skin, shirt, hair }, frames = 30) {
  const header = `YUV4MPEG2 W${WIDTH} H${HEIGHT} F15:1 Ip A1:1 C420jpeg\n`;
  const size = WIDTH * HEIGHT;
  const parts = [Buffer.from(header)];
  const colours = [wall, skin, shirt, hair].map(yuv);
  for (let f = 0; f < frames; f++) {
    const lift = Math.round(4 * Math.sin((f / frames) * 2 * Math.PI));
    const plane = Buffer.alloc(size * 1.5);
    const pick = (x, y) => {
      const head = ((x - 320) / 78) ** 2 + ((y - 200 - lift) / 96) ** 2 <= 1;
      const hair_ = ((x - 320) / 84) ** 2 + ((y - 172 - lift) / 80) ** 2 <= 1 && y < 170 + lift;
      const body = ((x - 320) / 200) ** 2 + ((y - 500 - lift) / 190) ** 2 <= 1;
      const neck = Math.abs(x - 320) < 34 && y > 270 + lift && y < 330 + lift;
      if (hair_) return colours[3];
      if (head || neck) return colours[1];
      if (body) return colours[2];
      return colours[0];
    };
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0; x < WIDTH; x++) {
        plane[y * WIDTH + x] = pick(x, y)[0];
        if (x % 2 === 0 && y % 2 === 0) {
          const i = (y / 2) * (WIDTH / 2) + x / 2;
          const [, u, v] = pick(x, y);
          plane[size + i] = u;
          plane[size + size / 4 + i] = v;
        }
      }
    }
    parts.push(Buffer.from('FRAME\n'), plane);
  }
  return Buffer.concat(parts);
}

const PEOPLE = {
  Ada: { wall: [196, 214, 232], skin: [224, 172, 140], shirt: [46, 94, 170], hair: [70, 44, 30] },
  Bob: { wall: [236, 222, 196], skin: [150, 104, 78], shirt: [176, 64, 52], hair: [28, 24, 22] },
};

export async function screenshot(out = OUT) {
  const executablePath = findChromium();
  if (!executablePath) throw new Error('no Chromium found: apt-get install -y chromium, or set CHROME_PATH');
  const dir = mkdtempSync(join(tmpdir(), 'rtc-call-screenshot-'));
  const server = await startServer({ port: 0, host: '127.0.0.1', stunPort: 0 });
  const browsers = [];
  try {
    const room = `screenshot-${Date.now()}`;
    const pages = [];
    for (const [name, look] of Object.entries(PEOPLE)) {
      const camera = join(dir, `${name}.y4m`);
      writeFileSync(camera, person(look));
      const browser = await chromium.launch({
        executablePath,
        headless: true,
        args: [...CHROMIUM_ARGS, `--use-file-for-fake-video-capture=${camera}`],
      });
      browsers.push(browser);
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, colorScheme: 'light' });
      await page.goto(`${server.url}?room=${room}&name=${name}`);
      await page.click('#join');
      await page.waitForFunction(
        () =>
          document.querySelector('rtc-call').state === 'waiting' ||
          document.querySelector('rtc-call').state === 'connected',
      );
      pages.push(page);
    }
    const [ada, bob] = pages;
    // Both remote videos playing, the quality measured once, then a chat line shown.
    for (const page of pages) {
      await page.waitForFunction(
        () => {
          const el = document.querySelector('rtc-call');
          const video = el.shadowRoot.querySelector('[part~="remote-video"]');
          return el.state === 'connected' && video.readyState >= 2 && video.currentTime > 0.5 && el.stats;
        },
        undefined,
        { timeout: 30_000 },
      );
    }
    await bob.waitForFunction(
      () => {
        try {
          document.querySelector('rtc-call').send('Morning, Ada! Ready when you are.');
          return true;
        } catch {
          return false; // the data channel opens a moment after the media
        }
      },
      undefined,
      { timeout: 30_000 },
    );
    await ada.waitForFunction(() =>
      document
        .querySelector('rtc-call')
        .shadowRoot.querySelector('[part~="chat-log"]')
        ?.textContent.includes('Morning'),
    );
    const element = ada.locator('rtc-call');
    await element.scrollIntoViewIfNeeded();
    await element.screenshot({ path: out, animations: 'disabled' });
    return out;
  } finally {
    await Promise.all(browsers.map((browser) => browser.close().catch(() => {})));
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`written: ${await screenshot(process.argv[2])}`);
}
