import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface StaticRoots {
  /** Folder served at `/` (the demo); none: only the bundle, `/signal` and `/healthz`. */
  demo: string | undefined;
  /** Folder holding `rtc-call.js` (and its source map), served at `/rtc-call.js`. */
  dist: string;
}

/**
 * The demo's pages get this Content-Security-Policy: scripts and styles from this origin only
 * (inline scripts by their hash), media and video from the camera, nothing framed, no plugins.
 * The signaling socket is `connect-src 'self'` (a same-origin `ws:`/`wss:` URL); received files are `blob:` URLs.
 */
export const DEMO_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers every response carries. */
const COMMON = {
  'X-Content-Type-Options': 'nosniff',
  // Room names ride in page URLs (`?room=`): none of it goes to other sites.
  'Referrer-Policy': 'no-referrer',
};

/** The policy for an HTML page: DEMO_CSP, with the hash of each inline script allowed. */
export function pageCsp(html: string): string {
  const hashes = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
    ([, body]) => `'sha256-${createHash('sha256').update(body!).digest('base64')}'`,
  );
  return hashes.length ? DEMO_CSP.replace("script-src 'self'", `script-src 'self' ${hashes.join(' ')}`) : DEMO_CSP;
}

/**
 * GET/HEAD for the demo, the bundle (any origin may load it) and `/healthz`. The bundle and
 * pages are revalidated by ETag, so a rebuilt bundle is never served stale.
 */
export function createRequestHandler(roots: StaticRoots, healthy: () => boolean) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = requestUrl(request);
    if (!url) {
      response.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad request target\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...COMMON, Allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.pathname === '/healthz') {
      const ok = healthy();
      response.writeHead(ok ? 200 : 503, { ...COMMON, 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
      response.end(ok ? 'ok\n' : 'shutting down\n');
      return;
    }
    const bundle = url.pathname === '/rtc-call.js' || url.pathname === '/rtc-call.js.map';
    const file = bundle
      ? inside(roots.dist, url.pathname)
      : roots.demo
        ? inside(roots.demo, url.pathname === '/' ? '/index.html' : url.pathname)
        : undefined;
    if (!file) {
      response.writeHead(404, { ...COMMON, 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      const etag = `"${createHash('sha1').update(`${info.size}:${info.mtimeMs}`).digest('base64url')}"`;
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      const headers: Record<string, string> = {
        ...COMMON,
        'Content-Type': type,
        'Cache-Control': 'no-cache',
        ETag: etag,
        'Last-Modified': info.mtime.toUTCString(),
      };
      if (bundle) headers['Access-Control-Allow-Origin'] = '*';
      const html = type.startsWith('text/html');
      const fresh = request.headers['if-none-match'] === etag;
      const body = html || !fresh ? await readFile(file) : undefined;
      if (html) headers['Content-Security-Policy'] = pageCsp(body!.toString());
      if (fresh || !body) {
        response.writeHead(304, headers).end();
        return;
      }
      response.writeHead(200, { ...headers, 'Content-Length': String(body.length) });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch {
      response
        .writeHead(404, { ...COMMON, 'Content-Type': 'text/plain' })
        .end(bundle ? 'bundle not built: run npm run build\n' : 'not found\n');
    }
  };
}

/** The request's URL, or undefined when its target does not parse (Node accepts more than `URL` does). */
export function requestUrl(request: IncomingMessage): URL | undefined {
  try {
    return new URL(request.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/**
 * The host name (or address) the client used to reach us, from its `Host` header, without the
 * port: `example.com`, `203.0.113.1`, `[2001:db8::1]`. Undefined when there is none or it is not
 * a plain host.
 */
export function requestHost(request: IncomingMessage): string | undefined {
  const header = request.headers.host;
  if (!header || !/^[\w.:[\]-]+$/.test(header)) return undefined;
  try {
    return new URL(`http://${header}`).hostname || undefined;
  } catch {
    return undefined;
  }
}

/** The file under `root` for a URL path, or undefined if the path tries to leave it. */
function inside(root: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const file = normalize(join(root, decoded));
  return file.startsWith(root.endsWith(sep) ? root : root + sep) ? file : undefined;
}
