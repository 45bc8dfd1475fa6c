import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createRequestHandler, requestUrl, type StaticRoots } from './http.js';
import type { IceServer } from '../protocol.js';
import { SignalingServer, type SignalingOptions } from './signaling-server.js';
import type { RateLimit } from './rate-limit.js';
import { StunResponder } from './stun.js';

export { LocalRooms, type Member, type RoomDirectory, type RoomListener } from './rooms.js';
export { SignalingServer, type SignalingOptions } from './signaling-server.js';
export { type RateLimit } from './rate-limit.js';
export { DEFAULT_LIMITS, CLOSES, type Limits } from './limits.js';
export { type Logger } from './log.js';
export { createJoinToken, verifyJoinToken, turnCredentials, type JoinTokenClaims } from './auth.js';

export interface ServerOptions extends SignalingOptions {
  port?: number;
  host?: string;
  /** Where the demo and the bundle are; default: this package's `demo/` and `dist/`. */
  roots?: StaticRoots;
  /** `false`: no demo, only the bundle, `/signal` and `/healthz` (default true). */
  demo?: boolean;
  /**
   * Exact origins (`https://example.com`) whose pages may open the signaling socket; any other
   * `Origin`, or none, gets HTTP 403 before the handshake. Unset: every origin may.
   */
  allowedOrigins?: string[];
  /** PEM certificate and key: serve https and wss instead of http and ws. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * The UDP port on which to answer STUN binding requests (stun.ts), handed to every joined peer
   * as `stun:<the host it reached us by>:<port>`, so that calls cross ordinary NATs with no other
   * setting. Default: the HTTP port's number (any free one if that is taken and `port` was 0);
   * 0: no responder.
   */
  stunPort?: number;
  /** STUN servers handed to peers instead of the built-in responder's (coturn's, say). */
  stunUrls?: string[];
  /** Answers per source address (default burst 40, then 20/s); over it, requests are dropped. */
  stunRate?: RateLimit;
}

export interface RunningServer {
  readonly http: Server;
  readonly signaling: SignalingServer;
  /** The STUN responder's UDP port, when there is one. */
  readonly stunPort: number | undefined;
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
  const given = options.roots ?? { demo: `${packageRoot}demo`, dist: `${packageRoot}dist` };
  const roots = options.demo === false ? { ...given, demo: undefined } : given;
  let stun: StunResponder | undefined;
  const stunServers = (host: string | undefined): IceServer[] => {
    if (options.stunUrls?.length) return [{ urls: options.stunUrls }];
    return stun && host ? [{ urls: `stun:${host}:${stun.port}` }] : [];
  };
  const signaling = new SignalingServer({
    ...options,
    iceServers: (peerId, client) => [...stunServers(client.host), ...(options.iceServers?.(peerId, client) ?? [])],
  });
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
  // A client that never finishes its request headers (or its upgrade) is dropped within seconds.
  http.headersTimeout = 10_000;
  http.requestTimeout = 30_000;
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
      if (status.startsWith('403')) {
        const address = signaling.clientAddress(request);
        // Never the whole header: a page's origin is enough to see which site it was.
        const shown = String(origin ?? '(none)').slice(0, 200);
        signaling.note(
          'warn',
          `origin:${address}:${shown}`,
          { address, origin: shown },
          'connection refused: origin not allowed',
        );
      }
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
  try {
    stun = await listenStun(options, address.port);
  } catch (error) {
    await signaling.close();
    await new Promise((resolve) => http.close(resolve));
    throw error;
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    http,
    signaling,
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}/`,
    stunPort: stun?.port,
    async close(code?: number, reason?: string) {
      accepting = false;
      await stun?.close();
      // Still listening meanwhile, so a load balancer polling /healthz sees 503, not a refused connection.
      await signaling.close(code, reason);
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
    },
  };
}

/** The STUN responder the options ask for, on the HTTP port's number unless told another. */
async function listenStun(options: ServerOptions, httpPort: number): Promise<StunResponder | undefined> {
  const listen = {
    host: options.host ?? '127.0.0.1',
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.stunRate ? { rate: options.stunRate } : {}),
  };
  if (options.stunPort === 0) return undefined;
  try {
    return await StunResponder.listen({ ...listen, port: options.stunPort ?? httpPort });
  } catch (error) {
    // Asked for any free port: any free one for STUN too.
    if (options.stunPort === undefined && !options.port) return StunResponder.listen({ ...listen, port: 0 });
    const port = options.stunPort ?? httpPort;
    throw new Error(
      `cannot answer STUN on UDP ${listen.host}:${port} (${(error as NodeJS.ErrnoException).code ?? String(error)}): set STUN_PORT to a free port, or 0 for none`,
      { cause: error },
    );
  }
}
