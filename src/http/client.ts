/**
 * `tracedFetch`: a drop-in `fetch` for upstream calls of an LLM router, with
 * one CLIENT span per call that lasts until the upstream body ends.
 *
 * @module
 */
import type { Span } from "@opentelemetry/api";
import type { Attributes, Context } from "../core/types.ts";
import { _api, KIND, STATUS_ERROR } from "../core/api.ts";
import { semconvMode } from "../core/attributes.ts";
import { _smartContext, contextOf } from "../core/context.ts";
import { recordError } from "../core/errors.ts";
import { describe } from "../core/validate.ts";
import { requestAttributes } from "../genai/attributes.ts";
import {
  type GenAIRequestInfo,
  operationForPath,
  parseRequestBody,
} from "../genai/openai.ts";
import { followResponse } from "./response.ts";
import { formatTraceHeaders } from "../core/propagation.ts";
import { _tracer, _tracingActive } from "../core/tracer.ts";
import { nowHrTime } from "../core/time.ts";
import { runtime } from "../runtime/detect.ts";
import { urlParts } from "../core/url.ts";

/**
 * The third argument of {@link tracedFetch}.
 *
 * @example
 * ```ts
 * import { tracedFetch, type TracedFetchOptions } from "@llmtrace/otel";
 *
 * const options: TracedFetchOptions = {
 *   propagateTo: ["http://127.0.0.1:8001"],
 *   providerName: "vllm",
 *   attempt: 0,
 * };
 * const res = await tracedFetch("http://127.0.0.1:8001/health", undefined, options);
 * await res.body?.cancel();
 * ```
 */
export interface TracedFetchOptions {
  /** The parent context, e.g. `contextOf(req)`. */
  context?: Context;
  /**
   * The incoming request being served: its `traceHandler` span becomes the
   * parent, and when it is aborted (the client went away) the upstream call
   * is aborted too.
   */
  request?: Request;
  /**
   * Which upstreams receive `traceparent`/`tracestate` (and baggage): all by
   * default; a list of origins (`"https://api.example.com"`), or a function
   * of the URL.
   */
  propagateTo?: readonly string[] | ((url: string) => boolean);
  /** `gen_ai.provider.name`, e.g. `"vllm"`. */
  providerName?: string;
  /** Record prompts and completions (opt-in). @default false */
  captureContent?: boolean;
  /** The largest body read for GenAI attributes. @default 1048576 */
  maxBodyBytes?: number;
  /** The attempt number, 0 for the first; recorded as `http.request.resend_count` when > 0. */
  attempt?: number;
  /** Extra span attributes. */
  attributes?: Attributes;
  /** The `fetch` to call. @default globalThis.fetch */
  fetch?: typeof fetch;
}

function bodyBytes(
  body: unknown,
  max: number,
): Uint8Array | string | undefined {
  if (typeof body === "string") return body.length <= max ? body : undefined;
  if (body instanceof Uint8Array) {
    return body.byteLength <= max ? body : undefined;
  }
  if (body instanceof ArrayBuffer) {
    return body.byteLength <= max ? new Uint8Array(body) : undefined;
  }
  return undefined;
}

function allowed(
  url: string,
  origin: string,
  rule: TracedFetchOptions["propagateTo"],
): boolean {
  if (rule === undefined) return true;
  try {
    return typeof rule === "function"
      ? rule(url) === true
      : rule.includes(origin);
  } catch {
    return false;
  }
}

/**
 * Calls `fetch` with one CLIENT span around it, child of an explicit parent
 * (`{ context }`, or `{ request }` for the incoming request `traceHandler`
 * serves; else `getSmartContext()`). The span is named `chat {model}` for a
 * chat completion and `{METHOD}` otherwise, carries HTTP client attributes
 * (`http.request.method`, `server.address`, `server.port`, `url.full` without
 * the query, `http.response.status_code`, `error.type`) and the GenAI
 * attributes of the request and response, and ends when the upstream body
 * ends: for a streamed answer the time to first token is measured here, at
 * the router.
 *
 * `traceparent`/`tracestate` (and baggage, when the registered propagator
 * has it) are injected into a copy of the headers: the caller's `Headers` and
 * `Request` are never mutated. A downstream cancel of the returned body
 * cancels the upstream body; with `{ request }` an aborted incoming request
 * aborts the upstream call, so the upstream stops generating. Each call
 * (each retry or fallback attempt) is its own span; network errors,
 * timeouts and 4xx/5xx statuses are recorded with `error.type`, and errors
 * are re-thrown, never swallowed.
 *
 * @param input The URL or `Request`, as for `fetch`.
 * @param init The `RequestInit`, as for `fetch`.
 * @param options See {@link TracedFetchOptions}.
 * @returns The upstream response (same status, headers and bytes).
 *
 * @example An edge router forwarding a chat completion
 * ```ts
 * import { tracedFetch, traceHandler } from "@llmtrace/otel";
 *
 * Deno.serve(traceHandler(async (req) => {
 *   return await tracedFetch("http://127.0.0.1:8001/v1/chat/completions", {
 *     method: "POST",
 *     headers: { "content-type": "application/json" },
 *     body: await req.text(),
 *   }, { request: req, providerName: "vllm" });
 * }, { route: "/v1/chat/completions" }));
 * ```
 */
export async function tracedFetch(
  input: string | URL | Request,
  init?: RequestInit,
  options: TracedFetchOptions = {},
): Promise<Response> {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `tracedFetch(input, init, options): options must be an object, got ${
        describe(options)
      }`,
    );
  }
  if (options.fetch !== undefined && typeof options.fetch !== "function") {
    throw new TypeError(
      `options.fetch must be a function, got ${describe(options.fetch)}`,
    );
  }
  const doFetch = options.fetch ?? globalThis.fetch;
  if (!_tracingActive()) return await doFetch(input, init);
  const { propagation, trace } = _api()!;

  const isRequest = typeof Request !== "undefined" && input instanceof Request;
  const url = isRequest ? (input as Request).url : String(input);
  const method =
    (init?.method ?? (isRequest ? (input as Request).method : "GET"))
      .toUpperCase();
  const u = urlParts(url);
  const origin = `${u.scheme}://${
    u.host.includes(":") ? `[${u.host}]` : u.host
  }${
    (u.scheme === "http" && u.port === 80) ||
      (u.scheme === "https" && u.port === 443) || u.port === undefined
      ? ""
      : `:${u.port}`
  }`;
  const mode = semconvMode();
  const captureContent = options.captureContent === true;
  const maxBytes = options.maxBodyBytes ?? 1_048_576;

  let info: GenAIRequestInfo | undefined;
  const operation = operationForPath(u.path);
  if (operation) {
    let raw = bodyBytes(init?.body, maxBytes);
    if (raw === undefined && init?.body === undefined && isRequest) {
      const req = input as Request;
      const cl = Number(req.headers.get("content-length") ?? "0");
      if (req.body && !req.bodyUsed && cl <= maxBytes) {
        try {
          raw = new Uint8Array(await req.clone().arrayBuffer());
          if (raw.byteLength > maxBytes) raw = undefined;
        } catch {
          raw = undefined;
        }
      }
    }
    if (raw !== undefined) info = parseRequestBody(raw, operation);
  }

  const parent = options.context ??
    (options.request ? contextOf(options.request) : undefined) ??
    _smartContext();
  const attrs: Attributes = {
    "http.request.method": method,
    "server.address": u.host,
    "url.full": `${origin}${u.path}`,
  };
  if (u.port !== undefined) attrs["server.port"] = u.port;
  if (operation) attrs["gen_ai.operation.name"] = operation;
  if (options.providerName) {
    attrs["gen_ai.provider.name"] = options.providerName;
  }
  if (options.attempt && options.attempt > 0) {
    attrs["http.request.resend_count"] = options.attempt;
  }
  if (info) Object.assign(attrs, requestAttributes(info, mode, captureContent));
  if (options.attributes) Object.assign(attrs, options.attributes);
  const name = operation === "chat" && info?.model
    ? `chat ${info.model}`
    : operation && info?.model
    ? `${operation} ${info.model}`
    : method;

  const startedAt = performance.now();
  let span: Span;
  try {
    span = _tracer().startSpan(name, {
      kind: KIND.CLIENT,
      attributes: attrs,
      startTime: nowHrTime(),
    }, parent);
  } catch {
    return await doFetch(input, init);
  }

  // Headers: a copy, never the caller's object.
  const headers = new Headers(
    init?.headers ?? (isRequest ? (input as Request).headers : undefined),
  );
  if (allowed(url, origin, options.propagateTo)) {
    const ctx = trace.setSpan(parent, span);
    const carrier: Record<string, string> = {};
    try {
      propagation.inject(ctx, carrier);
    } catch {
      // a broken propagator must not break the call
    }
    for (const [k, v] of Object.entries(carrier)) {
      if (k !== "traceparent" && k !== "tracestate") headers.set(k, v);
    }
    const tc = formatTraceHeaders(span.spanContext());
    headers.delete("traceparent");
    headers.delete("tracestate");
    if (tc) {
      headers.set("traceparent", tc.traceparent);
      if (tc.tracestate) headers.set("tracestate", tc.tracestate);
    }
  }
  const signals = [
    // A Request input keeps its own signal: the `signal` passed below
    // replaces it.
    init?.signal ?? (isRequest ? (input as Request).signal : undefined),
    options.request ? runtime().clientGoneSignal(options.request) : undefined,
  ].filter(
    (s): s is AbortSignal => s instanceof AbortSignal,
  );
  const signal = signals.length > 1 && typeof AbortSignal.any === "function"
    ? AbortSignal.any(signals)
    : signals[0];

  let res: Response;
  try {
    res = await doFetch(input, { ...init, headers, signal });
  } catch (err) {
    recordError(span, err);
    span.end();
    throw err;
  }
  try {
    const status = res.status;
    span.setAttribute("http.response.status_code", status);
    if (status >= 400) {
      span.setAttribute("error.type", String(status));
      span.setStatus({ code: STATUS_ERROR });
    }
    const followed = followResponse(res, {
      span,
      startedAt,
      mode,
      captureContent,
      maxJsonBytes: maxBytes,
      // The runtime's own fetch ends byte reads properly; a caller's
      // `fetch` may return any stream, which is read the default way.
      fetched: options.fetch === undefined,
      // A caller that discards an error response's body (a router falling
      // back on a 5xx) cancels it: the status stays the error's type.
      beforeEnd: status >= 400
        ? () => {
          span.setAttribute("error.type", String(status));
        }
        : undefined,
    });
    if (followed !== res) {
      Object.defineProperties(followed, {
        url: { value: res.url },
        redirected: { value: res.redirected },
        type: { value: res.type },
      });
    }
    return followed;
  } catch {
    try {
      span.end();
    } catch {
      // ignore
    }
    return res;
  }
}
