import { RtcCall } from './rtc-call.js';

export { RtcCall };

// Registers `<rtc-call>`, and tolerates being loaded twice (the bundle and an npm copy on one
// page, say): the first definition stays. `rtc-call/element` is the class alone, without this.
if (!customElements.get('rtc-call')) customElements.define('rtc-call', RtcCall);
