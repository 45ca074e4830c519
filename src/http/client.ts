/**
 * `tracedFetch`: a drop-in `fetch` for upstream calls of an LLM router, with
 * one CLIENT span per call that lasts until the upstream body ends.
 *
 * @module
 */
import type { Span } from "@opentelemetry/api";
import type { Attributes, Context } from "../core/types.ts";
import { _api, KIND, STATUS_ERROR } from "../core/api.ts";
import { semconvMode, SpanAttributes } from "../core/attributes.ts";
import { _smartContext, contextOf } from "../core/context.ts";
import { recordError } from "../core/errors.ts";
import {
  ERROR_TYPE,
  HTTP_REQUEST_METHOD,
  HTTP_REQUEST_RESEND_COUNT,
  HTTP_RESPONSE_STATUS_CODE,
  SERVER_ADDRESS,
  SERVER_PORT,
  URL_FULL,
} from "../core/keys.ts";
import { nowHrTime } from "../core/time.ts";
import { boundAttributes, boundName } from "../core/limits.ts";
import { _tracer, _tracingActive } from "../core/tracer.ts";
import { measurementSink } from "../core/measurement_sink.ts";
import { urlParts } from "../core/url.ts";
import { expectFunction, expectObject } from "../core/validate.ts";
import { requestAttributes } from "../genai/attributes.ts";
import {
  type GenAIRequestInfo,
  operationForPath,
} from "../genai/openai_request.ts";
import { providerForHost } from "../genai/provider_name.ts";
import { initBodyInfo, readRequestInfo } from "./request_body.ts";
import { type Outcome, reportMeasurement } from "./report_measurement.ts";
import { endSpan, followResponse } from "./response.ts";
import {
  allowed,
  injectTraceHeaders,
  originOf,
  upstreamSignal,
} from "./upstream.ts";

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

/** `chat {model}` / `{operation} {model}` when the model is known, else the method. */
function spanName(
  operation: string | undefined,
  info: GenAIRequestInfo | undefined,
  method: string,
): string {
  return boundName(
    operation && info?.model ? `${operation} ${info.model}` : method,
  );
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
  expectObject(options, "tracedFetch(input, init, options): options");
  if (options.fetch !== undefined) {
    expectFunction(options.fetch, "options.fetch");
  }
  const doFetch = options.fetch ?? globalThis.fetch;
  if (!_tracingActive() && !measurementSink) {
    return await doFetch(input, init);
  }
  const api = _api()!;

  const request = typeof Request !== "undefined" && input instanceof Request
    ? input
    : undefined;
  const url = request ? request.url : String(input);
  const method = (init?.method ?? request?.method ?? "GET").toUpperCase();
  const u = urlParts(url);
  const origin = originOf(u);
  const mode = semconvMode();
  const captureContent = options.captureContent === true;
  const maxBytes = options.maxBodyBytes ?? 1_048_576;

  const operation = operationForPath(u.path);
  let info: GenAIRequestInfo | undefined;
  // A Request's body is read on the side (bounded), never before the call.
  let pendingInfo: Promise<GenAIRequestInfo | undefined> | undefined;
  if (operation) {
    if (init?.body !== undefined) {
      info = initBodyInfo(init.body, operation, maxBytes);
    } else if (request) {
      pendingInfo = readRequestInfo(request, operation, maxBytes);
    }
  }

  const parent = options.context ??
    (options.request ? contextOf(options.request) : undefined) ??
    _smartContext();
  const attrs: Attributes = {
    [HTTP_REQUEST_METHOD]: method,
    [SERVER_ADDRESS]: u.host,
    [URL_FULL]: `${origin}${u.path}`,
  };
  if (u.port !== undefined) attrs[SERVER_PORT] = u.port;
  // The conventions require the provider on GenAI spans: the caller's name
  // for it, else what the host makes clear, else the API's ("openai").
  const provider = operation
    ? options.providerName || providerForHost(u.host)
    : options.providerName;
  if (operation) attrs[SpanAttributes.GEN_AI_OPERATION_NAME] = operation;
  if (provider) attrs[SpanAttributes.GEN_AI_PROVIDER_NAME] = provider;
  if (options.attempt && options.attempt > 0) {
    attrs[HTTP_REQUEST_RESEND_COUNT] = options.attempt;
  }
  if (info) Object.assign(attrs, requestAttributes(info, mode, captureContent));
  if (options.attributes) Object.assign(attrs, options.attributes);

  const startedAt = performance.now();
  let span: Span;
  try {
    span = _tracer().startSpan(spanName(operation, info, method), {
      kind: KIND.CLIENT,
      attributes: boundAttributes(attrs),
      startTime: nowHrTime(),
    }, parent);
  } catch {
    return await doFetch(input, init);
  }
  let requestModel = info?.model;
  const applyPending = pendingInfo?.then((later) => {
    if (!later) return;
    requestModel = later.model;
    span.setAttributes(requestAttributes(later, mode, captureContent));
    span.updateName(spanName(operation, later, method));
  }, () => {});
  const measured = (errorType?: string) => (outcome?: Outcome) => {
    if (operation === undefined) return;
    reportMeasurement(
      {
        kind: "client",
        operation,
        provider,
        serverAddress: u.host,
        serverPort: u.port,
      },
      startedAt,
      outcome,
      requestModel,
      errorType,
    );
  };

  // Headers: a copy, never the caller's object.
  const headers = new Headers(init?.headers ?? request?.headers);
  if (allowed(url, origin, options.propagateTo)) {
    injectTraceHeaders(api, headers, parent, span);
  }
  const signal = upstreamSignal(init, request, options.request);

  let res: Response;
  try {
    res = await doFetch(input, { ...init, headers, signal });
  } catch (err) {
    recordError(span, err);
    endSpan(
      span,
      nowHrTime(),
      () => applyPending,
      measured(err instanceof Error ? err.name || "Error" : "_OTHER"),
    );
    throw err;
  }
  try {
    const status = res.status;
    span.setAttribute(HTTP_RESPONSE_STATUS_CODE, status);
    if (status >= 400) {
      span.setAttribute(ERROR_TYPE, String(status));
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
      beforeEnd: () => {
        if (status >= 400) span.setAttribute(ERROR_TYPE, String(status));
        return applyPending;
      },
      afterEnd: measured(status >= 400 ? String(status) : undefined),
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
    endSpan(span, nowHrTime(), undefined, measured());
    return res;
  }
}
