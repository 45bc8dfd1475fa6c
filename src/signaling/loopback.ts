import type { SignalData } from '../protocol.js';
import type { Signaling, SignalingListener } from './signaling.js';

/**
 * Two in-page endpoints that behave like two members of one room: the first to join is alone,
 * the second finds the first. Delivery is asynchronous and in order, as over a socket.
 */
export function createLoopbackPair(): [Signaling, Signaling] {
  const ids = ['loopback-1', 'loopback-2'] as const;
  const listeners: (SignalingListener | undefined)[] = [undefined, undefined];
  let queue = Promise.resolve();
  const deliver = (task: () => void) => {
    queue = queue.then(task);
  };

  const endpoint = (self: 0 | 1): Signaling => {
    const other = self === 0 ? 1 : 0;
    return {
      join(listener) {
        listeners[self] = listener;
        const present = listeners[other] !== undefined;
        deliver(() => {
          // As on the server, the newcomer is impolite: the near end, which joins first and sends
          // the camera, is polite and so makes the offer, as the codelab's pc1 does.
          listener.joined({
            id: ids[self],
            peers: present ? [{ id: ids[other], name: 'Loopback', polite: false }] : [],
            iceServers: [],
            rejoin: false,
          });
          if (present) listeners[other]?.peerJoined({ id: ids[self], name: 'Loopback', polite: true });
        });
      },
      signal(_to: string, data: SignalData) {
        deliver(() => listeners[other]?.signal(ids[self], data));
      },
      leave() {
        if (!listeners[self]) return;
        listeners[self] = undefined;
        deliver(() => listeners[other]?.peerLeft({ id: ids[self], name: 'Loopback' }));
      },
    };
  };
  return [endpoint(0), endpoint(1)];
}
