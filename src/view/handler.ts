/**
 * The viewer's one fetch handler: OTLP/HTTP in (`/v1/traces`, `/v1/metrics`,
 * `/v1/logs`), the page and its JSON API out. Runtime-neutral (web `Request`
 * and `Response` only); serve.ts puts it on a port.
 *
 * @module
 */
import type { Placed } from "./facts.ts";
import {
  type Attributes,
  type AttrValue,
  OtlpDecodeError,
  toHex,
} from "./model.ts";
import { decodeTraceJson } from "./otlp_json.ts";
import { decodeTraceProto } from "./otlp_proto.ts";
import { APP_CSS } from "./page/css.ts";
import { APP_JS } from "./page/app_js.ts";
import { PAGE_HTML } from "./page/html.ts";
import type { TraceStore } from "./store.ts";
import { summarize, TTFT_BOUNDS_MS } from "./summary.ts";

/** Options of {@link viewHandler}. */
export interface HandlerOptions {
  /** Largest request body accepted, in bytes (after gzip); default 16 MiB. */
  maxBodyBytes?: number;
  /**
   * Host names the page and API answer to (a DNS-rebinding guard). Default:
   * the loopback names. `undefined` entries are ignored; `["*"]` allows any.
   */
  allowedHosts?: readonly string[];
}

const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]", "::1"];

// The page loads only its own script and style: markup injected through a
// span name could neither run inline code nor load anything.
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; " +
    "style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; " +
    "form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

class BodyTooLarge extends Error {}

function text(status: number, body: string, extra: HeadersInit = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...extra },
  });
}

function json(value: unknown): Response {
  return new Response(JSON.stringify(value), {
    headers: { "content-type": "application/json", ...PAGE_HEADERS },
  });
}

/** Reads at most `limit` bytes of a (possibly gzipped) body. */
async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length"));
  const encoding = (req.headers.get("content-encoding") ?? "identity")
    .trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip") {
    throw new OtlpDecodeError(
      `content-encoding "${encoding}" is not supported (gzip or identity)`,
    );
  }
  if (declared > limit) throw new BodyTooLarge();
  if (!req.body) return new Uint8Array(0);
  let stream: ReadableStream<Uint8Array> = req.body;
  if (encoding === "gzip") {
    stream = stream.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<
        Uint8Array,
        Uint8Array
      >,
    );
  }
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) throw new BodyTooLarge();
      chunks.push(value);
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    if (e instanceof BodyTooLarge) throw e;
    throw new OtlpDecodeError(
      `the body could not be read${encoding === "gzip" ? " as gzip" : ""}: ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

type Kind = "protobuf" | "json";

function kindOf(req: Request): Kind | undefined {
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim()
    .toLowerCase();
  if (type === "application/x-protobuf" || type === "application/protobuf") {
    return "protobuf";
  }
  if (type === "application/json") return "json";
  return undefined;
}

// An empty Export*ServiceResponse: zero bytes in protobuf, `{}` in JSON.
function accepted(kind: Kind): Response {
  return kind === "protobuf"
    ? new Response(new Uint8Array(0), {
      headers: { "content-type": "application/x-protobuf" },
    })
    : new Response("{}", { headers: { "content-type": "application/json" } });
}

/** A value the page can take as JSON: bigints and odd doubles as text. */
function jsonValue(v: AttrValue): unknown {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (v instanceof Uint8Array) return `0x${toHex(v)}`;
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v !== null && typeof v === "object") return jsonAttrs(v);
  return v;
}

/** Attributes as `[key, value]` pairs (no object keys from the wire). */
function jsonAttrs(a: Attributes): [string, unknown][] {
  return Object.keys(a).map((k) => [k, jsonValue(a[k])]);
}

function traceJson(
  row: unknown,
  placed: readonly Placed[],
  droppedSpans: number,
) {
  let t0 = placed[0].span.startTimeUnixNano;
  for (const p of placed) {
    if (p.span.startTimeUnixNano < t0) t0 = p.span.startTimeUnixNano;
  }
  const rel = (ns: bigint) => Number(ns - t0) / 1e6;
  const spans = placed.map(({ span: s, depth, facts }) => ({
    spanId: s.spanId,
    parentSpanId: s.parentSpanId ?? null,
    depth,
    name: s.name,
    kind: s.kind,
    startMs: rel(s.startTimeUnixNano),
    durationMs: Number(s.endTimeUnixNano - s.startTimeUnixNano) / 1e6,
    status: s.status,
    ...facts,
    attributes: jsonAttrs(s.attributes),
    events: s.events.map((e) => ({
      name: e.name,
      atMs: rel(e.timeUnixNano),
      attributes: jsonAttrs(e.attributes),
    })),
    links: s.links.map((l) => ({
      traceId: l.traceId,
      spanId: l.spanId,
      traceState: l.traceState,
      attributes: jsonAttrs(l.attributes),
    })),
    resource: jsonAttrs(s.resource),
    scope: s.scope,
    traceState: s.traceState,
  }));
  return {
    row,
    startUnixMs: Number(t0 / 1000n) / 1000,
    droppedSpans,
    spans,
  };
}

function hostAllowed(req: Request, allowed: readonly string[]): boolean {
  if (allowed.includes("*")) return true;
  // The Host header as sent; Deno and Bun also build `req.url` from it.
  const host = req.headers.get("host") ?? new URL(req.url).host;
  const name = host.replace(/:\d+$/, "").toLowerCase();
  return allowed.includes(name);
}

/**
 * The viewer's handler over `store`.
 *
 * Errors never escape: a body that is too large gets 413, one that does not
 * decode gets 400 with the reason, and the store is left as it was.
 */
export function viewHandler(
  store: TraceStore,
  options: HandlerOptions = {},
): (req: Request) => Promise<Response> {
  const limit = options.maxBodyBytes ?? 16 * 2 ** 20;
  const hosts = options.allowedHosts ?? LOOPBACK_HOSTS;
  return async (req) => {
    const url = new URL(req.url);
    const path = url.pathname;
    if (path.startsWith("/v1/")) {
      const signal = path.slice(4);
      if (!["traces", "metrics", "logs"].includes(signal)) {
        return text(404, `no OTLP signal "${signal}" (traces, metrics, logs)`);
      }
      if (req.method !== "POST") {
        return text(405, `${path} takes POST`, { allow: "POST" });
      }
      const kind = kindOf(req);
      if (!kind) {
        return text(
          415,
          `content-type "${req.headers.get("content-type")}" is not OTLP ` +
            "(application/x-protobuf or application/json)",
        );
      }
      let body: Uint8Array;
      try {
        body = await readBody(req, limit);
      } catch (e) {
        if (e instanceof BodyTooLarge) {
          return text(413, `the body is over ${limit} bytes`);
        }
        return text(400, (e as Error).message);
      }
      // Metrics and logs are accepted so an exporter sending them keeps
      // quiet; the viewer shows traces only.
      if (signal !== "traces") return accepted(kind);
      try {
        const spans = kind === "protobuf"
          ? decodeTraceProto(body)
          : decodeTraceJson(JSON.parse(new TextDecoder().decode(body)));
        store.add(spans);
      } catch (e) {
        if (e instanceof OtlpDecodeError || e instanceof SyntaxError) {
          return text(400, e.message);
        }
        throw e;
      }
      return accepted(kind);
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return text(405, `${path} takes GET`, { allow: "GET, HEAD" });
    }
    if (!hostAllowed(req, hosts)) {
      return text(
        403,
        `host "${
          req.headers.get("host") ?? new URL(req.url).host
        }" is not allowed (the viewer answers to localhost; bind with --host to widen)`,
      );
    }
    if (path === "/") {
      return new Response(PAGE_HTML, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          ...PAGE_HEADERS,
        },
      });
    }
    if (path === "/app.js") {
      return new Response(APP_JS, {
        headers: {
          "content-type": "text/javascript; charset=utf-8",
          ...PAGE_HEADERS,
        },
      });
    }
    if (path === "/app.css") {
      return new Response(APP_CSS, {
        headers: { "content-type": "text/css; charset=utf-8", ...PAGE_HEADERS },
      });
    }
    if (path === "/api/traces") {
      const since = Number(url.searchParams.get("since") ?? 0);
      const epoch = url.searchParams.get("epoch");
      const changes = store.changes(
        epoch === store.epoch && Number.isFinite(since) ? since : 0,
      );
      return json({
        ...changes,
        maxTraces: store.maxTraces,
        droppedTraces: store.droppedTraces,
      });
    }
    if (path.startsWith("/api/traces/")) {
      const id = path.slice("/api/traces/".length).toLowerCase();
      const t = store.trace(id);
      if (!t) return text(404, `no trace ${id} (it may have been dropped)`);
      return json(traceJson(t.row, t.placed, t.droppedSpans));
    }
    if (path === "/api/summary") {
      return json({
        version: store.version,
        boundsMs: TTFT_BOUNDS_MS,
        models: summarize(store.rows()),
      });
    }
    if (path === "/favicon.ico") return new Response(null, { status: 204 });
    return text(404, `nothing at ${path}`);
  };
}
