/**
 * The served request's GenAI attributes, taken from the body as the handler
 * reads it: `text()`, `json()`, `arrayBuffer()`, `bytes()` and `blob()` are
 * shadowed on the request itself to see their result, so the body is read
 * once, by the handler (no clone, no tee, no second read). A handler that
 * reads `req.body` directly gets a bounded clone read beside it, taken when
 * it first touches `body`; one that never reads it gets a bounded read of
 * the unread body once it has answered. The `Request` stays the very object
 * the runtime gave (`Deno.upgradeWebSocket`, Bun's `server.requestIP` keep
 * working); only own properties are added.
 *
 * @module
 */
import { type BoundedRead, readBounded } from "./body_reader.ts";
import type { GenAIRequestInfo } from "../genai/openai_request.ts";
import { readRequestBytes, type WireCall } from "../genai/wire.ts";

type Info = GenAIRequestInfo | undefined;

/** A promise callback: a failed read gives no attributes. */
function none(): undefined {
  return undefined;
}

/**
 * What a capture knows, on the request under a private symbol. Its parse
 * methods are what the handler's read is chained to (bound then, only for
 * the first read): no closures per request.
 */
class Capture {
  /** The request's wire API and operation, chosen once. */
  readonly call: WireCall;
  readonly maxBytes: number;
  /** What the handler's read gave, once it read. */
  result?: Promise<Info>;

  constructor(call: WireCall, maxBytes: number) {
    this.call = call;
    this.maxBytes = maxBytes;
  }

  /** Keeps the first read's attributes, from `parse` once `read` settles. */
  see<T>(
    read: Promise<T>,
    parse: (this: Capture, v: T) => Info | Promise<Info>,
  ): Promise<T> {
    this.result ??= read.then(parse.bind(this), none);
    return read;
  }

  text(t: string): Info {
    return t.length <= this.maxBytes
      ? readRequestBytes(this.call, t)
      : undefined;
  }

  /** Already parsed: read the object, no second JSON.parse. */
  json(v: unknown): Info {
    return this.call.readRequest(v);
  }

  arrayBuffer(b: ArrayBuffer): Info {
    return b.byteLength <= this.maxBytes
      ? readRequestBytes(this.call, new Uint8Array(b))
      : undefined;
  }

  bytes(b: Uint8Array): Info {
    return b.byteLength <= this.maxBytes
      ? readRequestBytes(this.call, b)
      : undefined;
  }

  blob(b: Blob): Promise<Info> | undefined {
    return b.size <= this.maxBytes
      ? b.arrayBuffer().then(this.arrayBuffer.bind(this))
      : undefined;
  }

  /** A bounded read of the body (a clone, or the body left unread). */
  bounded(r: BoundedRead): Info {
    return r.bytes && readRequestBytes(this.call, r.bytes);
  }
}

const CAPTURE = Symbol("llmtrace.requestCapture");
type Captured = Request & { [CAPTURE]?: Capture };

// Read on first use, not at import: in Deno, touching `Request` loads the
// fetch extension (milliseconds of an untraced program's start-up).
let proto: Request;
let bodyGetter: (() => ReadableStream<Uint8Array> | null) | undefined;
let descriptors: PropertyDescriptorMap | undefined;

// Shared methods (no closure per request): `this` is the request.
const methods: Record<string, (this: Captured) => Promise<unknown>> = {
  text() {
    const cap = this[CAPTURE]!;
    return cap.see(proto.text.call(this), cap.text);
  },
  json() {
    const cap = this[CAPTURE]!;
    return cap.see(proto.json.call(this), cap.json);
  },
  arrayBuffer() {
    const cap = this[CAPTURE]!;
    return cap.see(proto.arrayBuffer.call(this), cap.arrayBuffer);
  },
  blob() {
    const cap = this[CAPTURE]!;
    return cap.see(proto.blob.call(this), cap.blob);
  },
};
/** `bytes()`, where the runtime's `Request` has it. */
function bytes(this: Captured): Promise<Uint8Array> {
  const cap = this[CAPTURE]!;
  return cap.see(
    (proto as unknown as { bytes(): Promise<Uint8Array> }).bytes.call(this),
    cap.bytes,
  );
}

/** The `body` getter: a direct reader gets a bounded clone read beside it. */
function body(this: Captured): ReadableStream<Uint8Array> | null {
  const cap = this[CAPTURE];
  if (cap && cap.result === undefined && !this.bodyUsed) {
    try {
      const clone = proto.clone.call(this);
      cap.result = clone.body
        ? readBounded(clone.body, cap.maxBytes).then(cap.bounded.bind(cap))
        : Promise.resolve(undefined);
    } catch {
      cap.result = Promise.resolve(undefined);
    }
  }
  return bodyGetter!.call(this);
}

/** The own properties a captured request gets (built once). */
function captureDescriptors(): PropertyDescriptorMap {
  if (descriptors) return descriptors;
  proto = Request.prototype;
  bodyGetter = Object.getOwnPropertyDescriptor(proto, "body")?.get;
  const all: PropertyDescriptorMap = {};
  for (const [name, value] of Object.entries(methods)) {
    all[name] = { value, configurable: true, writable: true };
  }
  if (typeof (proto as { bytes?: unknown }).bytes === "function") {
    all.bytes = { value: bytes, configurable: true, writable: true };
  }
  if (bodyGetter) all.body = { get: body, configurable: true };
  return descriptors = all;
}

/**
 * Starts capturing the GenAI attributes of a served POST's JSON body, or
 * returns `undefined` when there is nothing to capture (a non-JSON content
 * type, a declared length of 0 or over the limit, a body already used).
 *
 * @param req The served request (the object the runtime passed).
 * @param call The wire API and GenAI operation of its path.
 * @param maxBytes The largest body looked into.
 * @returns Whether the body is being captured: then, once the handler has
 * answered, {@link capturedRequestInfo} gives its attributes.
 */
export function captureRequestInfo(
  req: Request,
  call: WireCall,
  maxBytes: number,
): boolean {
  if (req.bodyUsed) return false;
  const ct = req.headers.get("content-type");
  if (ct && !ct.includes("json")) return false;
  const cl = req.headers.get("content-length");
  if (cl !== null && (Number(cl) > maxBytes || cl === "0")) return false;
  const cap = new Capture(call, maxBytes);
  try {
    const own = captureDescriptors();
    (req as Captured)[CAPTURE] = cap;
    Object.defineProperties(req, own);
  } catch {
    return false; // a frozen request: no attributes, the request untouched
  }
  return true;
}

/**
 * The GenAI attributes of a request whose capture started, to ask once the
 * handler has answered: from the handler's read, or from a bounded read of
 * the unread body. Never rejects.
 *
 * @param req A request {@link captureRequestInfo} returned `true` for.
 */
export function capturedRequestInfo(
  req: Request,
): Promise<GenAIRequestInfo | undefined> {
  const cap = (req as Captured)[CAPTURE];
  if (!cap) return Promise.resolve(undefined);
  if (cap.result) return cap.result;
  // The handler never read its body: read it now (bounded), if the
  // runtime still has it (Bun drops an unread body with the response).
  try {
    if (req.bodyUsed || !bodyGetter) return Promise.resolve(undefined);
    const stream = bodyGetter.call(req);
    return stream
      ? readBounded(stream, cap.maxBytes).then(cap.bounded.bind(cap))
      : Promise.resolve(undefined);
  } catch {
    return Promise.resolve(undefined);
  }
}
