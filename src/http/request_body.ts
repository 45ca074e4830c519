/**
 * The one bounded reader of request bodies, for the GenAI attributes of the
 * served request (`traceHandler`) and of an upstream `Request` (`tracedFetch`).
 * It reads a clone, so the body stays the handler's and the upstream's, and
 * gives up (cancelling the clone) past `maxBytes`: a body without
 * `content-length` is never buffered whole.
 *
 * @module
 */
import { concatBytes } from "../core/bytes.ts";
import {
  type GenAIOperation,
  type GenAIRequestInfo,
  parseRequestBody,
} from "../genai/openai_request.ts";

/**
 * Reads `stream` to its end, or to `maxBytes` (then cancels it). Never
 * rejects.
 *
 * @returns The bytes, or `undefined` past the limit or on a read error.
 */
export async function readBounded(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = stream.getReader();
  } catch {
    return undefined;
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
      parts.push(value);
    }
  } catch {
    return undefined;
  }
  return concatBytes(parts, total);
}

/**
 * The GenAI request attributes of a JSON request body, read through a clone
 * within `maxBytes`. `undefined` at once when there is nothing to read: no
 * body, a body already used, a non-JSON content type, or a `content-length`
 * over the limit.
 *
 * @param req The request (served, or about to be sent upstream).
 * @param operation The GenAI operation its path names.
 * @param maxBytes The largest body read.
 */
export function readRequestInfo(
  req: Request,
  operation: GenAIOperation,
  maxBytes: number,
): Promise<GenAIRequestInfo | undefined> | undefined {
  if (!req.body || req.bodyUsed) return undefined;
  const ct = req.headers.get("content-type");
  if (ct && !ct.includes("json")) return undefined;
  const cl = req.headers.get("content-length");
  if (cl !== null && Number(cl) > maxBytes) return undefined;
  let clone: Request;
  try {
    clone = req.clone();
  } catch {
    return undefined;
  }
  return readBounded(clone.body!, maxBytes).then((bytes) =>
    bytes && parseRequestBody(bytes, operation)
  );
}

/**
 * The GenAI request attributes of a body given as `RequestInit.body`, when it
 * is bytes or text within `maxBytes` (streams and forms are not read).
 */
export function initBodyInfo(
  body: unknown,
  operation: GenAIOperation,
  maxBytes: number,
): GenAIRequestInfo | undefined {
  let raw: Uint8Array | string | undefined;
  if (typeof body === "string") {
    raw = body.length <= maxBytes ? body : undefined;
  } else if (body instanceof Uint8Array) {
    raw = body.byteLength <= maxBytes ? body : undefined;
  } else if (body instanceof ArrayBuffer) {
    raw = body.byteLength <= maxBytes ? new Uint8Array(body) : undefined;
  }
  return raw === undefined ? undefined : parseRequestBody(raw, operation);
}
