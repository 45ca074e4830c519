/**
 * The GenAI attributes of an upstream request's body (`tracedFetch`; the
 * served request's are read by `request_capture.ts` as the handler reads
 * them). A `Request` is read through a clone with the bounded reader, so the
 * body stays the upstream's; a `RequestInit.body` is read when it is bytes or
 * text.
 *
 * @module
 */
import { readBounded } from "./body_reader.ts";
import type { GenAIRequestInfo } from "../genai/openai_request.ts";
import { readRequestBytes, type WireCall } from "../genai/wire.ts";

/**
 * The GenAI request attributes of a JSON request body, read through a clone
 * within `maxBytes`. `undefined` at once when there is nothing to read: no
 * body, a body already used, a non-JSON content type, or a `content-length`
 * over the limit.
 *
 * @param req The request (served, or about to be sent upstream).
 * @param call The wire API and GenAI operation its path names.
 * @param maxBytes The largest body read.
 */
export function readRequestInfo(
  req: Request,
  call: WireCall,
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
  return readBounded(clone.body!, maxBytes).then(({ bytes }) =>
    bytes && readRequestBytes(call, bytes)
  );
}

/**
 * The GenAI request attributes of a body given as `RequestInit.body`, when it
 * is bytes or text within `maxBytes` (streams and forms are not read).
 */
export function initBodyInfo(
  body: unknown,
  call: WireCall,
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
  return raw === undefined ? undefined : readRequestBytes(call, raw);
}

/** {@link infoAtHand}'s answer when the body is not at hand yet. */
export const NOT_AT_HAND: unique symbol = Symbol("not at hand");

/**
 * Microtask turns a body already in memory may take to be read and parsed
 * (a string or bytes `Request` body takes 5 or 6 in Deno and Bun): a
 * generous bound that is still no timer and no I/O, so waiting costs an
 * upload that is still streaming nothing it would notice.
 */
const AT_HAND_TURNS = 64;

/**
 * Waits for a `Request`'s attributes (`readRequestInfo`'s read) only when
 * its body is at hand, so the span can start with them (samplers see the
 * model): with a declared `content-length` within the limit, the whole
 * bounded read; otherwise at most {@link AT_HAND_TURNS} microtask turns,
 * enough for a body in memory, never for an upload still streaming (then
 * {@link NOT_AT_HAND}, and the read goes on on the side).
 *
 * @param pending The read under way.
 * @param req The request being read.
 * @param maxBytes The largest body read.
 */
export async function infoAtHand(
  pending: Promise<GenAIRequestInfo | undefined>,
  req: Request,
  maxBytes: number,
): Promise<GenAIRequestInfo | undefined | typeof NOT_AT_HAND> {
  const cl = req.headers.get("content-length");
  if (cl !== null && Number(cl) <= maxBytes) return await pending;
  let out: GenAIRequestInfo | undefined | typeof NOT_AT_HAND = NOT_AT_HAND;
  let settled = false;
  pending.then((info) => {
    settled = true;
    out = info;
  }, () => {
    settled = true;
    out = undefined;
  });
  for (let i = 0; i < AT_HAND_TURNS && !settled; i++) await undefined;
  return out;
}
