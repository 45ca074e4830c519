/**
 * The observing pass-through stream: every chunk of a body passes through
 * unchanged (no copy, no buffering) while an observer sees it, learns when
 * the body ends or fails, and when the reader cancels; the cancel is
 * forwarded to the source so an upstream generation stops.
 *
 * @module
 */

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
 * @returns A stream with the same chunks.
 */
export function observeBody(
  body: ReadableStream<Uint8Array>,
  observer: BodyObserver,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
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
        r = await reader.read();
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
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
