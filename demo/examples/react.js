// The React example's app, without JSX so it runs without a compile step; with JSX it reads
// <RtcCall ref={call} loopback onRtcCallStateChange={(e) => setState(e.detail.state)} />.
import { createElement as h, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { RtcCall } from 'rtc-call/react';

function App() {
  const call = useRef(null);
  const [state, setState] = useState('idle');
  return h(
    'main',
    null,
    h(RtcCall, { ref: call, loopback: true, onRtcCallStateChange: (event) => setState(event.detail.state) }),
    h('p', null, 'State: ', h('output', { id: 'state' }, state)),
    // The element shows a failure itself (and fires rtc-call-error): nothing more to do here.
    h('button', { id: 'call', type: 'button', onClick: () => call.current.call().catch(() => {}) }, 'Call'),
  );
}

createRoot(document.getElementById('app')).render(h(App));
