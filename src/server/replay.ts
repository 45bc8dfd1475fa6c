/**
 * What the server sent one seat, numbered and kept until the client confirms it, so that a
 * client that reconnects gets exactly what it missed, once and in order. Pure data.
 */
export interface ReplayLimits {
  /** Messages kept per seat, at most. */
  messages: number;
  /** Characters of text kept per seat, at most. */
  bytes: number;
}

export const DEFAULT_REPLAY_LIMITS: ReplayLimits = { messages: 256, bytes: 256 * 1024 };

/** What every seat's buffer holds together (the server bounds it): characters of text. */
export interface ReplayTotal {
  bytes: number;
}

interface Entry {
  readonly seq: number;
  readonly text: string;
}

export class ReplayBuffer {
  readonly #limits: ReplayLimits;
  readonly #total: ReplayTotal;
  #seq = 0;
  #entries: Entry[] = [];
  #bytes = 0;
  /** The highest number dropped for room before it was confirmed: a replay from below it is impossible. */
  #lost = 0;
  /** When the oldest message still kept was added (performance.now()), or undefined when none is. */
  #since: number | undefined;

  constructor(limits: ReplayLimits = DEFAULT_REPLAY_LIMITS, total: ReplayTotal = { bytes: 0 }) {
    this.#limits = limits;
    this.#total = total;
  }

  /** Numbers `message`, keeps it, and returns its text to send. */
  add(message: object): string {
    return this.addJson(JSON.stringify(message));
  }

  /**
   * Numbers a message given as the JSON text of an object without `seq` (the caller made it, so it
   * is one), keeps it, and returns its text, `seq` included, to send.
   */
  addJson(json: string): string {
    // `{…}` → `{…,"seq":n}`: the message is not serialised again.
    return this.addMade((seq) => (json.length > 2 ? `${json.slice(0, -1)},"seq":${seq}}` : `{"seq":${seq}}`));
  }

  /** Numbers a message whose text `make` writes, given its number; keeps it, and returns it to send. */
  addMade(make: (seq: number) => string): string {
    const seq = ++this.#seq;
    const text = make(seq);
    this.#entries.push({ seq, text });
    this.#bytes += text.length;
    this.#total.bytes += text.length;
    this.#since ??= performance.now();
    while (this.#entries.length > this.#limits.messages || this.#bytes > this.#limits.bytes) {
      this.#lost = this.#shift().seq;
    }
    return text;
  }

  /** The client has everything up to `received`: forget it. */
  confirm(received: number): void {
    if (this.#entries.length === 0 || this.#entries[0]!.seq > received) return;
    while (this.#entries.length > 0 && this.#entries[0]!.seq <= received) this.#shift();
    // What is left came after the confirmed part: counted from now, not from the first.
    this.#since = this.#entries.length > 0 ? performance.now() : undefined;
  }

  /** Forgets everything (the seat is gone). */
  clear(): void {
    this.#total.bytes -= this.#bytes;
    this.#bytes = 0;
    this.#entries = [];
    this.#since = undefined;
  }

  /** Since when something has been kept unconfirmed (performance.now()), if anything is. */
  get unconfirmedSince(): number | undefined {
    return this.#since;
  }

  /** What a client that has everything up to `received` missed, or undefined if some of it is gone. */
  since(received: number): string[] | undefined {
    if (received < this.#lost || received > this.#seq) return undefined;
    this.confirm(received);
    return this.#entries.map((entry) => entry.text);
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Characters of text kept. */
  get length(): number {
    return this.#bytes;
  }

  #shift(): Entry {
    const entry = this.#entries.shift()!;
    this.#bytes -= entry.text.length;
    this.#total.bytes -= entry.text.length;
    if (this.#entries.length === 0) this.#since = undefined;
    return entry;
  }
}
