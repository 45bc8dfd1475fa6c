/**
 * What the server logs through: pino's shape (`logger.warn({ fields }, 'message')`), so a pino
 * logger (what the command uses) or any logger with those four methods can be passed in. Fields
 * never hold a secret, a token, an SDP or an ICE candidate; rooms are logged by a short hash
 * (`room`), since a room's name is what lets people into it.
 */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ignore = (): void => {};

/** Logs nothing: what an embedded server does unless it is given a logger. */
export const SILENT: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

/** How long a repeated line (one key) is held back after it was logged, in ms. */
const REPEAT_MS = 60_000;

/**
 * One line per key a minute at most: an attacker's flood, or an outage failing every message,
 * must not flood the log. The line after a quiet spell says how many were held back (`repeated`).
 */
export class Throttle {
  readonly #logger: Logger;
  readonly #seen = new Map<string, { at: number; held: number; level: LogLevel; fields: object; message: string }>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  log(level: LogLevel, key: string, fields: object, message: string): void {
    const now = performance.now();
    const seen = this.#seen.get(key);
    if (seen && now - seen.at < REPEAT_MS) {
      seen.held++;
      return;
    }
    this.#logger[level](seen?.held ? { ...fields, repeated: seen.held } : fields, message);
    this.#seen.set(key, { at: now, held: 0, level, fields, message });
  }

  /**
   * Forgets keys quiet for a minute (called now and then), so the map stays small; what was held
   * back for one is logged first, once.
   */
  sweep(): void {
    const now = performance.now();
    for (const [key, seen] of this.#seen) {
      if (now - seen.at < REPEAT_MS) continue;
      if (seen.held) this.#logger[seen.level]({ ...seen.fields, repeated: seen.held }, seen.message);
      this.#seen.delete(key);
    }
  }
}
