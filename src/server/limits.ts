import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { TokenBucket, type RateLimit } from './rate-limit.js';

/** Everything the server limits, with its defaults (each a setting: see config.ts). */
export interface Limits {
  /** Joins (and resumes) per client address: enough for an office behind one NAT, not for probing rooms. */
  joinRate: RateLimit;
  /** Messages per socket: a peer trickling ICE candidates sends dozens at once. */
  messageRate: RateLimit;
  /** Open sockets per client address. */
  connectionsPerAddress: number;
  /** Open sockets in all. */
  maxConnections: number;
  /** A socket that holds no seat for this long (it never joined, or left) is closed, in ms. */
  joinTimeoutMs: number;
  /** A seat whose client has not confirmed what it was sent for this long is cut, in ms. */
  confirmTimeoutMs: number;
  /** Characters of replay text kept for every seat together; over it, the biggest holders are cut. */
  replayTotalBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  joinRate: { burst: 20, perSecond: 5 },
  messageRate: { burst: 100, perSecond: 50 },
  connectionsPerAddress: 100,
  maxConnections: 20_000,
  joinTimeoutMs: 10_000,
  confirmTimeoutMs: 20_000,
  replayTotalBytes: 64 * 1024 * 1024,
};

/** Which limit closed a socket: its close code and reason (what the client sees). */
export const CLOSES = {
  messageRate: { code: 1008, reason: 'rate limit' },
  joinRate: { code: 1008, reason: 'join rate limit' },
  connectionsPerAddress: { code: 1013, reason: 'too many connections from your address' },
  maxConnections: { code: 1013, reason: 'server full: too many connections' },
  joinTimeout: { code: 1008, reason: 'no join in time' },
  confirmTimeout: { code: 1008, reason: 'replay not confirmed in time' },
  replayTotal: { code: 1013, reason: 'server busy: replay memory full' },
  /** Logged only: the socket is terminated, as it reads nothing more, a close frame included. */
  unread: { code: 1008, reason: 'too much unread' },
} as const;

export type LimitName = keyof typeof CLOSES;

/** What one client address has open and how fast it joins. */
export interface AddressEntry {
  readonly address: string;
  connections: number;
  readonly joins: TokenBucket;
  /** When it last opened or joined (performance.now()). */
  used: number;
}

/**
 * Per-address state. An address stays known while it has sockets open and until its join bucket
 * has filled again after its last one closed: reconnecting does not buy a fresh bucket.
 */
export class Addresses {
  readonly #limits: Limits;
  readonly #entries = new Map<string, AddressEntry>();
  /** How long a full join bucket takes to refill, in ms. */
  readonly #refillMs: number;

  constructor(limits: Limits) {
    this.#limits = limits;
    this.#refillMs = (limits.joinRate.burst / limits.joinRate.perSecond) * 1000;
  }

  /** The address's entry with one more socket counted, or undefined when it has its fill. */
  open(address: string): AddressEntry | undefined {
    let entry = this.#entries.get(address);
    if (!entry) {
      entry = { address, connections: 0, joins: new TokenBucket(this.#limits.joinRate), used: 0 };
      this.#entries.set(address, entry);
    }
    if (entry.connections >= this.#limits.connectionsPerAddress) return undefined;
    entry.connections++;
    entry.used = performance.now();
    return entry;
  }

  close(entry: AddressEntry): void {
    entry.connections--;
    entry.used = performance.now();
  }

  /** Forgets addresses with nothing open whose bucket has refilled (called now and then). */
  sweep(): void {
    const now = performance.now();
    for (const [address, entry] of this.#entries) {
      if (entry.connections <= 0 && now - entry.used >= this.#refillMs) this.#entries.delete(address);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}

/**
 * The proxies whose `X-Forwarded-For` is believed (`TRUST_PROXY`): addresses or CIDR ranges,
 * IPv4 or IPv6. Throws a RangeError naming an entry that is neither.
 */
export function trustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits, extra] = entry.split('/');
    const family = address ? isIP(address) : 0;
    const prefix = bits === undefined ? undefined : Number(bits);
    const max = family === 6 ? 128 : 32;
    if (
      !family ||
      extra !== undefined ||
      (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= max))
    )
      throw new RangeError(`"${entry}" is not an IP address or a CIDR range like 10.0.0.0/8`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, prefix, type);
  }
  return list;
}

/** `::ffff:192.0.2.1` → `192.0.2.1`; other addresses as they are. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function trusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The client's address: the socket's peer, unless that is a trusted proxy; then the nearest
 * address in `X-Forwarded-For` that is not a trusted proxy itself (read from the right, as each
 * proxy appends the address it saw, so what a client wrote itself is never taken over what the
 * proxy saw). An entry that is not an address stops the walk at the last one that was.
 */
export function clientAddress(request: IncomingMessage, proxies: BlockList | undefined): string {
  let address = plain(request.socket.remoteAddress ?? '');
  if (!proxies || !trusted(proxies, address)) return address;
  const header = request.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = plain(hops[i]!.trim());
    if (!isIP(hop)) break;
    address = hop;
    if (!trusted(proxies, hop)) break;
  }
  return address;
}
