/**
 * The observing pass-through stream: every chunk of a body passes through
 * unchanged (no copy, no buffering) while an observer sees it, learns when
 * the body ends or fails, and when the reader cancels; the cancel is
 * forwarded to the source so an upstream generation stops.
 *
 * @module
 */

/** How {@link observeBody} reads. */
export interface ObserveOptions {
  /**
   * Read a byte stream with a reused buffer (right-sized copies downstream).
   * Only for bodies whose source answers a pending read at its end, as
   * fetch response bodies do; other streams fall back to a default reader.
   */
  byteReader?: boolean;
}

/** The buffer a byte stream is read into. */
const BYOB_CHUNK = 64 * 1024;

/** Pull one chunk at a time, only when the reader asks (shared, never changed). */
const NO_BUFFER: QueuingStrategy<Uint8Array> = { highWaterMark: 0 };

/** What a {@link observeBody} observer is told. Errors thrown by it are ignored. */
export interface BodyObserver {
  /** A chunk, just before it is handed on. */
  onChunk?(chunk: Uint8Array): void;
  /** The source ended normally. */
  onEnd?(): void;
  /** The source failed. */
  onError?(error: unknown): void;
  /** The reader cancelled (e.g. the client disconnected). */
  onCancel?(reason: unknown): void;
}

/**
 * The pass-through source of one observed body. Its methods are shared (the
 * stream calls them on this object), so passing a chunk costs the read and,
 * for a byte read, the copy, and nothing of ours.
 */
class ObservingSource implements UnderlyingDefaultSource<Uint8Array> {
  readonly #observer: BodyObserver;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  readonly #byob: ReadableStreamBYOBReader | undefined;
  /** The buffer the next byte read fills (each read transfers it). */
  #scratch: Uint8Array<ArrayBuffer> | undefined;
  /** The observer has been told how the body ended. */
  #settled = false;
  /** The stream's controller (the same on every pull). */
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** `#received` and `#failed`, bound once: a chunk costs no callback. */
  readonly #onRead: (r: ReadableStreamReadResult<Uint8Array>) => void;
  readonly #onFail: (error: unknown) => void;

  constructor(
    body: ReadableStream<Uint8Array>,
    observer: BodyObserver,
    byteReader: boolean,
  ) {
    this.#observer = observer;
    this.#onRead = this.#received.bind(this);
    this.#onFail = this.#failed.bind(this);
    // A fetch response body (a byte stream) is read through one reused
    // buffer, each chunk handed on as a right-sized copy. Its default reader
    // would allocate a fresh 64 KiB buffer per read (Deno's chunk size) and
    // hand on a small view of it: for 200-byte SSE events that is garbage
    // the collector pays for, and memory a slow client pins. Only on
    // request: a byte source that closes without answering the pending read
    // (`byobRequest.respond(0)`, which fetch bodies do) would never end.
    if (byteReader) {
      try {
        this.#byob = body.getReader({ mode: "byob" });
        this.#scratch = new Uint8Array(BYOB_CHUNK);
      } catch {
        // not a byte stream (Bun's fetch bodies)
      }
    }
    if (!this.#byob) this.#reader = body.getReader();
  }

  pull(
    controller: ReadableStreamDefaultController<Uint8Array>,
  ): Promise<void> {
    this.#controller = controller;
    try {
      const byob = this.#byob;
      const read = byob ? byob.read(this.#scratch!) : this.#reader!.read();
      return read.then(this.#onRead, this.#onFail);
    } catch (e) {
      this.#failed(e);
      return Promise.resolve();
    }
  }

  /** A read came back: hand the chunk on (the observer sees it first). */
  #received(r: ReadableStreamReadResult<Uint8Array>): void {
    let chunk = r.value;
    let done = r.done;
    if (this.#byob) {
      try {
        // The read transferred our buffer into `chunk`: keep it for the
        // next read, hand on a copy of what was filled.
        if (chunk) this.#scratch = new Uint8Array(chunk.buffer as ArrayBuffer);
        done ||= !chunk;
        if (!done) chunk = chunk!.slice();
      } catch (e) {
        return this.#failed(e);
      }
    }
    const controller = this.#controller!;
    if (done) {
      this.#settle("end");
      controller.close();
      return;
    }
    const observer = this.#observer;
    if (
      observer.onChunk !== undefined && !this.#settled &&
      chunk instanceof Uint8Array
    ) {
      try {
        observer.onChunk(chunk);
      } catch {
        // an observer must never break the stream it observes
      }
    }
    controller.enqueue(chunk!);
  }

  /** The source failed: the observer learns it, the reader gets the error. */
  #failed(error: unknown): void {
    this.#settle("error", error);
    this.#controller!.error(error);
  }

  cancel(reason: unknown): Promise<void> {
    this.#settle("cancel", reason);
    return (this.#byob ?? this.#reader!).cancel(reason);
  }

  /** Tells the observer how the body ended: once, whichever came first. */
  #settle(how: "end" | "error" | "cancel", value?: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    const observer = this.#observer;
    try {
      if (how === "end") observer.onEnd?.();
      else if (how === "error") observer.onError?.(value);
      else observer.onCancel?.(value);
    } catch {
      // an observer must never break the stream it observes
    }
  }
}

/**
 * Wraps `body` so `observer` sees it pass. Exactly one of `onEnd`, `onError`,
 * `onCancel` is called, once.
 *
 * @param body The stream to observe.
 * @param observer The callbacks, called as its methods.
 * @param options See {@link ObserveOptions}.
 * @returns A stream with the same chunks.
 */
export function observeBody(
  body: ReadableStream<Uint8Array>,
  observer: BodyObserver,
  options?: ObserveOptions,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    new ObservingSource(body, observer, options?.byteReader === true),
    NO_BUFFER,
  );
}
