import { RtcCallError } from './errors.js';

/** What the peer sends: its microphone and camera on or off. */
export interface MediaState {
  audio: boolean;
  video: boolean;
  /** The video is a shared screen, which sends frames only when something on it changes. */
  screen?: boolean;
}

export interface FileProgress {
  name: string;
  size: number;
  bytes: number;
  direction: 'send' | 'receive';
}

export interface ChannelListener {
  open(): void;
  message(data: unknown): void;
  media(state: MediaState): void;
  fileProgress(progress: FileProgress): void;
  file(file: File): void;
  /** A transfer cut off (the call ended), or a frame we cannot read. Not fatal to the call. */
  error(error: RtcCallError): void;
}

/**
 * Frames on the wire: text frames are JSON `{t, …}`; binary frames are the chunks of the file
 * announced by the last `file` frame, `size` bytes in all, one file at a time. One ordered,
 * reliable channel carries everything, so a chat message sent during a transfer arrives between
 * two chunks, in order. The receiver answers a file it will not take with `refuse`.
 */
type Frame =
  | { t: 'msg'; d: unknown }
  | { t: 'media'; a: boolean; v: boolean; s?: boolean }
  | { t: 'file'; name: string; type: string; size: number }
  | { t: 'refuse'; name: string; reason: RefuseReason; max?: number };

/**
 * Why a file was refused: `too-big` (over the receiver's `max-file-size`, given as `max`), `busy`
 * (another is arriving), `overrun` (more bytes came than announced), `stalled` (nothing came for
 * a while).
 */
type RefuseReason = 'too-big' | 'busy' | 'overrun' | 'stalled';
const REFUSE_REASONS: readonly string[] = ['too-big', 'busy', 'overrun', 'stalled'];

/**
 * Received types a browser shows without running anything: images (not SVG), audio, video, PDF,
 * plain text. Anything else is `application/octet-stream`, so a link to the file downloads it.
 */
const SAFE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'audio/mpeg',
  'audio/ogg',
  'audio/wav',
  'audio/webm',
  'audio/aac',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'application/pdf',
  'text/plain',
  'text/csv',
  'application/zip',
]);

/** The type a received file gets: the announced one if it is safe, else `application/octet-stream`. */
export function safeType(announced: string): string {
  const type = announced.split(';')[0]!.trim().toLowerCase();
  return SAFE_TYPES.has(type) ? type : 'application/octet-stream';
}

/** A transfer that receives nothing for this long is cut, in ms. */
export const STALL_MS = 15_000;

/** Names longer than this are cut (the peer chooses them). */
const NAME_MAX = 255;

/** The biggest chunk we send; smaller if the peer's SCTP stack announces less. */
const CHUNK = 64 * 1024;
/** Never more than this queued in the channel: a big file is read as it drains. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

interface Incoming {
  name: string;
  type: string;
  size: number;
  chunks: ArrayBuffer[];
  bytes: number;
  reported: number;
  stallTimer?: ReturnType<typeof setTimeout> | undefined;
}

/** The file being sent, and the peer's refusal of it once that comes. */
interface Sending {
  name: string;
  refused?: RtcCallError;
}

/** What a channel needs beyond the channel: what the two sides accept. */
export interface ChannelLimits {
  /** What the peer's SCTP stack accepts in one message (known once negotiated). */
  maxMessageSize(): number | undefined;
  /** The largest file we take from the peer, in bytes. */
  maxFileSize(): number;
}

/**
 * The call's data channel to one peer: chat and JSON, mute/camera state, and files in chunks
 * with backpressure.
 */
export class PeerChannel {
  readonly #channel: RTCDataChannel;
  readonly #listener: ChannelListener;
  readonly #limits: ChannelLimits;
  #incoming: Incoming | undefined;
  /** A transfer was refused or cut: its chunks that still come are dropped, up to the next `file`. */
  #discarding = false;
  /** A frame we cannot read was reported: the others are dropped quietly. */
  #reportedMalformed = false;
  /** Sends one file at a time, in the order asked. */
  #queue: Promise<unknown> = Promise.resolve();
  /** The file being sent, and the peer's refusal of it once it comes. */
  #sending: Sending | undefined;
  #closed = false;

  constructor(channel: RTCDataChannel, listener: ChannelListener, limits: ChannelLimits) {
    this.#channel = channel;
    this.#listener = listener;
    this.#limits = limits;
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = LOW_WATER;
    channel.addEventListener('message', ({ data }) => this.#receive(data));
    channel.addEventListener('close', () => this.#close());
    if (channel.readyState === 'open') queueMicrotask(() => listener.open());
    else channel.addEventListener('open', () => listener.open(), { once: true });
  }

  get open(): boolean {
    return this.#channel.readyState === 'open';
  }

  /** A string, or any JSON-serialisable value; the peer gets it as it was. */
  send(data: unknown): void {
    if (data === undefined) throw new RtcCallError('bad-config', 'send() needs something to send, not undefined.');
    this.#frame({ t: 'msg', d: data });
  }

  sendMedia(state: MediaState): void {
    if (this.open) this.#frame({ t: 'media', a: state.audio, v: state.video, ...(state.screen ? { s: true } : {}) });
  }

  /** Resolves once the whole file is handed to the channel; rejects if the call ends first. */
  sendFile(file: Blob, name = file instanceof File ? file.name : 'file'): Promise<void> {
    this.#assertOpen();
    const run = this.#queue.then(() => this.#sendFile(file, name));
    this.#queue = run.catch(() => {});
    return run;
  }

  close(): void {
    this.#close();
    this.#channel.close();
  }

  async #sendFile(file: Blob, name: string): Promise<void> {
    const sending: Sending = { name };
    this.#sending = sending;
    try {
      await this.#sendChunks(file, name, sending);
    } finally {
      if (this.#sending === sending) this.#sending = undefined;
    }
  }

  async #sendChunks(file: Blob, name: string, sending: Sending): Promise<void> {
    const size = file.size;
    this.#frame({ t: 'file', name, type: file.type, size });
    const chunk = Math.max(1024, Math.min(CHUNK, this.#limits.maxMessageSize() || CHUNK));
    let reported = -1;
    const report = (bytes: number) => {
      // At most one event per percent, and always the last.
      if (bytes !== size && Math.floor((bytes * 100) / size) === reported) return;
      reported = size ? Math.floor((bytes * 100) / size) : 100;
      this.#listener.fileProgress({ name, size, bytes, direction: 'send' });
    };
    report(0);
    for (let offset = 0; offset < size;) {
      if (this.#channel.bufferedAmount > HIGH_WATER - chunk) await this.#drained(name, offset, size);
      // Read as we go: the file is never held in memory whole.
      const data = await file.slice(offset, offset + chunk).arrayBuffer();
      if (sending.refused) throw sending.refused;
      this.#assertOpen(name, offset, size);
      this.#channel.send(data);
      offset += data.byteLength;
      report(offset);
    }
  }

  /** Until the queue is below the low-water mark, or the channel closes (then it throws). */
  #drained(name: string, bytes: number, size: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        this.#channel.removeEventListener('bufferedamountlow', done);
        this.#channel.removeEventListener('close', done);
        if (this.open) resolve();
        else reject(cutOff(name, bytes, size));
      };
      this.#channel.addEventListener('bufferedamountlow', done);
      this.#channel.addEventListener('close', done);
    });
  }

  #frame(frame: Frame): void {
    this.#assertOpen();
    this.#channel.send(JSON.stringify(frame));
  }

  #assertOpen(name?: string, bytes = 0, size = 0): void {
    if (this.open) return;
    throw name === undefined
      ? new RtcCallError('not-connected', 'Not connected to a peer yet — wait for the call to connect.')
      : cutOff(name, bytes, size);
  }

  #receive(data: unknown): void {
    if (data instanceof ArrayBuffer) {
      this.#chunk(data);
      return;
    }
    const frame = typeof data === 'string' ? readFrame(data) : undefined;
    if (!frame) {
      // Reported once: a peer sending nonsense must not flood the page with events.
      if (!this.#reportedMalformed) {
        this.#reportedMalformed = true;
        this.#listener.error(new RtcCallError('protocol', 'The peer sent a message we cannot read; it was ignored.'));
      }
      return;
    }
    switch (frame.t) {
      case 'msg':
        this.#listener.message(frame.d);
        break;
      case 'media':
        this.#listener.media({ audio: frame.a, video: frame.v, screen: frame.s === true });
        break;
      case 'file':
        this.#announced(frame);
        break;
      case 'refuse':
        this.#refused(frame);
        break;
    }
  }

  /** A file announced: taken if we can, else refused (and the sender told why). */
  #announced({ name: given, type, size }: Extract<Frame, { t: 'file' }>): void {
    const name = given.slice(0, NAME_MAX);
    if (this.#incoming) {
      // One at a time: the one arriving carries on, this one is refused.
      this.#refuse(name, 'busy', `Refused "${name}" from the peer: another file is still arriving.`);
      return;
    }
    const max = this.#limits.maxFileSize();
    if (size > max) {
      this.#discarding = true;
      this.#refuse(
        name,
        'too-big',
        `Refused "${name}" from the peer: ${bytesText(size)} is over max-file-size (${bytesText(max)}).`,
        max,
      );
      return;
    }
    this.#discarding = false;
    this.#incoming = { name, type: safeType(type), size, chunks: [], bytes: 0, reported: -1 };
    this.#progress(this.#incoming);
    if (size === 0) this.#complete();
    else this.#watchStall(this.#incoming);
  }

  #chunk(data: ArrayBuffer): void {
    const incoming = this.#incoming;
    if (!incoming) {
      if (this.#discarding) return;
      this.#discarding = true;
      this.#listener.error(
        new RtcCallError('protocol', 'The peer sent file data without announcing a file; it was dropped.'),
      );
      return;
    }
    if (incoming.bytes + data.byteLength > incoming.size) {
      // Never more than announced: what came is dropped, and so is the rest.
      this.#cut(
        incoming,
        'overrun',
        new RtcCallError(
          'protocol',
          `The peer sent more of "${incoming.name}" than the ${bytesText(incoming.size)} it announced; the file was dropped.`,
        ),
      );
      return;
    }
    incoming.chunks.push(data);
    incoming.bytes += data.byteLength;
    this.#progress(incoming);
    if (incoming.bytes === incoming.size) this.#complete();
    else this.#watchStall(incoming);
  }

  #watchStall(incoming: Incoming): void {
    clearTimeout(incoming.stallTimer);
    incoming.stallTimer = setTimeout(() => {
      if (this.#incoming !== incoming) return;
      this.#cut(
        incoming,
        'stalled',
        new RtcCallError(
          'not-connected',
          `The transfer of "${incoming.name}" stalled: nothing came for ${STALL_MS / 1000} s (${incoming.bytes} of ${incoming.size} bytes); it was dropped.`,
        ),
      );
    }, STALL_MS);
  }

  /** Drops a transfer under way (its bytes go), tells the sender, and the page. */
  #cut(incoming: Incoming, reason: RefuseReason, error: RtcCallError): void {
    clearTimeout(incoming.stallTimer);
    this.#incoming = undefined;
    this.#discarding = true;
    this.#tell({ t: 'refuse', name: incoming.name, reason });
    this.#listener.error(error);
  }

  #refuse(name: string, reason: RefuseReason, message: string, max?: number): void {
    this.#tell({ t: 'refuse', name, reason, ...(max === undefined ? {} : { max }) });
    this.#listener.error(new RtcCallError('file-refused', message));
  }

  /** A frame to the peer if the channel is open; nothing if it is not (the call is ending). */
  #tell(frame: Frame): void {
    if (this.open) this.#channel.send(JSON.stringify(frame));
  }

  /** The peer refused the file we send: the transfer stops, and sendFile() rejects with why. */
  #refused({ name, reason, max }: Extract<Frame, { t: 'refuse' }>): void {
    const sending = this.#sending;
    const why =
      reason === 'too-big'
        ? `the peer takes files up to ${bytesText(max ?? 0)}`
        : reason === 'busy'
          ? 'the peer is receiving another file'
          : reason === 'stalled'
            ? 'nothing reached the peer for a while'
            : 'the peer received more than was announced';
    const error = new RtcCallError('file-refused', `"${name}" was refused: ${why}.`);
    if (sending && sending.name === name && !sending.refused) sending.refused = error;
    else this.#listener.error(error);
  }

  #progress(incoming: Incoming): void {
    const { name, size, bytes } = incoming;
    const percent = size ? Math.floor((bytes * 100) / size) : 100;
    if (bytes !== size && percent === incoming.reported) return;
    incoming.reported = percent;
    this.#listener.fileProgress({ name, size, bytes, direction: 'receive' });
  }

  #complete(): void {
    const incoming = this.#incoming;
    if (!incoming) return;
    clearTimeout(incoming.stallTimer);
    this.#incoming = undefined;
    this.#listener.file(new File(incoming.chunks, incoming.name, { type: incoming.type }));
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const incoming = this.#incoming;
    this.#incoming = undefined;
    if (incoming) {
      clearTimeout(incoming.stallTimer);
      this.#listener.error(
        new RtcCallError(
          'not-connected',
          `The call ended during the transfer of "${incoming.name}" (${incoming.bytes} of ${incoming.size} bytes received).`,
        ),
      );
    }
  }
}

/** A text frame, checked: its shape exactly, else undefined (ignored). */
function readFrame(text: string): Frame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const frame = value as Record<string, unknown>;
  const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
  switch (frame['t']) {
    case 'msg':
      return 'd' in frame ? { t: 'msg', d: frame['d'] } : undefined;
    case 'media': {
      const { a, v, s } = frame;
      if (!isBoolean(a) || !isBoolean(v) || (s !== undefined && !isBoolean(s))) return undefined;
      return { t: 'media', a, v, ...(s ? { s } : {}) };
    }
    case 'file': {
      const { name, type, size } = frame;
      if (typeof name !== 'string' || typeof type !== 'string') return undefined;
      if (!Number.isSafeInteger(size) || (size as number) < 0) return undefined;
      return { t: 'file', name, type, size: size as number };
    }
    case 'refuse': {
      const { name, reason, max } = frame;
      if (typeof name !== 'string' || typeof reason !== 'string' || !REFUSE_REASONS.includes(reason)) return undefined;
      if (max !== undefined && !Number.isSafeInteger(max)) return undefined;
      return {
        t: 'refuse',
        name,
        reason: reason as RefuseReason,
        ...(max === undefined ? {} : { max: max as number }),
      };
    }
    default:
      return undefined;
  }
}

function bytesText(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/** A transfer the call's end cut short, said with what was sent. */
function cutOff(name: string, bytes: number, size: number): RtcCallError {
  return new RtcCallError('not-connected', `The call ended before "${name}" was sent (${bytes} of ${size} bytes).`);
}
