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
 * announced by the last `file` frame. One ordered, reliable channel carries everything, so a
 * chat message sent during a transfer arrives between two chunks, in order.
 */
type Frame =
  | { t: 'msg'; d: unknown }
  | { t: 'media'; a: boolean; v: boolean; s?: boolean }
  | { t: 'file'; name: string; type: string; size: number };

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
}

/**
 * The call's data channel to one peer: chat and JSON, mute/camera state, and files in chunks
 * with backpressure.
 */
export class PeerChannel {
  readonly #channel: RTCDataChannel;
  readonly #listener: ChannelListener;
  /** What the peer's SCTP stack accepts in one message (known once negotiated). */
  readonly #maxMessageSize: () => number | undefined;
  #incoming: Incoming | undefined;
  /** Sends one file at a time, in the order asked. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(channel: RTCDataChannel, listener: ChannelListener, maxMessageSize: () => number | undefined) {
    this.#channel = channel;
    this.#listener = listener;
    this.#maxMessageSize = maxMessageSize;
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
    const size = file.size;
    this.#frame({ t: 'file', name, type: file.type, size });
    const chunk = Math.max(1024, Math.min(CHUNK, this.#maxMessageSize() || CHUNK));
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
    if (typeof data !== 'string') {
      this.#chunk(data as ArrayBuffer);
      return;
    }
    let frame: Frame;
    try {
      frame = JSON.parse(data) as Frame;
    } catch {
      this.#listener.error(new RtcCallError('protocol', 'The peer sent a message we cannot read.'));
      return;
    }
    switch (frame.t) {
      case 'msg':
        this.#listener.message(frame.d);
        break;
      case 'media':
        this.#listener.media({ audio: frame.a !== false, video: frame.v !== false, screen: frame.s === true });
        break;
      case 'file': {
        const size = Number(frame.size);
        if (!Number.isSafeInteger(size) || size < 0) return;
        this.#incoming = {
          name: String(frame.name),
          type: String(frame.type ?? ''),
          size,
          chunks: [],
          bytes: 0,
          reported: -1,
        };
        this.#progress(this.#incoming);
        if (size === 0) this.#complete();
        break;
      }
    }
  }

  #chunk(data: ArrayBuffer): void {
    const incoming = this.#incoming;
    if (!incoming) return;
    incoming.chunks.push(data);
    incoming.bytes += data.byteLength;
    this.#progress(incoming);
    if (incoming.bytes >= incoming.size) this.#complete();
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
    this.#incoming = undefined;
    this.#listener.file(new File(incoming.chunks, incoming.name, { type: incoming.type }));
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const incoming = this.#incoming;
    this.#incoming = undefined;
    if (incoming) {
      this.#listener.error(
        new RtcCallError(
          'not-connected',
          `The call ended during the transfer of "${incoming.name}" (${incoming.bytes} of ${incoming.size} bytes received).`,
        ),
      );
    }
  }
}

/** A transfer the call's end cut short, said with what was sent. */
function cutOff(name: string, bytes: number, size: number): RtcCallError {
  return new RtcCallError('not-connected', `The call ended before "${name}" was sent (${bytes} of ${size} bytes).`);
}
