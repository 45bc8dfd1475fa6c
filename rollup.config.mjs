import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { rmSync } from 'node:fs';
import { transformSync } from 'esbuild';
import esbuild from 'rollup-plugin-esbuild';

/**
 * esbuild keeps template literals as they are, so the element's css`…` would ship with its
 * indentation and comments: minify its text as CSS (by esbuild too). Only `src/*.styles.ts`,
 * whose css`` holds no `${…}`.
 */
function minifyStyles() {
  return {
    name: 'minify-styles',
    transform(code, id) {
      if (!id.endsWith('.styles.ts')) return null;
      return code.replace(/\bcss`([^`$]*)`/g, (_, text) => {
        const minified = transformSync(text, { loader: 'css', minify: true }).code.trim();
        return `css\`${minified}\``;
      });
    },
  };
}

/** Earlier builds split the bundle into `dist/chunks/`: what such a build left there goes. */
function cleanChunks() {
  return {
    name: 'clean-chunks',
    buildStart() {
      rmSync('dist/chunks', { recursive: true, force: true });
    },
  };
}

/**
 * `dist/rtc-call.js` for `<script type="module" src=".../rtc-call.js">`: one self-contained file
 * (CONTRACT §1) with the element, Lit (production build), webrtc-adapter's shims, the signaling
 * client and the in-call features. Copied alone, renamed or loaded with a query string, it fetches
 * nothing else: the dynamic imports that let a bundler load parts of `lib/` later are inlined.
 */
export default {
  input: 'src/define.ts',
  // The sdp parser is CommonJS, so rollup keeps it whole unless told that importing it does
  // nothing: the shims the element keeps (src/adapter/shims.ts) never call it.
  treeshake: { moduleSideEffects: (id) => !/\/node_modules\/sdp\//.test(id) },
  output: { file: 'dist/rtc-call.js', format: 'es', sourcemap: true, inlineDynamicImports: true },
  plugins: [
    cleanChunks(),
    // No "development" export condition: Lit resolves to its production build.
    nodeResolve({ browser: true, exportConditions: ['browser', 'production'] }),
    commonjs(),
    minifyStyles(),
    esbuild({ target: 'es2022', minify: true, legalComments: 'none', tsconfig: 'tsconfig.build.json' }),
  ],
};
