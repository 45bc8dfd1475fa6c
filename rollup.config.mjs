import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import esbuild from 'rollup-plugin-esbuild';

/** The single-file bundle for `<script type="module" src=".../rtc-call.js">`: element, Lit (production build) and webrtc-adapter. */
export default {
  input: 'src/rtc-call.ts',
  output: {
    file: 'dist/rtc-call.js',
    format: 'es',
    sourcemap: true,
  },
  plugins: [
    // No "development" export condition: Lit resolves to its production build.
    nodeResolve({ browser: true, exportConditions: ['browser', 'production'] }),
    commonjs(),
    esbuild({ target: 'es2022', minify: true, legalComments: 'none', tsconfig: 'tsconfig.build.json' }),
  ],
};
