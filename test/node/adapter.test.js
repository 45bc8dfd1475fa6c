/**
 * webrtc-adapter, as src/adapter/shims.ts uses it: its factory's shims, browser by browser and in
 * the factory's order, of which the element keeps those that can change something it uses in a
 * supported browser (Chrome and Edge 111+, Firefox 115+, Safari 16.4+; docs/browsers.md).
 *
 * - The table below lists every shim the installed factory applies, in its order, with why each
 *   is kept or left out; it fails when a new adapter version adds, drops or reorders one.
 * - The shims src/adapter/shims.ts applies are exactly the table's kept ones, in that order.
 * - In real Chromium and Firefox, each shim left out as inert changes nothing on the WebRTC and
 *   media objects, and each left out as legacy adds or wraps only the legacy names it lists.
 *
 * Run: node --test --test-concurrency=1 test/node/adapter.test.js
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { build } from 'esbuild';
import { ROOT, launchBrowsers, launchChromium, launchFirefox, startSite } from './browser-harness.js';

const KEPT = 'kept';
/** Returns at once on every supported version of the browser (a version gate or a feature test). */
const INERT = 'inert';
/** Adds or wraps only these legacy APIs, which the element never calls. */
const legacy = (...names) => ({ legacy: names });

/**
 * webrtc-adapter 9.0's factory, case by case. `why` for what is left out, where the reason is
 * not the kind alone.
 */
const FACTORY = {
  chrome: [
    ['common.shimAddIceCandidateNullOrEmpty', KEPT],
    ['common.shimParameterlessSetLocalDescription', KEPT],
    ['chrome.shimGetUserMedia', INERT], // Chrome 64+
    ['chrome.shimMediaStream', INERT], // MediaStream exists
    ['chrome.shimPeerConnection', INERT], // Chrome 53+
    ['chrome.shimOnTrack', INERT], // Chrome 103+
    [
      'chrome.shimAddTrackRemoveTrack',
      legacy('getLocalStreams', 'addStream', 'removeStream', 'addTrack', 'removeTrack'),
    ],
    ['chrome.shimGetSendersWithDtmf', INERT], // getSenders exists
    ['chrome.shimSenderReceiverGetStats', INERT], // Chrome 67+
    ['chrome.fixNegotiationNeeded', INERT], // Chrome 103+
    ['common.shimRTCIceCandidate', INERT], // RTCIceCandidate has `foundation`
    ['common.shimRTCIceCandidateRelayProtocol', INERT], // RTCIceCandidate has `relayProtocol`
    ['common.shimConnectionState', INERT], // connectionState exists
    ['common.shimMaxMessageSize', INERT], // Chrome 103+
    ['common.shimSendThrowTypeError', KEPT], // Chrome 111–148: send() of too much throws
    ['common.removeExtmapAllowMixed', INERT], // Chrome 71+
  ],
  firefox: [
    ['common.shimAddIceCandidateNullOrEmpty', KEPT],
    ['common.shimParameterlessSetLocalDescription', KEPT],
    ['firefox.shimGetUserMedia', legacy('getUserMedia')], // navigator.getUserMedia; the constraint renames stop at 56
    ['firefox.shimPeerConnection', INERT], // Firefox 53+
    ['firefox.shimGetStats', KEPT], // Firefox 115–150: getStats() of a closed connection
    ['firefox.shimOnTrack', INERT], // RTCTrackEvent has `transceiver`
    ['firefox.shimRemoveStream', legacy('removeStream')],
    ['firefox.shimSenderGetStats', INERT], // RTCRtpSender has getStats
    ['firefox.shimReceiverGetStats', INERT], // RTCRtpReceiver has getStats
    ['firefox.shimRTCDataChannel', INERT], // RTCDataChannel exists
    ['firefox.shimAddTransceiver', INERT], // Firefox 110+
    ['firefox.shimGetParameters', INERT], // Firefox 110+
    ['firefox.shimCreateOffer', INERT], // Firefox 110+
    ['firefox.shimCreateAnswer', INERT], // Firefox 110+
    ['common.shimRTCIceCandidate', INERT], // RTCIceCandidate has `foundation`
    ['common.shimConnectionState', INERT], // Firefox 113+ has connectionState
    ['common.shimMaxMessageSize', INERT], // Firefox 113+
    ['common.shimSendThrowTypeError', INERT], // Firefox 61+
  ],
  // Safari: read from the adapter's source; no WebKit on these machines has WebRTC to check it in.
  safari: [
    ['common.shimAddIceCandidateNullOrEmpty', KEPT],
    ['common.shimParameterlessSetLocalDescription', KEPT],
    ['safari.shimRTCIceServerUrls', legacy('RTCPeerConnection')], // `url` for `urls`: the element's ice-servers must say `urls`
    ['safari.shimCreateOfferLegacy', legacy('createOffer', 'createAnswer')], // offerToReceiveAudio/Video
    [
      'safari.shimCallbacksAPI',
      legacy('createOffer', 'createAnswer', 'setLocalDescription', 'setRemoteDescription', 'addIceCandidate'),
    ],
    ['safari.shimLocalStreamsAPI', legacy('getLocalStreams', 'addStream', 'removeStream', 'addTrack')],
    ['safari.shimRemoteStreamsAPI', legacy('getRemoteStreams', 'onaddstream')],
    ['safari.shimTrackEventTransceiver', INERT], // RTCTrackEvent has `transceiver`
    ['safari.shimGetUserMedia', KEPT], // drops empty video constraints
    ['safari.shimAudioContext', INERT], // AudioContext exists
    ['common.shimRTCIceCandidate', INERT], // RTCIceCandidate has `foundation`
    ['common.shimRTCIceCandidateRelayProtocol', INERT], // fills candidate.relayProtocol, which the element never reads
    ['common.shimMaxMessageSize', INERT], // fills pc.sctp, which Safari 15.4+ has
    ['common.shimSendThrowTypeError', KEPT], // send() of too much throws
    ['common.removeExtmapAllowMixed', INERT], // Safari 13.1+
  ],
};

const MODULES = { commonShim: 'common', chromeShim: 'chrome', firefoxShim: 'firefox', safariShim: 'safari' };

/** The installed factory's shim calls per browser, as `module.name`, in order. */
function factoryCalls() {
  const source = readFileSync(`${ROOT}node_modules/webrtc-adapter/src/js/adapter_factory.js`, 'utf8');
  const calls = {};
  for (const [, browser, body] of source.matchAll(/case '(\w+)':([\s\S]*?)break;/g)) {
    calls[browser] = [
      ...body.matchAll(/\b(commonShim|chromeShim|firefoxShim|safariShim)\.(\w+)\(window, browserDetails\)/g),
    ].map(([, module, name]) => `${MODULES[module]}.${name}`);
  }
  return calls;
}

/** webrtc-adapter's shim modules and detectBrowser as one script for a page (`window.__adapter`). */
async function adapterScript() {
  const result = await build({
    stdin: {
      contents: `
        import * as common from 'webrtc-adapter/src/js/common_shim.js';
        import * as chrome from 'webrtc-adapter/src/js/chrome/chrome_shim.js';
        import * as firefox from 'webrtc-adapter/src/js/firefox/firefox_shim.js';
        import * as safari from 'webrtc-adapter/src/js/safari/safari_shim.js';
        import { detectBrowser } from 'webrtc-adapter/src/js/utils.js';
        window.__adapter = { modules: { common, chrome, firefox, safari }, detectBrowser };`,
      resolveDir: ROOT,
    },
    bundle: true,
    format: 'iife',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

test('webrtc-adapter is pinned to 9.0.x, and its factory applies the shims of the table, in its order', () => {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8'));
  assert.match(pkg.dependencies['webrtc-adapter'], /^~9\.0\.\d+$/);
  const installed = JSON.parse(readFileSync(`${ROOT}node_modules/webrtc-adapter/package.json`, 'utf8')).version;
  assert.match(installed, /^9\.0\.\d+$/);
  const calls = factoryCalls();
  assert.deepEqual(Object.keys(calls), ['chrome', 'firefox', 'safari']);
  for (const [browser, table] of Object.entries(FACTORY)) {
    assert.deepEqual(
      calls[browser],
      table.map(([name]) => name),
      `webrtc-adapter ${installed} changed the ${browser} shims: review the table and src/adapter/shims.ts`,
    );
  }
});

test('src/adapter/shims.ts applies the kept shims of the table, in its order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtc-call-adapter-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'shims.mjs');
  await build({
    stdin: {
      contents: `
        export { SHIMS } from './src/adapter/shims.ts';
        export * as common from 'webrtc-adapter/src/js/common_shim.js';
        export * as chrome from 'webrtc-adapter/src/js/chrome/chrome_shim.js';
        export * as firefox from 'webrtc-adapter/src/js/firefox/firefox_shim.js';
        export * as safari from 'webrtc-adapter/src/js/safari/safari_shim.js';`,
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    outfile: file,
    logLevel: 'silent',
  });
  const { SHIMS, ...modules } = await import(pathToFileURL(file).href);
  const nameOf = new Map(
    Object.entries(modules).flatMap(([module, exports]) =>
      Object.entries(exports).map(([name, fn]) => [fn, `${module}.${name}`]),
    ),
  );
  assert.deepEqual(Object.keys(SHIMS), Object.keys(FACTORY));
  for (const [browser, table] of Object.entries(FACTORY)) {
    assert.deepEqual(
      SHIMS[browser].map((shim) => nameOf.get(shim) ?? '(not webrtc-adapter’s)'),
      table.filter(([, kind]) => kind === KEPT).map(([name]) => name),
      browser,
    );
  }
});

/**
 * In the page: applies `sequence` (the factory's shims for this browser, in order) to `window`,
 * each to the state the ones before it left, and returns, for each, the names whose descriptor
 * changed on the WebRTC and media objects (`Object.prototype`-style `owner.name`).
 */
function applyInOrder(sequence) {
  const { modules, detectBrowser } = window.__adapter;
  const details = detectBrowser(window);
  const owners = () => ({
    window,
    navigator,
    mediaDevices: navigator.mediaDevices,
    RTCPeerConnection: window.RTCPeerConnection,
    'RTCPeerConnection.prototype': window.RTCPeerConnection.prototype,
    'RTCRtpSender.prototype': window.RTCRtpSender.prototype,
    'RTCRtpReceiver.prototype': window.RTCRtpReceiver.prototype,
    'RTCIceCandidate.prototype': window.RTCIceCandidate.prototype,
    'RTCTrackEvent.prototype': window.RTCTrackEvent.prototype,
    'RTCDataChannel.prototype': window.RTCDataChannel.prototype,
    'MediaStreamTrack.prototype': window.MediaStreamTrack.prototype,
    'MediaDevices.prototype': window.MediaDevices.prototype,
  });
  const snapshot = () => {
    const all = new Map();
    for (const [owner, object] of Object.entries(owners())) {
      for (const name of Object.getOwnPropertyNames(object)) {
        const d = Object.getOwnPropertyDescriptor(object, name);
        all.set(`${owner}.${name}`, [d.value, d.get, d.set]);
      }
    }
    return all;
  };
  const changes = [];
  for (const name of sequence) {
    const [module, shim] = name.split('.');
    const before = snapshot();
    modules[module][shim](window, details);
    const after = snapshot();
    const changed = [...after.keys()].filter(
      (key) => !before.has(key) || before.get(key).some((part, i) => !Object.is(part, after.get(key)[i])),
    );
    changes.push({ name, changed: [...changed, ...[...before.keys()].filter((key) => !after.has(key))] });
  }
  return { details: { browser: details.browser, version: details.version }, changes };
}

for (const [browser, launch] of [
  ['chrome', () => launchChromium()],
  ['firefox', () => launchFirefox()],
]) {
  test(`${browser === 'chrome' ? 'Chromium' : 'Firefox'}: each shim left out is inert, or touches only the legacy names it lists`, async (t) => {
    const site = await startSite(
      new Map([
        ['/adapter.js', { type: 'text/javascript', body: await adapterScript() }],
        [
          '/page.html',
          { type: 'text/html', body: '<!doctype html><title>adapter</title><script src="/adapter.js"></script>' },
        ],
      ]),
    );
    t.after(() => site.close());
    const [handle] = await launchBrowsers(t, [launch]);
    const page = await handle.browser.newPage();
    await page.goto(`${site.origin}/page.html`);
    const { details, changes } = await page.evaluate(
      applyInOrder,
      FACTORY[browser].map(([name]) => name),
    );
    assert.equal(details.browser, browser);
    t.diagnostic(`${browser} ${details.version}: ${JSON.stringify(changes.filter((c) => c.changed.length))}`);
    for (const [index, [name, kind]] of FACTORY[browser].entries()) {
      const { changed } = changes[index];
      if (kind === INERT) assert.deepEqual(changed, [], `${name} is listed as inert`);
      if (kind?.legacy) {
        const stray = changed.filter((key) => !kind.legacy.includes(key.split('.').at(-1)));
        assert.deepEqual(stray, [], `${name} touched more than ${kind.legacy.join(', ')}`);
      }
    }
  });
}
