/**
 * A STUN client for the tests (RFC 8489), written out byte by byte so that it does not share a
 * line with the responder it checks: binding requests, well-formed or not, and what came back.
 *
 * Also a command, for probing from inside a network namespace:
 *   node stun-client.js HOST PORT [TIMEOUT_MS]  → prints {"address","port"} of the answer, or exits 1
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';

export const MAGIC_COOKIE = 0x2112a442;

/**
 * A binding request: `attributes` as `[type, Buffer]` pairs, `fingerprint` to end it with a
 * FINGERPRINT; `type`, `cookie` and `length` override the header's fields (to make bad ones).
 */
export function bindingRequest({ attributes = [], fingerprint = false, type = 0x0001, cookie, length } = {}) {
  const body = attributes.map(([attributeType, value]) => {
    const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
    padded.writeUInt16BE(attributeType, 0);
    padded.writeUInt16BE(value.length, 2);
    value.copy(padded, 4);
    return padded;
  });
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(cookie ?? MAGIC_COOKIE, 4);
  randomBytes(12).copy(header, 8);
  let message = Buffer.concat([header, ...body]);
  if (fingerprint) {
    message.writeUInt16BE(message.length - 20 + 8, 2);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt16BE(0x8028, 0);
    trailer.writeUInt16BE(4, 2);
    trailer.writeUInt32BE((crc32(message) ^ 0x5354554e) >>> 0, 4);
    message = Buffer.concat([message, trailer]);
  }
  message.writeUInt16BE(length ?? message.length - 20, 2);
  return message;
}

/**
 * A binding success response read: its transaction id, the XOR-MAPPED-ADDRESS, whether it has a
 * FINGERPRINT (and whether that checks out), and its attribute types in order.
 */
export function readResponse(message) {
  if (message.length < 20 || message.readUInt16BE(0) !== 0x0101) return undefined;
  if (message.readUInt32BE(4) !== MAGIC_COOKIE || message.readUInt16BE(2) !== message.length - 20) return undefined;
  const result = { transaction: message.subarray(8, 20).toString('hex'), types: [] };
  for (let at = 20; at + 4 <= message.length;) {
    const type = message.readUInt16BE(at);
    const size = message.readUInt16BE(at + 2);
    const value = message.subarray(at + 4, at + 4 + size);
    result.types.push(type);
    if (type === 0x0020) {
      const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
      const key = message.subarray(4, 20);
      const bytes = [...value.subarray(4)].map((byte, i) => byte ^ key[i]);
      result.port = port;
      result.address =
        value[1] === 0x01
          ? bytes.join('.')
          : Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16)).join(':');
    }
    if (type === 0x8028) {
      result.fingerprintValid = value.readUInt32BE(0) === (crc32(message.subarray(0, at)) ^ 0x5354554e) >>> 0;
    }
    at += 4 + Math.ceil(size / 4) * 4;
  }
  return result;
}

/** A UDP socket bound on `host` (udp4), with every datagram it receives kept in `received`. */
export async function openUdp(host = '127.0.0.1') {
  const socket = createSocket('udp4');
  const received = [];
  const waiters = new Set();
  socket.on('error', () => {});
  socket.on('message', (message) => {
    received.push(message);
    for (const waiter of waiters) waiter();
  });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, resolve);
  });
  return {
    socket,
    received,
    send: (message, port, address) => new Promise((resolve) => socket.send(message, port, address, () => resolve())),
    /** Resolves once `count` datagrams came in all, or after `ms` with what did. */
    until(count, ms) {
      return new Promise((resolve) => {
        const done = () => {
          if (received.length < count) return;
          clearTimeout(timer);
          waiters.delete(done);
          resolve(received);
        };
        const timer = setTimeout(() => {
          waiters.delete(done);
          resolve(received);
        }, ms);
        waiters.add(done);
        done();
      });
    },
    close: () => new Promise((resolve) => socket.close(resolve)),
  };
}

/** Resolves with the mapped address once `host:port` answers a binding request (retried every 100 ms), or undefined. */
export async function stunAnswered(host, port, timeout) {
  const udp = await openUdp(host === '127.0.0.1' ? host : '0.0.0.0');
  const deadline = Date.now() + timeout;
  try {
    while (Date.now() < deadline) {
      await udp.send(bindingRequest(), port, host);
      await udp.until(1, 100);
      const answer = udp.received.map(readResponse).find(Boolean);
      if (answer) return { address: answer.address, port: answer.port };
    }
    return undefined;
  } finally {
    await udp.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [host, port, timeout = '10000'] = process.argv.slice(2);
  const answer = await stunAnswered(host, Number(port), Number(timeout));
  if (answer) console.log(JSON.stringify(answer));
  process.exitCode = answer ? 0 : 1;
}
