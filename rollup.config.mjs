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

/** Chunks are named by their hash: those of an earlier build would stay beside the new ones. */
function cleanChunks() {
  return {
    name: 'clean-chunks',
    buildStart() {
      rmSync('dist/chunks', { recursive: true, force: true });
    },
  };
}

/**
 * `dist/rtc-call.js` for `<script type="module" src=".../rtc-call.js">`: the element, Lit
 * (production build) and webrtc-adapter's common shims. Beside it, `dist/chunks/` holds what is
 * fetched on demand: one browser's own adapter shims at load, the in-call features and the
 * WebSocket client when the camera is asked for.
 */
const BUNDLED = /\/src\/(define|rtc-call)\.ts$|\/webrtc-adapter\/src\/js\/(common_shim|utils)\.js$|\/sdp\/sdp\.js$/;

export default {
  input: 'src/define.ts',
  // Lets the bundle export what its chunks import from it, instead of a re-exporting facade.
  preserveEntrySignatures: 'allow-extension',
  output: {
    dir: 'dist',
    format: 'es',
    sourcemap: true,
    entryFileNames: 'rtc-call.js',
    chunkFileNames: 'chunks/[name]-[hash].js',
    // webrtc-adapter's common shims (and the sdp parser they use) serve every browser: in the
    // bundle with the element, so a browser's own shims are one request.
    manualChunks: (id) => (BUNDLED.test(id) ? 'rtc-call' : undefined),
  },
  plugins: [
    cleanChunks(),
    // No "development" export condition: Lit resolves to its production build.
    nodeResolve({ browser: true, exportConditions: ['browser', 'production'] }),
    commonjs(),
    minifyStyles(),
    esbuild({ target: 'es2022', minify: true, legalComments: 'none', tsconfig: 'tsconfig.build.json' }),
  ],
};
