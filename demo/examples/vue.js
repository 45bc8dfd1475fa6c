// The Vue example's app. In a single-file component the template is the same; set
// `isCustomElement` in the Vite plugin's `template.compilerOptions` instead of on the app.
import { createApp, ref } from 'vue/dist/vue.esm-browser.js';
import 'rtc-call';

const app = createApp({
  setup() {
    const call = ref(null);
    const state = ref('idle');
    // The element shows a failure itself (and fires rtc-call-error): nothing more to do here.
    const start = () => call.value.call().catch(() => {});
    return { call, state, start };
  },
  template: `
    <main>
      <rtc-call ref="call" loopback @rtc-call-state-change="state = $event.detail.state"></rtc-call>
      <p>State: <output id="state">{{ state }}</output></p>
      <button id="call" type="button" @click="start">Call</button>
    </main>
  `,
});
// Tells Vue's template compiler that <rtc-call> is a custom element, not a Vue component.
app.config.compilerOptions.isCustomElement = (tag) => tag === 'rtc-call';
app.mount('#app');
