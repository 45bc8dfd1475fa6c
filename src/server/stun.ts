import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { crc32 } from 'node:zlib';
import { TokenBucket, checkRateLimit, type RateLimit } from './rate-limit.js';
import type { Logger } from './log.js';

// A STUN binding responder (RFC 8489): what a browser asks a STUN server to learn the address
// and port its NAT gives it (its server-reflexive ICE candidate). Written here rather than taken
// from npm: `stun` brings nine dependencies (a CLI parser and `ip` among them) for a client and
// server we would use a tenth of, and `ministun` answers RFC 3489 requests and errors, adds a
// SOFTWARE attribute to every answer and logs every packet, all of which an open UDP port facing
// the internet must not do. What is needed is one request type in and one answer out.

const HEADER_BYTES = 20;
const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const XOR_MAPPED_ADDRESS = 0x0020;
const FINGERPRINT = 0x8028;
/** RFC 8489 §14.7: the CRC-32 of the message, XORed with "STUN". */
const FINGERPRINT_XOR = 0x5354554e;

/**
 * The longest request answered. A binding request to a STUN server needs a header and at most a
 * few optional attributes; 548 bytes is what RFC 8489 §6.1 lets a STUN message be over IPv4
 * without knowing the path's MTU (576, less the IP and UDP headers).
 */
export const MAX_REQUEST_BYTES = 548;

/** Per source address (not port: one home's browsers share it): a call's gathering and keep-alives pass, a flood does not. */
export const DEFAULT_STUN_RATE: RateLimit = { burst: 40, perSecond: 20 };

/** Sources remembered at once; beyond that the longest quiet one is forgotten first. */
const MAX_SOURCES = 10_000;

/**
 * The success response to `request` if it is a well-formed binding request (RFC 8489 §6.3), else
 * undefined: a response, an indication, another method, a bad length or cookie, an attribute that
 * overruns, a comprehension-required attribute (we understand none: CHANGE-REQUEST, USERNAME and
 * MESSAGE-INTEGRITY are for servers that do more than this one), or a FINGERPRINT that is not the
 * last attribute or does not match. The answer carries only XOR-MAPPED-ADDRESS, and FINGERPRINT
 * when the request had one: 32 bytes (IPv4) for a 20-byte request.
 */
export function bindingResponse(request: Buffer, source: string, port: number): Buffer | undefined {
  if (request.length < HEADER_BYTES || request.length > MAX_REQUEST_BYTES) return undefined;
  if (request.readUInt16BE(0) !== BINDING_REQUEST) return undefined;
  const length = request.readUInt16BE(2);
  if (length !== request.length - HEADER_BYTES || length % 4 !== 0) return undefined;
  if (request.readUInt32BE(4) !== MAGIC_COOKIE) return undefined;
  let fingerprint = false;
  for (let at = HEADER_BYTES; at < request.length;) {
    if (fingerprint || at + 4 > request.length) return undefined;
    const type = request.readUInt16BE(at);
    const size = request.readUInt16BE(at + 2);
    const end = at + 4 + size;
    if (end > request.length) return undefined;
    if (type < 0x8000) return undefined;
    if (type === FINGERPRINT) {
      if (size !== 4 || request.readUInt32BE(at + 4) !== fingerprintOf(request.subarray(0, at))) return undefined;
      fingerprint = true;
    }
    at = end + ((4 - (size % 4)) % 4);
    if (at > request.length) return undefined;
  }
  // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d: it is told its IPv4 address.
  const address = source.startsWith('::ffff:') && isIPv4(source.slice(7)) ? source.slice(7) : source;
  const ipv4 = isIPv4(address);
  const addressBytes = ipv4 ? 4 : 16;
  const response = Buffer.alloc(HEADER_BYTES + 8 + addressBytes + (fingerprint ? 8 : 0));
  response.writeUInt16BE(BINDING_SUCCESS, 0);
  response.writeUInt16BE(response.length - HEADER_BYTES, 2);
  // The magic cookie and transaction id, as the request had them.
  request.copy(response, 4, 4, HEADER_BYTES);
  response.writeUInt16BE(XOR_MAPPED_ADDRESS, 20);
  response.writeUInt16BE(4 + addressBytes, 22);
  response.writeUInt8(ipv4 ? 0x01 : 0x02, 25);
  response.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 26);
  // X-Address: the address XORed with the cookie (and, for IPv6, the transaction id after it).
  const raw = ipv4 ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
  for (let i = 0; i < addressBytes; i++) response[28 + i] = raw[i]! ^ response[4 + i]!;
  if (fingerprint) {
    const at = 28 + addressBytes;
    response.writeUInt16BE(FINGERPRINT, at);
    response.writeUInt16BE(4, at + 2);
    response.writeUInt32BE(fingerprintOf(response.subarray(0, at)), at + 4);
  }
  return response;
}

/** FINGERPRINT's value for the message before it, with the length field already covering it. */
function fingerprintOf(before: Buffer): number {
  return (crc32(before) ^ FINGERPRINT_XOR) >>> 0;
}

/** An IPv6 address as Node reports it (`2001:db8::1`, `fe80::1%eth0`) as its 16 bytes. */
export function ipv6Bytes(address: string): Buffer {
  const bytes = Buffer.alloc(16);
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16) || 0, i * 2));
  return bytes;
}

export interface StunOptions {
  port: number;
  host: string;
  /** Answers per source address (default burst 40, then 20/s); over it, requests are dropped. */
  rate?: RateLimit;
  logger?: Logger | undefined;
}

/**
 * The STUN responder on one UDP socket. Every datagram that is not a well-formed binding request,
 * and every one over its source's rate, is dropped without an answer.
 */
export class StunResponder {
  readonly #socket: Socket;
  readonly #rate: RateLimit;
  readonly #logger: Logger | undefined;
  /** A bucket per source address, the quietest first (each use moves it to the end). */
  readonly #sources = new Map<string, TokenBucket>();
  /** Sources cut off since the last log line: a flood costs a line a minute, not one a packet. */
  #limited = new Set<string>();
  #logTimer: ReturnType<typeof setInterval> | undefined;

  private constructor(socket: Socket, options: StunOptions) {
    this.#socket = socket;
    this.#rate = checkRateLimit(options.rate ?? DEFAULT_STUN_RATE, 'the STUN rate');
    this.#logger = options.logger;
    socket.on('message', (message, remote) => this.#answer(message, remote));
    // A send that fails (the source is unreachable) concerns that datagram only.
    socket.on('error', () => {});
  }

  /** Binds `host:port` (UDP); rejects if it cannot (the port is taken). */
  static async listen(options: StunOptions): Promise<StunResponder> {
    const socket = createSocket({ type: isIPv4(options.host) || options.host === 'localhost' ? 'udp4' : 'udp6' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port, options.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new StunResponder(socket, options);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  close(): Promise<void> {
    clearInterval(this.#logTimer);
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  #answer(message: Buffer, remote: RemoteInfo): void {
    // The cheap checks first: a flood of junk costs no bucket.
    if (message.length < HEADER_BYTES || message.length > MAX_REQUEST_BYTES || message[0]! !== 0) return;
    if (!this.#allow(remote.address)) return;
    const response = bindingResponse(message, remote.address, remote.port);
    if (response) this.#socket.send(response, remote.port, remote.address);
  }

  #allow(address: string): boolean {
    let bucket = this.#sources.get(address);
    if (bucket) this.#sources.delete(address);
    else {
      bucket = new TokenBucket(this.#rate);
      if (this.#sources.size >= MAX_SOURCES) this.#sources.delete(this.#sources.keys().next().value!);
    }
    this.#sources.set(address, bucket);
    if (bucket.take()) return true;
    this.#noteLimited(address);
    return false;
  }

  #noteLimited(address: string): void {
    if (!this.#logger) return;
    if (this.#logTimer) {
      this.#limited.add(address);
      return;
    }
    this.#logger.warn({ address, limit: 'stunRate' }, 'STUN requests over the rate limit: dropped');
    this.#logTimer = setInterval(() => {
      if (this.#limited.size === 0) {
        clearInterval(this.#logTimer);
        this.#logTimer = undefined;
        return;
      }
      this.#logger?.warn(
        { addresses: this.#limited.size, limit: 'stunRate' },
        'STUN requests over the rate limit in the last minute',
      );
      this.#limited = new Set();
    }, 60_000);
    this.#logTimer.unref();
  }
}
