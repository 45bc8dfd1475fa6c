import { readFileSync } from 'node:fs';
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

/**
 * React ships only CommonJS, which a browser cannot import. For the React wrapper's tests and
 * example, react, react-dom and scheduler (nothing else) are served as ES modules, as a bundler
 * would: the development build is picked (the `process.env.NODE_ENV` switch, resolved here), each
 * `require('x')` becomes an import, and the named exports are the file's `exports.name =` lines,
 * or those of the file its `module.exports = require('./x')` forwards to.
 */
const REACT_CJS = /^\/node_modules\/(react|react-dom|scheduler)\/.*\.js$/;
function reactAsEsModules() {
  const exportNames = (body, file) => {
    const forwarded = /\bmodule\.exports = require\(["'](\.[^"']+)["']\)/.exec(body)?.[1];
    if (forwarded) return exportNames(readFileSync(new URL(forwarded, file), 'utf8'), new URL(forwarded, file));
    return [...new Set([...body.matchAll(/\bexports\.([A-Za-z_$][\w$]*) = /g)].map((match) => match[1]))];
  };
  return {
    name: 'react-as-es-modules',
    transform(context) {
      if (!REACT_CJS.test(context.path)) return undefined;
      const body = context.body
        .replace(/if \(process\.env\.NODE_ENV === 'production'\) \{[^}]*\} else \{([^}]*)\}/, '$1')
        .replaceAll('process.env.NODE_ENV', '"development"');
      const deps = [...new Set([...body.matchAll(/\brequire\(["']([^"']+)["']\)/g)].map((match) => match[1]))];
      const names = exportNames(body, new URL(`.${context.path}`, import.meta.url));
      return {
        body: [
          ...deps.map((dep, i) => `import dep${i} from ${JSON.stringify(dep)};`),
          `const require = (id) => ({ ${deps.map((dep, i) => `${JSON.stringify(dep)}: dep${i}`).join(', ')} })[id];`,
          'const module = { exports: {} };',
          'const exports = module.exports;',
          body,
          'export default module.exports;',
          `export const { ${names.join(', ')} } = module.exports;`,
        ].join('\n'),
      };
    },
  };
}

/** The bundle at `/rtc-call.js`, where `npm start` serves it: the plain-HTML example loads it so. */
function bundleAtRoot(context, next) {
  if (context.path === '/rtc-call.js') context.path = `/dist${context.path}`;
  return next();
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
  middleware: [bundleAtRoot],
  plugins: [
    sdpAsEsModule(),
    reactAsEsModules(),
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
