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

function safely(fn: (() => void) | undefined): void {
  if (!fn) return;
  try {
    fn();
  } catch {
    // an observer must never break the stream it observes
  }
}

/**
 * Wraps `body` so `observer` sees it pass. Exactly one of `onEnd`, `onError`,
 * `onCancel` is called, once.
 *
 * @param body The stream to observe.
 * @param observer The callbacks.
 * @param options See {@link ObserveOptions}.
 * @returns A stream with the same chunks.
 */
export function observeBody(
  body: ReadableStream<Uint8Array>,
  observer: BodyObserver,
  options?: ObserveOptions,
): ReadableStream<Uint8Array> {
  // A fetch response body (a byte stream) is read through one reused
  // buffer, each chunk handed on as a right-sized copy. Its default reader
  // would allocate a fresh 64 KiB buffer per read (Deno's chunk size) and
  // hand on a small view of it: for 200-byte SSE events that is garbage the
  // collector pays for, and memory a slow client pins. Only on request: a
  // byte source that closes without answering the pending read
  // (`byobRequest.respond(0)`, which fetch bodies do) would never end.
  let byob: ReadableStreamBYOBReader | undefined;
  if (options?.byteReader) {
    try {
      byob = body.getReader({ mode: "byob" });
    } catch {
      byob = undefined; // not a byte stream (Bun's fetch bodies)
    }
  }
  const reader = byob ? undefined : body.getReader();
  let scratch: Uint8Array<ArrayBuffer> | undefined = byob
    ? new Uint8Array(BYOB_CHUNK)
    : undefined;
  const onChunk = observer.onChunk;
  let settled = false;
  const settle = (fn: () => void) => {
    if (settled) return;
    settled = true;
    safely(fn);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        if (byob) {
          const b = await byob.read(scratch!);
          const view = b.value;
          if (view) {
            // The read transferred our buffer into `view`: keep it for the
            // next read, hand on a copy of what was filled.
            scratch = new Uint8Array(view.buffer);
          }
          r = b.done || !view
            ? { done: true, value: undefined }
            : { done: false, value: view.slice() };
        } else r = await reader!.read();
      } catch (e) {
        settle(() => observer.onError?.(e));
        controller.error(e);
        return;
      }
      if (r.done) {
        settle(() => observer.onEnd?.());
        controller.close();
        return;
      }
      const chunk = r.value;
      if (onChunk !== undefined && !settled && chunk instanceof Uint8Array) {
        try {
          onChunk.call(observer, chunk);
        } catch {
          // an observer must never break the stream it observes
        }
      }
      controller.enqueue(chunk);
    },
    cancel(reason) {
      settle(() => observer.onCancel?.(reason));
      return (byob ?? reader!).cancel(reason);
    },
  }, { highWaterMark: 0 });
}
