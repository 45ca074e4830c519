/**
 * `traceHandler`: one SERVER span per request around a fetch-style handler
 * (`Deno.serve`, `Bun.serve`, `export default { fetch }`), covering the whole
 * response body, with HTTP and GenAI attributes.
 *
 * @module
 */
import type { Span } from "@opentelemetry/api";
import type { Attributes, Context, Link, Tracer } from "../core/types.ts";
import {
  _api,
  KIND,
  loadOtelApi,
  type OtelApi,
  STATUS_ERROR,
} from "../core/api.ts";
import { semconvMode } from "../core/attributes.ts";
import { _bindRequestContext } from "../core/context.ts";
import { concatBytes } from "../core/bytes.ts";
import { recordError } from "../core/errors.ts";
import { describe } from "../core/validate.ts";
import { requestAttributes } from "../genai/attributes.ts";
import {
  type GenAIOperation,
  type GenAIRequestInfo,
  operationForPath,
  parseRequestBody,
} from "../genai/openai.ts";
import { endSpan, followResponse } from "./response.ts";
import { contextFromTraceparent } from "../core/propagation.ts";
import { _tracer, _tracingActive } from "../core/tracer.ts";
import { forceFlush } from "../sdk/provider.ts";
import { clientAddress } from "../runtime/conninfo.ts";
import { nativeTelemetry } from "../runtime/detect.ts";
import { nowHrTime, perfToHrTime } from "../core/time.ts";
import { urlParts } from "../core/url.ts";

/**
 * Request headers never recorded, whatever `captureHeaders` says.
 *
 * @example
 * ```ts
 * import { CREDENTIAL_HEADERS } from "@llmtrace/otel";
 *
 * console.log(CREDENTIAL_HEADERS.has("authorization")); // true
 * ```
 */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "api-key",
  "x-auth-token",
  "x-goog-api-key",
  "anthropic-api-key",
  "openai-api-key",
  "x-amz-security-token",
]);

const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
  "QUERY",
]);

/**
 * Options of {@link traceHandler}.
 *
 * @example
 * ```ts
 * import { traceHandler, type TraceHandlerOptions } from "@llmtrace/otel";
 *
 * const options: TraceHandlerOptions = {
 *   route: "/v1/chat/completions",
 *   trustIncomingContext: (req) => req.headers.has("x-internal"),
 *   providerName: "vllm",
 *   captureHeaders: ["x-request-id"],
 * };
 * const worker = { fetch: traceHandler(() => new Response("ok"), options) };
 * console.log(typeof worker.fetch);
 * ```
 */
export interface TraceHandlerOptions {
  /**
   * The route template for the span name and `http.route`, e.g.
   * `"/v1/chat/completions"`; or a function of the request. Without it the
   * span is named after the path.
   */
  route?: string | ((req: Request) => string | undefined);
  /**
   * Use the caller's `traceparent` as the parent (`true`), or start a new
   * trace linked to it (`false`; public endpoints should not let callers pick
   * their trace), or decide per request.
   * @default true
   */
  trustIncomingContext?: boolean | ((req: Request) => boolean);
  /**
   * Record prompts and completions (`gen_ai.input.messages`,
   * `gen_ai.output.messages`). Off by default: they may hold personal data.
   * @default false
   */
  captureContent?: boolean;
  /**
   * The largest request or JSON response body read for GenAI attributes;
   * larger bodies pass untouched and unread.
   * @default 1048576
   */
  maxBodyBytes?: number;
  /**
   * Request headers to record as `http.request.header.<name>`. Credential
   * headers ({@link CREDENTIAL_HEADERS}) are never recorded.
   */
  captureHeaders?: readonly string[];
  /** `gen_ai.provider.name`, e.g. `"vllm"` or `"openai"`. */
  providerName?: string;
  /**
   * Decide the GenAI operation of a request; by default from the path
   * (`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`).
   */
  operation?: (req: Request, path: string) => GenAIOperation | undefined;
  /** Extra attributes for every server span. */
  attributes?: Attributes;
  /**
   * Keep the span open until the body ends for every content type, not only
   * JSON and server-sent events.
   * @default false
   */
  coverAllBodies?: boolean;
  /** The tracer to use; llmtrace's own by default. */
  tracer?: Tracer;
}

/**
 * A fetch-style handler: the `Request` and whatever the runtime passes after it.
 *
 * @example
 * ```ts
 * import { type FetchHandler, traceHandler } from "@llmtrace/otel";
 *
 * const handler: FetchHandler = (req) => new Response(`hello ${new URL(req.url).pathname}`);
 * const worker = { fetch: traceHandler(handler) };
 * console.log(typeof worker.fetch);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type FetchHandler<A extends any[] = any[]> = (
  req: Request,
  ...rest: A
) => Response | Promise<Response>;

function checkOptions(o: TraceHandlerOptions): void {
  if (o === null || typeof o !== "object") {
    throw new TypeError(
      `traceHandler(handler, options): options must be an object, got ${
        describe(o)
      }`,
    );
  }
  if (
    o.maxBodyBytes !== undefined &&
    (!Number.isFinite(o.maxBodyBytes) || o.maxBodyBytes < 0)
  ) {
    throw new RangeError(
      `options.maxBodyBytes must be a non-negative number of bytes, got ${
        describe(o.maxBodyBytes)
      }`,
    );
  }
  if (o.captureHeaders !== undefined && !Array.isArray(o.captureHeaders)) {
    throw new TypeError(
      `options.captureHeaders must be an array of header names, got ${
        describe(o.captureHeaders)
      }`,
    );
  }
  if (
    o.attributes !== undefined &&
    (o.attributes === null || typeof o.attributes !== "object" ||
      Array.isArray(o.attributes))
  ) {
    throw new TypeError(
      `options.attributes must be an object of attribute values, got ${
        describe(o.attributes)
      }`,
    );
  }
  for (const k of ["route", "trustIncomingContext", "operation"] as const) {
    const v = o[k];
    const ok = v === undefined || typeof v === "function" ||
      (k === "route" && typeof v === "string") ||
      (k === "trustIncomingContext" && typeof v === "boolean");
    if (!ok) {
      throw new TypeError(
        `options.${k} has the wrong type: got ${describe(v)}`,
      );
    }
  }
}

/** Reads the request body through a clone, bounded, never throwing. */
function readRequestInfo(
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
  return (async () => {
    const reader = clone.body!.getReader();
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
    const bytes = concatBytes(parts, total);
    return parseRequestBody(bytes, operation);
  })();
}

/**
 * When the runtime passed an execution context with `waitUntil` (workerd's
 * `ctx`, Vercel-style contexts), returns a hook that keeps the isolate alive
 * until the request's span has ended and been exported.
 */
function flushThroughWaitUntil(
  rest: readonly unknown[],
): (() => void) | undefined {
  for (const arg of rest) {
    const w = (arg as { waitUntil?: unknown } | null)?.waitUntil;
    if (typeof w !== "function") continue;
    let ended!: () => void;
    const done = new Promise<void>((r) => (ended = r));
    try {
      w.call(arg, done.then(() => forceFlush()).catch(() => {}));
    } catch {
      return undefined;
    }
    return ended;
  }
  return undefined;
}

/**
 * Wraps a fetch-style handler so each request gets one SERVER span, named
 * `{method} {route}` (the path when no route is given; `HTTP` for an unknown
 * method), that lasts until the response body has been sent, cancelled or
 * failed: a streamed LLM answer is covered to its last chunk.
 *
 * The span carries current HTTP attributes (`http.request.method`,
 * `url.path`, `url.scheme`, `server.address`, `server.port`,
 * `client.address`, `user_agent.original`, `http.response.status_code`,
 * `error.type`) and, for OpenAI-compatible requests, GenAI attributes read
 * from the request body (through a clone: the handler reads its body
 * untouched) and the response (usage, ids, finish reasons; for server-sent
 * events the time to first token and the chunk count). A 5xx status or a
 * thrown error sets ERROR status; the error is re-thrown so the runtime's own
 * error handling runs. A client that disconnects mid-stream ends the span
 * with `error.type = "cancelled"`, and the cancel reaches the handler's stream
 * so generation stops.
 *
 * Where the runtime passes an execution context with `waitUntil` (workerd's
 * `ctx`), the request's spans are exported through it once the span ends, so
 * none are lost when the isolate goes idle.
 *
 * The parent is the incoming `traceparent` (see `trustIncomingContext`).
 * The handler gets the request's context with {@link contextOf}; no
 * AsyncLocalStorage or context manager is involved, so concurrent requests
 * never mix spans. The runtime's extra arguments (Deno's `info`, Bun's
 * `server`, workerd's `env, ctx`) are passed through.
 *
 * @param handler The handler to trace.
 * @param options See {@link TraceHandlerOptions}.
 * @returns A handler with the same signature.
 * @throws {TypeError} when `handler` is not a function or an option has the
 * wrong type.
 *
 * @example Deno
 * ```ts
 * import { initTracer, traceHandler } from "@llmtrace/otel";
 *
 * await initTracer("router");
 * Deno.serve({ port: 8000 }, traceHandler((req) => new Response("ok")));
 * ```
 *
 * @example Bun and workerd
 * ```ts
 * import { traceHandler } from "@llmtrace/otel";
 *
 * export default { fetch: traceHandler((req: Request) => new Response("ok")) };
 * ```
 */
// deno-lint-ignore no-explicit-any
export function traceHandler<A extends any[]>(
  handler: FetchHandler<A>,
  options: TraceHandlerOptions = {},
): (req: Request, ...rest: A) => Response | Promise<Response> {
  if (typeof handler !== "function") {
    throw new TypeError(
      `traceHandler(handler): handler must be a function, got ${
        describe(handler)
      }`,
    );
  }
  checkOptions(options);
  const mode = semconvMode();
  const captureContent = options.captureContent === true;
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  const trust = options.trustIncomingContext ?? true;
  const route = options.route;
  const chooseOperation = options.operation;
  const captureHeaders = (options.captureHeaders ?? [])
    .map((h) => String(h).toLowerCase())
    .filter((h) => !CREDENTIAL_HEADERS.has(h));
  const baseAttributes: Attributes = { ...options.attributes };
  if (options.providerName) {
    baseAttributes["gen_ai.provider.name"] = options.providerName;
  }
  const hasBaseAttributes = Object.keys(baseAttributes).length > 0;
  const fixedTracer = options.tracer;
  const native = nativeTelemetry() !== undefined;
  // A tracer of the caller's own, or the runtime's telemetry, means spans
  // from the first request on: have the API ready by then.
  if (fixedTracer || native) loadOtelApi().catch(() => {});

  // Tracing off: call the handler directly, not through an async function,
  // so a synchronous Response stays synchronous, as without llmtrace.
  return function tracedHandler(
    this: unknown,
    req: Request,
    ...rest: A
  ): Response | Promise<Response> {
    if (!fixedTracer && !_tracingActive()) {
      return handler.call(this, req, ...rest);
    }
    const api = _api();
    if (!api) {
      // A tracer of the caller's own, before the API has finished loading.
      return loadOtelApi().then(
        (a) => traced.call(this, a, req, rest),
        () => handler.call(this, req, ...rest),
      );
    }
    return traced.call(this, api, req, rest);
  };

  // Not async: a handler that answers synchronously is answered
  // synchronously here too (Deno and Bun have a faster path for that), and
  // a synchronous throw stays synchronous.
  function traced(
    this: unknown,
    api: OtelApi,
    req: Request,
    rest: A,
  ): Response | Promise<Response> {
    const startedAt = performance.now();
    const start = perfToHrTime(startedAt);
    let span: Span;
    let reqInfo: Promise<GenAIRequestInfo | undefined> | undefined;
    try {
      const method = req.method;
      const known = KNOWN_METHODS.has(method);
      const u = urlParts(req.url);
      let routeValue: string | undefined;
      try {
        routeValue = typeof route === "function" ? route(req) : route;
      } catch {
        routeValue = undefined;
      }
      const headers = req.headers;
      const attrs: Attributes = hasBaseAttributes ? { ...baseAttributes } : {};
      attrs["http.request.method"] = known ? method : "_OTHER";
      if (!known) attrs["http.request.method_original"] = method;
      attrs["url.path"] = u.path;
      attrs["url.scheme"] = u.scheme;
      attrs["server.address"] = u.host;
      if (u.port !== undefined) attrs["server.port"] = u.port;
      if (routeValue) attrs["http.route"] = routeValue;
      const ua = headers.get("user-agent");
      if (ua !== null) attrs["user_agent.original"] = ua;
      const client = clientAddress(req, rest);
      if (client) attrs["client.address"] = client;
      for (const h of captureHeaders) {
        const v = headers.get(h);
        if (v !== null) attrs[`http.request.header.${h}`] = [v];
      }

      let parent: Context = api.ROOT_CONTEXT;
      let links: Link[] | undefined;
      const tp = headers.get("traceparent");
      const active = native ? api.context.active() : undefined;
      const activeSc = active && api.trace.getSpanContext(active);
      if (active && activeSc && api.trace.isSpanContextValid(activeSc)) {
        // The runtime's own server span (Deno's built-in telemetry) already
        // extracted the caller's context: nest under it.
        parent = active;
      } else if (tp !== null) {
        const remote = contextFromTraceparent(tp, headers.get("tracestate"));
        if (remote) {
          let trusted = true;
          try {
            trusted = typeof trust === "function" ? trust(req) : trust;
          } catch {
            trusted = false;
          }
          if (trusted) parent = remote;
          else {
            const sc = api.trace.getSpanContext(remote);
            if (sc) links = [{ context: sc }];
          }
        }
      }
      let operation: GenAIOperation | undefined;
      try {
        operation = chooseOperation
          ? chooseOperation(req, u.path)
          : operationForPath(u.path);
      } catch {
        operation = undefined;
      }
      if (operation) {
        attrs["gen_ai.operation.name"] = operation;
        if (method === "POST") {
          reqInfo = readRequestInfo(req, operation, maxBodyBytes);
        }
      }
      const tracer = fixedTracer ?? _tracer();
      // An unknown method is "HTTP" in the name (OTel HTTP semconv): a
      // client must not be able to mint span names.
      span = tracer.startSpan(
        `${known ? method : "HTTP"} ${routeValue ?? u.path}`,
        { kind: KIND.SERVER, attributes: attrs, links, startTime: start },
        parent,
      );
      _bindRequestContext(req, parent, span);
    } catch {
      // Tracing must never cost the app its request.
      return handler.call(this, req, ...rest);
    }

    const applyRequest = reqInfo
      ? () =>
        reqInfo!.then((info) => {
          if (info) {
            span.setAttributes(requestAttributes(info, mode, captureContent));
          }
        }, () => {})
      : undefined;
    // Edge runtimes (workerd) freeze the isolate once the response is sent:
    // hand them the export of this request's spans through waitUntil.
    const afterEnd = rest.length ? flushThroughWaitUntil(rest) : undefined;

    const failed = (err: unknown): never => {
      try {
        recordError(span, err);
        endSpan(span, nowHrTime(), applyRequest, afterEnd);
      } catch {
        // never mask the handler's own error
      }
      throw err;
    };
    const answered = (res: Response): Response => {
      try {
        if (!(res instanceof Response)) {
          span.setStatus({
            code: STATUS_ERROR,
            message: `the handler returned ${describe(res)}, not a Response`,
          });
          span.setAttribute("error.type", "invalid_response");
          endSpan(span, nowHrTime(), applyRequest, afterEnd);
          return res;
        }
        const status = res.status;
        span.setAttribute("http.response.status_code", status);
        if (status >= 500) {
          span.setStatus({ code: STATUS_ERROR });
          span.setAttribute("error.type", String(status));
        }
        return followResponse(res, {
          span,
          startedAt,
          mode,
          captureContent,
          maxJsonBytes: maxBodyBytes,
          beforeEnd: applyRequest,
          afterEnd,
          coverAllBodies: options.coverAllBodies,
        });
      } catch {
        try {
          endSpan(span, nowHrTime(), undefined, afterEnd);
        } catch {
          // ignore
        }
        return res;
      }
    };

    let out: Response | Promise<Response>;
    try {
      out = handler.call(this, req, ...rest);
    } catch (err) {
      return failed(err);
    }
    if (out instanceof Promise) return out.then(answered, failed);
    if (
      out !== null && typeof out === "object" &&
      typeof (out as { then?: unknown }).then === "function"
    ) {
      return Promise.resolve(out).then(answered, failed);
    }
    return answered(out as Response);
  }
}
