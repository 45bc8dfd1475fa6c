/** The manifest describes the element only (src/server is Node code). */
export default {
  globs: ['src/**/*.ts'],
  exclude: ['src/server/**'],
};
