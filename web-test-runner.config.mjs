import { esbuildPlugin } from '@web/dev-server-esbuild';
import { playwrightLauncher } from '@web/test-runner-playwright';
import { startServer } from './lib/server/index.js';
import { CHROMIUM_ARGS, findChromium } from './scripts/browsers.mjs';

/**
 * webrtc-adapter imports `sdp`, whose "module" file is CommonJS (`module.exports = SDPUtils`).
 * The bundle converts it with @rollup/plugin-commonjs; here a one-line wrapper does the same.
 */
function sdpAsEsModule() {
  return {
    name: 'sdp-as-es-module',
    transform(context) {
      if (!/\/node_modules\/sdp\/sdp\.js$/.test(context.path)) return undefined;
      return { body: `const module = { exports: {} };\n${context.body}\nexport default module.exports;` };
    },
  };
}

/** A real signaling server for the browser tests, on a free port, for the whole run. */
function signalingServerPlugin() {
  let server;
  return {
    name: 'rtc-call-signaling-server',
    async serverStart() {
      server = await startServer({ port: 0, capacity: 2 });
    },
    async serverStop() {
      await server?.close();
    },
    executeCommand({ command }) {
      if (command === 'signaling-url') return server.url.replace(/^http/, 'ws') + 'signal';
      if (command === 'signaling-connections') return server.signaling.connectionCount;
      return undefined;
    },
  };
}

export default {
  files: ['test/browser/**/*.test.ts'],
  nodeResolve: true,
  concurrency: 1,
  testFramework: { config: { timeout: 30000 } },
  testsFinishTimeout: 300000,
  plugins: [
    sdpAsEsModule(),
    esbuildPlugin({ ts: true, tsconfig: 'tsconfig.json', target: 'es2022' }),
    signalingServerPlugin(),
  ],
  browsers: [
    playwrightLauncher({
      product: 'chromium',
      launchOptions: { executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS },
    }),
  ],
};
