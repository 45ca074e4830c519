/**
 * The one bounded reader of a body llmtrace looks into: a request's clone
 * (for its GenAI attributes) or a JSON response's clone (for usage). It gives
 * up, cancelling its stream, past `maxBytes`, so a body without
 * `content-length` is never buffered whole, and it never rejects.
 *
 * @module
 */
import { concatBytes } from "../core/bytes.ts";

/** What {@link readBounded} read. */
export interface BoundedRead {
  /** The bytes, when the body ended within the limit. */
  bytes?: Uint8Array;
  /** Bytes read (up to the point it stopped). */
  size: number;
  /** The stream failed. */
  error?: unknown;
}

/**
 * Reads `stream` to its end, or to `maxBytes` (then cancels it).
 *
 * @param stream The body (a clone: the original stays its owner's).
 * @param maxBytes The most bytes kept.
 */
export async function readBounded(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<BoundedRead> {
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = stream.getReader();
  } catch (error) {
    return { size: 0, error };
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        return { size };
      }
      parts.push(value);
    }
  } catch (error) {
    return { size, error };
  }
  return { bytes: concatBytes(parts, size), size };
}
