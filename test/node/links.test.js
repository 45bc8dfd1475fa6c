// scripts/check-links.mjs: every relative link and anchor of the README and docs/ resolves.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { anchors, check, links } from '../../scripts/check-links.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

function tree(t, files) {
  const dir = mkdtempSync(join(tmpdir(), 'rtc-call-links-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

test('the project’s README, docs, changelog and contributing guide have no broken link or anchor', () => {
  assert.deepEqual(check(root), []);
});

test('anchors are GitHub’s heading slugs: code kept, punctuation dropped, repeats numbered', () => {
  const found = anchors(
    [
      '# rtc-call',
      '## Use it in a page',
      '### `rtc-call-stats`: reading it',
      '## Server-side rendering, strict CSP, iframes',
      '## Notes',
      '## Notes',
      '<a id="custom"></a>',
      '```md',
      '## not a heading',
      '```',
    ].join('\n\n'),
  );
  assert.deepEqual(
    [...found].sort(),
    [
      'custom',
      'notes',
      'notes-1',
      'rtc-call',
      'rtc-call-stats-reading-it',
      'server-side-rendering-strict-csp-iframes',
      'use-it-in-a-page',
    ].sort(),
  );
});

test('links are read from Markdown links, images and HTML, not from code', () => {
  const found = links(
    [
      '[a](docs/a.md#x) and `[b](not/a/link.md)`',
      '![shot](docs/shot.png)',
      '<img src="docs/other.png" alt="">',
      '| table | [c](c.md) |\n| --- | --- |\n| row | [d](d.md) |',
      '```\n[e](e.md)\n```',
    ].join('\n\n'),
  ).map(({ target }) => target);
  assert.deepEqual(found, ['docs/a.md#x', 'docs/shot.png', 'docs/other.png', 'c.md', 'd.md']);
});

test('a missing file, a missing anchor, an anchor into a non-Markdown file and a one-way doc are each reported', async (t) => {
  const dir = tree(t, {
    'README.md': [
      '# Project',
      '[guide](docs/guide.md#setting-up) [gone](docs/gone.md) [bad anchor](docs/guide.md#nowhere)',
      '[self](#project) [self bad](#elsewhere) [web](https://example.com/x.md#y) [mail](mailto:a@b.c)',
      '![shot](docs/shot.png) [into png](docs/shot.png#x) [folder](docs/)',
    ].join('\n\n'),
    'docs/guide.md': '# Guide\n\n## Setting up\n\n[back](../README.md)\n',
    'docs/lonely.md': '# Lonely\n\nNo link back.\n',
    'docs/shot.png': 'png',
  });
  assert.deepEqual(check(dir), [
    'README.md:3: docs/gone.md: no such file',
    'README.md:3: docs/guide.md#nowhere: no heading "#nowhere" in docs/guide.md',
    'README.md:5: #elsewhere: no heading "#elsewhere" in README.md',
    'README.md:7: docs/shot.png#x: an anchor into a file that is not Markdown',
    'README.md: no link to docs/lonely.md',
    'docs/lonely.md: no link back to README.md',
  ]);
  const run = await promisify(execFile)('node', [join(root, 'scripts/check-links.mjs'), dir]).then(
    () => assert.fail('the check passed on broken links'),
    (error) => error,
  );
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^Broken links in the documentation:\nREADME\.md:3: docs\/gone\.md: no such file\n/);
});
