/**
 * A real OTLP/HTTP trace receiver for tests.
 *
 * The protobuf schema is declared here by hand (protobufjs reflection over a
 * JSON descriptor written from the opentelemetry-proto field numbers), so the
 * decoding is independent of the OpenTelemetry JS exporter's own serializer.
 *
 * Runs on Deno (`Deno.serve`), Bun (`Bun.serve`) and falls back to `node:http`.
 *
 * @module
 */
import protobuf from "protobufjs";
import { serveLoopback } from "./servers.ts";

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/**
 * A decoded OTLP `AnyValue`. Integers are `number` when they fit in a safe
 * integer, otherwise `bigint`; bytes are a plain `Uint8Array`; an `AnyValue`
 * with no value set decodes to `null`.
 */
export type AttrValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | AttrValue[]
  | { [k: string]: AttrValue }
  | Uint8Array;

/**
 * A decoded `AnyValue` together with the wire type it was sent as (this is how
 * tests tell an int `3` from a double `3`). `"empty"` means no value was set.
 */
export interface TypedAttr {
  type:
    | "string"
    | "bool"
    | "int"
    | "double"
    | "array"
    | "kvlist"
    | "bytes"
    | "empty";
  value: AttrValue;
}

/** One span as decoded from an OTLP ExportTraceServiceRequest. */
export interface ReceivedSpan {
  name: string;
  /** 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number;
  /** lowercase hex */
  traceId: string;
  /** lowercase hex */
  spanId: string;
  /** lowercase hex, `undefined` when the field is empty */
  parentSpanId: string | undefined;
  traceState: string;
  flags: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, AttrValue>;
  attributeTypes: Record<string, TypedAttr["type"]>;
  events: {
    name: string;
    timeUnixNano: bigint;
    attributes: Record<string, AttrValue>;
  }[];
  links: {
    traceId: string;
    spanId: string;
    traceState: string;
    attributes: Record<string, AttrValue>;
  }[];
  /** code: 0 unset, 1 ok, 2 error */
  status: { code: number; message: string };
  resource: Record<string, AttrValue>;
  scope: { name: string; version: string };
}

/** What the fault-injection hook returns to override the normal response. */
export interface InjectedResponse {
  status: number;
  headers?: Record<string, string>;
  /** Delay before responding; cancelled (answered immediately) by `close()`. */
  delayMs?: number;
}

/** Options for {@link startOtlpReceiver}. */
export interface ReceiverOptions {
  /**
   * Fault injection. Called once per request to `/v1/traces` that passed the
   * content-type and decode checks; `index` is the 0-based position of the
   * request in `requests()`. Return `undefined` for the normal 200 response
   * (an empty ExportTraceServiceResponse). Decoded spans are only added to
   * `spans()` when the final status is 2xx, at the moment the response is sent.
   */
  respond?: (
    req: { index: number; headers: Headers; bodyBytes: number },
  ) => InjectedResponse | undefined;
  /** Listen on this port (e.g. a collector coming back up); 0 picks a free one. */
  port?: number;
}

/** One HTTP request seen by the receiver, in arrival order. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Headers;
  contentType: string | null;
  /** Size of the (decompressed) request body. */
  bodyBytes: number;
  /** Status the receiver answered with (0 while a delayed response is pending). */
  status: number;
  /** Number of spans decoded from the body (0 when not decoded). */
  spanCount: number;
  /** Decode / protocol error message (400, 404, 405, 415 responses). */
  error?: string;
}

/** A running receiver; see {@link startOtlpReceiver}. */
export interface OtlpReceiver {
  /** Full traces URL, `http://127.0.0.1:PORT/v1/traces`. */
  url: string;
  /** Base URL `http://127.0.0.1:PORT`, for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  endpoint: string;
  port: number;
  /** All accepted decoded spans so far, in arrival order (a copy). */
  spans(): ReceivedSpan[];
  /** All requests so far, in arrival order (a copy). */
  requests(): ReceivedRequest[];
  /**
   * Polls every 20ms until `predicate(spans())` is true and resolves with the
   * spans; rejects after `timeoutMs` (default 10000) with an Error listing the
   * span names received so far.
   */
  waitForSpans(
    predicate: (spans: ReceivedSpan[]) => boolean,
    opts?: { timeoutMs?: number; message?: string },
  ): Promise<ReceivedSpan[]>;
  /** Waits (bounded, default 10000ms) until at least `n` spans were received. */
  waitForSpanCount(n: number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Forgets all spans and requests (the request index restarts at 0). */
  clear(): void;
  /** Cancels pending delays and stops the server. Idempotent. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Hand-written OTLP trace schema (field numbers from opentelemetry-proto)
// ---------------------------------------------------------------------------

const rep = (type: string, id: number) => ({ rule: "repeated", type, id });
const one = (type: string, id: number) => ({ type, id });

/** The hand-declared OTLP messages (shared with `otlp_metrics.ts`). */
export const SCHEMA = {
  nested: {
    otlp: {
      nested: {
        ExportTraceServiceRequest: {
          fields: { resourceSpans: rep("ResourceSpans", 1) },
        },
        ExportTraceServiceResponse: {
          fields: { partialSuccess: one("ExportTracePartialSuccess", 1) },
        },
        ExportTracePartialSuccess: {
          fields: {
            rejectedSpans: one("int64", 1),
            errorMessage: one("string", 2),
          },
        },
        ResourceSpans: {
          fields: {
            resource: one("Resource", 1),
            scopeSpans: rep("ScopeSpans", 2),
            schemaUrl: one("string", 3),
          },
        },
        Resource: {
          fields: {
            attributes: rep("KeyValue", 1),
            droppedAttributesCount: one("uint32", 2),
          },
        },
        ScopeSpans: {
          fields: {
            scope: one("InstrumentationScope", 1),
            spans: rep("Span", 2),
            schemaUrl: one("string", 3),
          },
        },
        InstrumentationScope: {
          fields: {
            name: one("string", 1),
            version: one("string", 2),
            attributes: rep("KeyValue", 3),
          },
        },
        Span: {
          fields: {
            traceId: one("bytes", 1),
            spanId: one("bytes", 2),
            traceState: one("string", 3),
            parentSpanId: one("bytes", 4),
            flags: one("fixed32", 16),
            name: one("string", 5),
            kind: one("SpanKind", 6),
            startTimeUnixNano: one("fixed64", 7),
            endTimeUnixNano: one("fixed64", 8),
            attributes: rep("KeyValue", 9),
            droppedAttributesCount: one("uint32", 10),
            events: rep("Event", 11),
            droppedEventsCount: one("uint32", 12),
            links: rep("Link", 13),
            droppedLinksCount: one("uint32", 14),
            status: one("Status", 15),
          },
          nested: {
            SpanKind: {
              values: {
                SPAN_KIND_UNSPECIFIED: 0,
                SPAN_KIND_INTERNAL: 1,
                SPAN_KIND_SERVER: 2,
                SPAN_KIND_CLIENT: 3,
                SPAN_KIND_PRODUCER: 4,
                SPAN_KIND_CONSUMER: 5,
              },
            },
            Event: {
              fields: {
                timeUnixNano: one("fixed64", 1),
                name: one("string", 2),
                attributes: rep("KeyValue", 3),
                droppedAttributesCount: one("uint32", 4),
              },
            },
            Link: {
              fields: {
                traceId: one("bytes", 1),
                spanId: one("bytes", 2),
                traceState: one("string", 3),
                attributes: rep("KeyValue", 4),
                droppedAttributesCount: one("uint32", 5),
                flags: one("fixed32", 6),
              },
            },
          },
        },
        Status: {
          fields: {
            message: one("string", 2),
            code: one("StatusCode", 3),
          },
          nested: {
            StatusCode: {
              values: {
                STATUS_CODE_UNSET: 0,
                STATUS_CODE_OK: 1,
                STATUS_CODE_ERROR: 2,
              },
            },
          },
        },
        KeyValue: {
          fields: { key: one("string", 1), value: one("AnyValue", 2) },
        },
        AnyValue: {
          oneofs: {
            value: {
              oneof: [
                "stringValue",
                "boolValue",
                "intValue",
                "doubleValue",
                "arrayValue",
                "kvlistValue",
                "bytesValue",
              ],
            },
          },
          fields: {
            stringValue: one("string", 1),
            boolValue: one("bool", 2),
            intValue: one("int64", 3),
            doubleValue: one("double", 4),
            arrayValue: one("ArrayValue", 5),
            kvlistValue: one("KeyValueList", 6),
            bytesValue: one("bytes", 7),
          },
        },
        ArrayValue: { fields: { values: rep("AnyValue", 1) } },
        KeyValueList: { fields: { values: rep("KeyValue", 1) } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(SCHEMA as protobuf.INamespace);
const RequestType = root.lookupType("otlp.ExportTraceServiceRequest");
const ResponseType = root.lookupType("otlp.ExportTraceServiceResponse");
const EMPTY_RESPONSE: Uint8Array = ResponseType.encode(ResponseType.create({}))
  .finish();

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

// Shapes of the decoded protobufjs messages (only what we read).
type LongLike = { low: number; high: number; unsigned?: boolean };
/** An int64 as protobufjs decodes it. */
export type Int64 = number | string | LongLike;
interface PbAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: Int64;
  doubleValue?: number;
  arrayValue?: { values?: PbAnyValue[] };
  kvlistValue?: { values?: PbKeyValue[] };
  bytesValue?: Uint8Array;
}
/** A decoded `KeyValue`. */
export interface PbKeyValue {
  key?: string;
  value?: PbAnyValue;
}
interface PbSpan {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  traceState?: string;
  parentSpanId?: Uint8Array;
  flags?: number;
  name?: string;
  kind?: number;
  startTimeUnixNano?: Int64;
  endTimeUnixNano?: Int64;
  attributes?: PbKeyValue[];
  events?: { timeUnixNano?: Int64; name?: string; attributes?: PbKeyValue[] }[];
  links?: {
    traceId?: Uint8Array;
    spanId?: Uint8Array;
    traceState?: string;
    attributes?: PbKeyValue[];
  }[];
  status?: { message?: string; code?: number };
}
interface PbRequest {
  resourceSpans?: {
    resource?: { attributes?: PbKeyValue[] };
    scopeSpans?: {
      scope?: { name?: string; version?: string };
      spans?: PbSpan[];
    }[];
  }[];
}

const has = (o: object, k: string) =>
  Object.prototype.hasOwnProperty.call(o, k);

/** An int64/fixed64 as a bigint. */
export function toBigInt(v: Int64 | undefined, signed: boolean): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === "number") return BigInt(v);
  if (typeof v === "string") return BigInt(v);
  const u = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return signed ? BigInt.asIntN(64, u) : u;
}

function hex(bytes: Uint8Array | undefined): string {
  let s = "";
  if (!bytes) return s;
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function decodeAny(v: PbAnyValue | undefined): TypedAttr {
  if (!v) return { type: "empty", value: null };
  if (has(v, "stringValue")) return { type: "string", value: v.stringValue! };
  if (has(v, "boolValue")) return { type: "bool", value: v.boolValue! };
  if (has(v, "intValue")) {
    const b = toBigInt(v.intValue, true);
    const safe = b >= BigInt(Number.MIN_SAFE_INTEGER) &&
      b <= BigInt(Number.MAX_SAFE_INTEGER);
    return { type: "int", value: safe ? Number(b) : b };
  }
  if (has(v, "doubleValue")) return { type: "double", value: v.doubleValue! };
  if (has(v, "arrayValue")) {
    return {
      type: "array",
      value: (v.arrayValue?.values ?? []).map((x) => decodeAny(x).value),
    };
  }
  if (has(v, "kvlistValue")) {
    return { type: "kvlist", value: decodeAttrs(v.kvlistValue?.values).values };
  }
  if (has(v, "bytesValue")) {
    // Copy into a plain Uint8Array (protobufjs may hand out a Buffer view).
    return { type: "bytes", value: Uint8Array.from(v.bytesValue!) };
  }
  return { type: "empty", value: null };
}

/** Decoded `KeyValue`s as values and their wire types. */
export function decodeAttrs(kvs: PbKeyValue[] | undefined): {
  values: Record<string, AttrValue>;
  types: Record<string, TypedAttr["type"]>;
} {
  const values: Record<string, AttrValue> = {};
  const types: Record<string, TypedAttr["type"]> = {};
  for (const kv of kvs ?? []) {
    const key = kv.key ?? "";
    const t = decodeAny(kv.value);
    values[key] = t.value;
    types[key] = t.type;
  }
  return { values, types };
}

/**
 * Decodes a binary OTLP ExportTraceServiceRequest into flat spans (each span
 * carries its resource attributes and scope). Throws on malformed protobuf.
 */
export function decodeExportTraceRequest(bytes: Uint8Array): ReceivedSpan[] {
  const msg = RequestType.decode(bytes) as unknown as PbRequest;
  const out: ReceivedSpan[] = [];
  for (const rs of msg.resourceSpans ?? []) {
    const resource = decodeAttrs(rs.resource?.attributes).values;
    for (const ss of rs.scopeSpans ?? []) {
      const scope = {
        name: ss.scope?.name ?? "",
        version: ss.scope?.version ?? "",
      };
      for (const s of ss.spans ?? []) {
        const attrs = decodeAttrs(s.attributes);
        const parent = hex(s.parentSpanId);
        out.push({
          name: s.name ?? "",
          kind: s.kind ?? 0,
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: parent === "" ? undefined : parent,
          traceState: s.traceState ?? "",
          flags: (s.flags ?? 0) >>> 0,
          startTimeUnixNano: toBigInt(s.startTimeUnixNano, false),
          endTimeUnixNano: toBigInt(s.endTimeUnixNano, false),
          attributes: attrs.values,
          attributeTypes: attrs.types,
          events: (s.events ?? []).map((e) => ({
            name: e.name ?? "",
            timeUnixNano: toBigInt(e.timeUnixNano, false),
            attributes: decodeAttrs(e.attributes).values,
          })),
          links: (s.links ?? []).map((l) => ({
            traceId: hex(l.traceId),
            spanId: hex(l.spanId),
            traceState: l.traceState ?? "",
            attributes: decodeAttrs(l.attributes).values,
          })),
          status: {
            code: s.status?.code ?? 0,
            message: s.status?.message ?? "",
          },
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Test helpers
// ---------------------------------------------------------------------------

/** All spans with exactly this name, in the given order. */
export function spansByName(
  spans: ReceivedSpan[],
  name: string,
): ReceivedSpan[] {
  return spans.filter((s) => s.name === name);
}

const KIND_NAMES = [
  "unspecified",
  "internal",
  "server",
  "client",
  "producer",
  "consumer",
];

/**
 * Renders spans as an indented tree of `name (kind)` lines (two spaces per
 * level, children ordered by start time), for assertion messages. Spans whose
 * parent is not among `spans` are shown as roots with an `[orphan]` marker.
 */
export function spanTree(spans: ReceivedSpan[]): string {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, ReceivedSpan[]>();
  const roots: ReceivedSpan[] = [];
  for (const s of spans) {
    if (s.parentSpanId !== undefined && ids.has(s.parentSpanId)) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else {
      roots.push(s);
    }
  }
  const byStart = (a: ReceivedSpan, b: ReceivedSpan) =>
    a.startTimeUnixNano < b.startTimeUnixNano
      ? -1
      : a.startTimeUnixNano > b.startTimeUnixNano
      ? 1
      : 0;
  const lines: string[] = [];
  const seen = new Set<ReceivedSpan>();
  const walk = (s: ReceivedSpan, depth: number) => {
    if (seen.has(s)) return;
    seen.add(s);
    const orphan = s.parentSpanId !== undefined && !ids.has(s.parentSpanId)
      ? " [orphan]"
      : "";
    const kind = KIND_NAMES[s.kind] ?? String(s.kind);
    lines.push(`${"  ".repeat(depth)}${s.name} (${kind})${orphan}`);
    for (const c of [...(children.get(s.spanId) ?? [])].sort(byStart)) {
      walk(c, depth + 1);
    }
  };
  for (const r of [...roots].sort(byStart)) walk(r, 0);
  // Cycles (malformed input) are not reachable from a root; list them anyway.
  for (const s of spans) walk(s, 0);
  return lines.join("\n");
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

/** A fetch-style handler. */
export type Handler = (req: Request) => Promise<Response>;

/** The request body, gzip/deflate decoded. */
export async function readBody(req: Request): Promise<Uint8Array> {
  const encoding = (req.headers.get("content-encoding") ?? "").toLowerCase()
    .trim();
  if (encoding === "gzip" || encoding === "deflate") {
    if (!req.body) return new Uint8Array(0);
    const stream = req.body.pipeThrough(new DecompressionStream(encoding));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  if (encoding !== "" && encoding !== "identity") {
    throw new Error(`unsupported content-encoding: ${encoding}`);
  }
  return new Uint8Array(await req.arrayBuffer());
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Starts an OTLP/HTTP (protobuf) trace receiver on 127.0.0.1 with a random
 * port. `POST /v1/traces` with `application/x-protobuf` is decoded (gzip and
 * deflate content-encodings are accepted); other content types get 415,
 * undecodable bodies 400, other paths 404 and other methods 405. Always
 * `close()` it (e.g. in a `finally`).
 */
export async function startOtlpReceiver(
  options: ReceiverOptions = {},
): Promise<OtlpReceiver> {
  let spans: ReceivedSpan[] = [];
  let requests: ReceivedRequest[] = [];
  let closed = false;
  let closing: Promise<void> | undefined;
  const pendingDelays = new Set<{ timer: unknown; resolve: () => void }>();

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      if (closed || ms <= 0) return resolve();
      const entry = {
        timer: undefined as unknown,
        resolve: () => {
          clearTimeout(entry.timer as number);
          pendingDelays.delete(entry);
          resolve();
        },
      };
      entry.timer = setTimeout(entry.resolve, ms);
      pendingDelays.add(entry);
    });

  const handler: Handler = async (req) => {
    const url = new URL(req.url);
    const record: ReceivedRequest = {
      method: req.method,
      path: url.pathname,
      headers: new Headers(req.headers),
      contentType: req.headers.get("content-type"),
      bodyBytes: 0,
      status: 0,
      spanCount: 0,
    };
    const index = requests.length;
    requests.push(record);
    const finish = (status: number, error?: string, extra?: HeadersInit) => {
      record.status = status;
      if (error !== undefined) record.error = error;
      return new Response(error ?? null, {
        status,
        headers: { "content-type": "text/plain", ...(extra ?? {}) },
      });
    };

    if (url.pathname !== "/v1/traces") {
      await req.body?.cancel();
      return finish(404, `not found: ${url.pathname}`);
    }
    if (req.method !== "POST") {
      await req.body?.cancel();
      return finish(405, `method not allowed: ${req.method}`, {
        allow: "POST",
      });
    }
    let body: Uint8Array;
    try {
      body = await readBody(req);
    } catch (e) {
      return finish(400, `cannot read body: ${(e as Error).message}`);
    }
    record.bodyBytes = body.length;
    const mediaType = (record.contentType ?? "").split(";")[0].trim()
      .toLowerCase();
    if (mediaType !== "application/x-protobuf") {
      return finish(
        415,
        `unsupported content-type: ${record.contentType ?? "(none)"}`,
      );
    }
    let decoded: ReceivedSpan[];
    try {
      decoded = decodeExportTraceRequest(body);
    } catch (e) {
      return finish(400, `decode error: ${(e as Error).message}`);
    }
    record.spanCount = decoded.length;

    const injected = options.respond?.({
      index,
      headers: record.headers,
      bodyBytes: body.length,
    });
    if (injected?.delayMs) await delay(injected.delayMs);
    const status = injected?.status ?? 200;
    if (status >= 200 && status < 300) {
      spans.push(...decoded);
      record.status = status;
      return new Response(EMPTY_RESPONSE.slice(), {
        status,
        headers: {
          "content-type": "application/x-protobuf",
          ...(injected?.headers ?? {}),
        },
      });
    }
    record.status = status;
    return new Response(null, { status, headers: injected?.headers ?? {} });
  };

  const server = await serveLoopback(handler, { port: options.port ?? 0 });
  const endpoint = `http://127.0.0.1:${server.port}`;

  const waitForSpans: OtlpReceiver["waitForSpans"] = async (
    predicate,
    opts = {},
  ) => {
    const timeoutMs = opts.timeoutMs ?? 10000;
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const current = spans.slice();
      if (predicate(current)) return current;
      if (Date.now() >= deadline) {
        const names = spans.map((s) => s.name);
        throw new Error(
          `${
            opts.message ?? "waitForSpans"
          }: timed out after ${timeoutMs}ms; ` +
            `received ${names.length} span(s): ${JSON.stringify(names)}; ` +
            `${requests.length} request(s) with statuses ` +
            JSON.stringify(requests.map((r) => r.status)),
        );
      }
      await sleep(Math.min(20, Math.max(0, deadline - Date.now())));
    }
  };

  return {
    url: `${endpoint}/v1/traces`,
    endpoint,
    port: server.port,
    spans: () => spans.slice(),
    requests: () => requests.slice(),
    waitForSpans,
    waitForSpanCount: (n, timeoutMs) =>
      waitForSpans((s) => s.length >= n, {
        timeoutMs,
        message: `waitForSpanCount(${n})`,
      }),
    clear: () => {
      spans = [];
      requests = [];
    },
    close: () => {
      if (!closing) {
        closed = true;
        for (const d of [...pendingDelays]) d.resolve();
        closing = server.stop();
      }
      return closing;
    },
  };
}
