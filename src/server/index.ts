import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createRequestHandler, requestUrl, type StaticRoots } from './http.js';
import { SignalingServer, type SignalingOptions } from './signaling-server.js';

export { Rooms, type Member } from './rooms.js';
export { SignalingServer, type SignalingOptions } from './signaling-server.js';
export { type RateLimit } from './rate-limit.js';
export { createJoinToken, verifyJoinToken, turnCredentials, type JoinTokenClaims } from './auth.js';

export interface ServerOptions extends SignalingOptions {
  port?: number;
  host?: string;
  /** Where the demo and the bundle are; default: this package's `demo/` and `dist/`. */
  roots?: StaticRoots;
  /**
   * Exact origins (`https://example.com`) whose pages may open the signaling socket; any other
   * `Origin`, or none, gets HTTP 403 before the handshake. Unset: every origin may.
   */
  allowedOrigins?: string[];
  /** PEM certificate and key: serve https and wss instead of http and ws. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

export interface RunningServer {
  readonly http: Server;
  readonly signaling: SignalingServer;
  /** `http://host:port/` (`https:` with TLS) */
  readonly url: string;
  /**
   * Stops accepting (`/healthz` answers 503, upgrades are refused) while it closes every socket
   * with `code` (default 1001; 1012 asks clients to reconnect), then stops listening; resolves
   * when all is closed.
   */
  close(code?: number, reason?: string): Promise<void>;
}

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** One HTTP server on one port: the demo at `/`, the bundle at `/rtc-call.js`, signaling at `/signal`, `/healthz`. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const roots = options.roots ?? { demo: `${packageRoot}demo`, dist: `${packageRoot}dist` };
  const signaling = new SignalingServer(options);
  try {
    await signaling.ready();
  } catch (error) {
    await signaling.close();
    throw error;
  }
  let accepting = true;
  const handler = createRequestHandler(roots, () => accepting);
  const http = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler)
    : createHttpServer(handler);
  const allowed = options.allowedOrigins ? new Set(options.allowedOrigins) : undefined;
  http.on('upgrade', (request, socket, head) => {
    socket.on('error', () => socket.destroy());
    const path = requestUrl(request)?.pathname;
    const origin = request.headers.origin;
    const status = !accepting
      ? '503 Service Unavailable'
      : path === undefined
        ? '400 Bad Request'
        : path !== '/signal'
          ? '404 Not Found'
          : allowed && !(origin && allowed.has(origin))
            ? '403 Forbidden'
            : undefined;
    if (status) {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    signaling.handleUpgrade(request, socket, head);
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    http,
    signaling,
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}/`,
    async close(code?: number, reason?: string) {
      accepting = false;
      // Still listening meanwhile, so a load balancer polling /healthz sees 503, not a refused connection.
      await signaling.close(code, reason);
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
    },
  };
}
