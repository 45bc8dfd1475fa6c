/**
 * `npm run screenshot` (scripts/screenshot.mjs) still makes the README's picture: two people in a
 * call on the demo page, the element's box, in the shape of the committed docs/screenshot.png.
 *
 * Needs `npm run build` first and Chromium.
 * Run: node --test test/node/screenshot.test.js
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { screenshot } from '../../scripts/screenshot.mjs';
import { ROOT } from './browser-harness.js';

/** Width and height from a PNG's IHDR chunk; throws on anything else. */
function pngSize(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'a PNG signature');
  assert.equal(bytes.toString('latin1', 12, 16), 'IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

test('the screenshot script makes a picture of a call the size of the committed one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtc-call-shot-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fresh = pngSize(readFileSync(await screenshot(join(dir, 'shot.png'))));
  const committed = pngSize(readFileSync(join(ROOT, 'docs/screenshot.png')));
  assert.ok(fresh.width >= 600 && fresh.height >= 400, JSON.stringify(fresh));
  assert.equal(fresh.width, committed.width, 'run `npm run screenshot` and commit docs/screenshot.png');
  assert.ok(
    Math.abs(fresh.height - committed.height) <= committed.height * 0.1,
    `${fresh.height} against ${committed.height}: run \`npm run screenshot\` and commit docs/screenshot.png`,
  );
});
