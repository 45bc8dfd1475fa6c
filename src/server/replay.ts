/**
 * What the server sent one seat, numbered and kept until the client confirms it, so that a
 * client that reconnects gets exactly what it missed, once and in order. Pure data.
 */
export interface ReplayLimits {
  /** Messages kept per seat, at most. */
  messages: number;
  /** Bytes kept per seat, at most. */
  bytes: number;
}

export const DEFAULT_REPLAY_LIMITS: ReplayLimits = { messages: 256, bytes: 512 * 1024 };

export class ReplayBuffer {
  readonly #limits: ReplayLimits;
  #seq = 0;
  #entries: { seq: number; text: string }[] = [];
  #bytes = 0;
  /** The highest number dropped for room before it was confirmed: a replay from below it is impossible. */
  #lost = 0;

  constructor(limits: ReplayLimits = DEFAULT_REPLAY_LIMITS) {
    this.#limits = limits;
  }

  /** Numbers `message`, keeps it, and returns its text to send. */
  add(message: object): string {
    const seq = ++this.#seq;
    const text = JSON.stringify({ ...message, seq });
    this.#entries.push({ seq, text });
    this.#bytes += text.length;
    while (this.#entries.length > this.#limits.messages || this.#bytes > this.#limits.bytes) {
      const dropped = this.#entries.shift()!;
      this.#bytes -= dropped.text.length;
      this.#lost = dropped.seq;
    }
    return text;
  }

  /** The client has everything up to `received`: forget it. */
  confirm(received: number): void {
    while (this.#entries.length > 0 && this.#entries[0]!.seq <= received) {
      this.#bytes -= this.#entries.shift()!.text.length;
    }
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
}
