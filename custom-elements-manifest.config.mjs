/** The manifest describes the element only (src/server is Node code). */
export default {
  globs: ['src/**/*.ts'],
  exclude: ['src/server/**'],
  // package.json's "customElements" is fixed; an analysis into another folder must not rewrite it.
  packagejson: false,
};
