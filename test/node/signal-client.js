// Shared by the Node tests of the signaling server: a real `ws` client and small waiting helpers.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { startServer } from '../../lib/server/index.js';

export const TIMEOUT = 5000;

/**
 * Starts a server on a free port; it is closed when the test ends (or stops listening, if a failed
 * test left it unable to close). A closed socket leaves its room at once unless a test asks for a
 * resume grace: most tests are about presence, not resume. No STUN responder unless asked for
 * (`stunPort`): these tests read the ICE servers handed out as the tests of those set them.
 */
export async function setup(t, options = {}) {
  const server = await startServer({ port: 0, host: '127.0.0.1', resumeGraceMs: 0, stunPort: 0, ...options });
  t.after(async () => {
    try {
      await withTimeout(server.close(), 'server.close()', 10_000);
    } finally {
      server.http.close();
    }
  });
  return server;
}

export const signalUrl = (url, path = '/signal') => new URL(path, url.replace(/^http/, 'ws'));

/** A signaling client that queues every parsed message for `next()`. */
export class Client {
  queue = [];
  /** The `seq` of every numbered message received, in order. */
  seqs = [];
  #waiters = [];

  constructor(ws) {
    this.ws = ws;
    // Errors surface through open() or the awaited messages; unhandled, one would crash the runner.
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.queue.push({ type: '<binary frame>' });
      else {
        // Relayed messages carry the server's `seq`; kept apart so tests compare the content.
        const { seq, ...message } = JSON.parse(data.toString());
        if (seq !== undefined) this.seqs.push(seq);
        // A relayed signal carries the sender's message verbatim (`signal`): tests compare its `data`.
        if (message.type === 'signal' && message.signal) {
          this.queue.push({ type: 'signal', from: message.from, data: message.signal.data });
        } else this.queue.push(message);
      }
      this.#drain();
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        for (const waiter of this.#waiters.splice(0)) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error(`socket closed (${code}) while waiting for ${waiter.type ?? 'a message'}`));
        }
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  /**
   * `server` is a running server or its `http://…/` URL; `path` defaults to `/signal`, the rest of
   * `options` go to the `ws` client (e.g. `autoPong`).
   */
  static async open(t, server, { path = '/signal', ...options } = {}) {
    const ws = new WebSocket(signalUrl(typeof server === 'string' ? server : server.url, path), options);
    t.after(() => ws.terminate());
    const client = new Client(ws);
    await withTimeout(once(ws, 'open'), `open ${path}`);
    return client;
  }

  send(message) {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first queued message of `type` (any type if omitted), waiting up to `ms` for it. */
  next(type, ms = TIMEOUT) {
    return new Promise((resolve, reject) => {
      const waiter = { type, resolve, reject };
      waiter.timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no ${type ?? 'message'} within ${ms} ms; queued: ${JSON.stringify(this.queue)}`));
      }, ms);
      this.#waiters.push(waiter);
      this.#drain();
    });
  }

  async join(room, name) {
    this.send({ type: 'join', room, ...(name === undefined ? {} : { name }) });
    const joined = await this.next();
    assert.equal(joined.type, 'joined', `join ${room}: ${JSON.stringify(joined)}`);
    return joined;
  }

  async expectError(code) {
    const message = await this.next();
    assert.equal(message.type, 'error', `expected an error, got ${JSON.stringify(message)}`);
    assert.equal(message.code, code);
    assert.equal(typeof message.message, 'string');
    return message;
  }

  /** Round-trips a probe: everything the server sent before it has arrived, and there was nothing. */
  async expectQuiet() {
    this.send({ type: 'quiet-probe' });
    const message = await this.next();
    assert.equal(message.type, 'error', `unexpected message ${JSON.stringify(message)}`);
    assert.match(message.message, /quiet-probe/);
    assert.deepEqual(this.queue, []);
  }

  /** How the socket closed, failing after `ms`. */
  closedWithin(ms = TIMEOUT) {
    return withTimeout(this.closed, 'the socket to close', ms);
  }

  #drain() {
    for (const waiter of [...this.#waiters]) {
      const index = this.queue.findIndex((m) => waiter.type === undefined || m.type === waiter.type);
      if (index === -1) continue;
      const [message] = this.queue.splice(index, 1);
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      clearTimeout(waiter.timer);
      waiter.resolve(message);
    }
  }
}

export function withTimeout(promise, what, ms = TIMEOUT) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls a condition the server exposes no event for, up to a deadline. */
export async function eventually(check, what, ms = TIMEOUT) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A logger of pino's shape that keeps every line: `{ level, msg, ...fields }`. */
export function recordingLogger() {
  const lines = [];
  const level = (name) => (fields, msg) => lines.push({ level: name, msg, ...fields });
  return { lines, logger: { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') } };
}
