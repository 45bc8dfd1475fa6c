/**
 * Server-side rendering (CONTRACT §1): every entry point of the package imports in a bare Node
 * process with no unhandled rejection and reads nothing of `window`, `document` or `navigator`
 * beyond what Lit itself reads; `@lit-labs/ssr` renders the element's shadow root on the server,
 * and in Chromium the element hydrates that markup (keeping its nodes) and makes a call.
 *
 * Needs `npm run build` first (lib/). Run: node --test --test-concurrency=1 test/node/ssr.test.js
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { render } from '@lit-labs/ssr';
import { collectResultSync } from '@lit-labs/ssr/lib/render-result.js';
import { build } from 'esbuild';
import { html } from 'lit';
import { ROOT, WAIT, launchBrowsers, launchChromium, startSite } from './browser-harness.js';
import '../../lib/define.js';

const ENTRY_POINTS = [
  'rtc-call',
  'rtc-call/define',
  'rtc-call/element',
  'rtc-call/react',
  'rtc-call/vue',
  'rtc-call/server',
  // In Node the bundle's export resolves to lib/define.js (the "node" condition).
  'rtc-call/rtc-call.js',
];

/**
 * Imports `specifier` in a fresh Node process (from the package root, so the package's own name
 * resolves) with `window`, `document` and `navigator` watched; what the process saw, as JSON.
 */
function importInNode(specifier) {
  const probe = `
    const touched = new Set();
    for (const name of ['window', 'document', 'navigator']) {
      const had = Object.getOwnPropertyDescriptor(globalThis, name);
      Object.defineProperty(globalThis, name, {
        configurable: true,
        get() {
          touched.add(name);
          return had?.get ? had.get.call(globalThis) : had?.value;
        },
      });
    }
    let rejected = null;
    process.on('unhandledRejection', (error) => (rejected = String(error?.stack ?? error)));
    const module = await import(${JSON.stringify(specifier)});
    // Long enough for a promise started at import to settle.
    await new Promise((resolve) => setTimeout(resolve, 300));
    console.log(JSON.stringify({ exports: Object.keys(module), touched: [...touched].sort(), rejected }));
    process.exit(0);`;
  return JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: ROOT, encoding: 'utf8' }),
  );
}

test('every entry point imports in bare Node: no unhandled rejection, no DOM global read beyond Lit’s own check', () => {
  // Lit's Node build checks once whether `document` exists; that is the floor.
  const lit = importInNode('lit');
  for (const specifier of ENTRY_POINTS) {
    const { exports, touched, rejected } = importInNode(specifier);
    assert.equal(rejected, null, `${specifier}: unhandled rejection`);
    assert.deepEqual(
      touched.filter((name) => !lit.touched.includes(name)),
      [],
      `${specifier} read ${touched.join(', ')} (Lit alone reads ${lit.touched.join(', ') || 'nothing'})`,
    );
    if (specifier !== 'rtc-call/vue') assert.ok(exports.length > 0, `${specifier} exports something`);
  }
});

/** The element as Lit SSR renders it, inside a page. */
function ssrPage() {
  const markup = collectResultSync(render(html`<rtc-call loopback room="ssr" name="Ada"></rtc-call>`));
  return {
    markup,
    page: (script) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ssr</title></head><body>
${markup}
<script>window.__ssr = document.querySelector('rtc-call').shadowRoot?.querySelector('[part~="start-button"]');</script>
<script type="module" src="/hydrate.js"></script>${script ?? ''}
</body></html>`,
  };
}

test('Lit SSR renders the shadow root on the server: its parts and buttons', () => {
  const { markup } = ssrPage();
  assert.match(markup, /<template shadowroot(mode)?="open"/);
  for (const part of ['local-video', 'remote-video', 'controls', 'start-button', 'call-button', 'status'])
    assert.match(markup, new RegExp(`part="[^"]*\\b${part}\\b`), `part ${part}`);
  assert.match(markup, /<button[^>]*part="[^"]*start-button/);
});

test('Chromium: the server-rendered element hydrates, keeping its nodes, and a loopback call connects', async (t) => {
  const hydrate = await build({
    stdin: {
      // Hydration support must load before Lit; then the element, as a page's bundler would.
      contents: `import '@lit-labs/ssr-client/lit-element-hydrate-support.js';\nimport 'rtc-call/define';`,
      resolveDir: ROOT,
    },
    bundle: true,
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const site = await startSite(
    new Map([
      ['/page.html', { type: 'text/html', body: ssrPage().page() }],
      ['/hydrate.js', { type: 'text/javascript', body: hydrate.outputFiles[0].text }],
    ]),
  );
  t.after(() => site.close());
  const [browser] = await launchBrowsers(t, [() => launchChromium()]);
  const page = await browser.browser.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  await page.goto(`${site.origin}/page.html`);
  await page.waitForFunction(
    () => customElements.get('rtc-call') && document.querySelector('rtc-call').hasUpdated,
    null,
    {
      timeout: WAIT,
    },
  );
  const kept = await page.evaluate(() => {
    const el = document.querySelector('rtc-call');
    const button = el.shadowRoot.querySelector('[part~="start-button"]');
    return {
      server: Boolean(window.__ssr),
      same: button === window.__ssr,
      count: el.shadowRoot.querySelectorAll('[part~="start-button"]').length,
    };
  });
  assert.deepEqual(kept, { server: true, same: true, count: 1 }, 'the button rendered on the server is the one in use');
  await page.evaluate(() => document.querySelector('rtc-call').call());
  await page.waitForFunction(() => document.querySelector('rtc-call').state === 'connected', null, { timeout: WAIT });
  // Hydration is live: the state change re-rendered the server's nodes.
  assert.equal(
    await page.evaluate(
      () => document.querySelector('rtc-call').shadowRoot.querySelector('[part~="start-button"]') === window.__ssr,
    ),
    true,
  );
  assert.deepEqual(errors, [], `requests: ${site.requests.join(', ')}`);
});
