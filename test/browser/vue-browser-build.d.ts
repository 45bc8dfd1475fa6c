// Vue's standalone ES module build (runtime + template compiler, no bundler needed) has no types
// of its own beside it; its API is the `vue` package's.
declare module 'vue/dist/vue.esm-browser.js' {
  export * from 'vue';
}
