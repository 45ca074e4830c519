/**
 * `tracedFetch`: a drop-in `fetch` for upstream calls of an LLM router, with
 * one CLIENT span per call that lasts until the upstream body ends.
 *
 * @module
 */
import type { Span } from "@opentelemetry/api";
import type { Attributes, Context } from "../core/types.ts";
import { _api, KIND, STATUS_ERROR } from "../core/api.ts";
import {
  type SemconvMode,
  semconvMode,
  SpanAttributes,
} from "../core/attributes.ts";
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
import { captureContentEnv } from "../core/env_config.ts";
import { nowHrTime, perfToHrTime } from "../core/time.ts";
import { boundAttributes, boundName } from "../core/limits.ts";
import { _tracer, _tracingActive } from "../core/tracer.ts";
import { measurementSink } from "../core/measurement_sink.ts";
import { type UrlParts, urlParts } from "../core/url.ts";
import { expectFunction, expectObject } from "../core/validate.ts";
import { requestAttributes } from "../genai/attributes.ts";
import type {
  GenAIOperation,
  GenAIRequestInfo,
} from "../genai/openai_request.ts";
import {
  expectWireApi,
  type WireApi,
  type WireApiName,
  type WireCall,
  wireCall,
} from "../genai/wire.ts";
import { providerForHost } from "../genai/provider_name.ts";
import {
  infoAtHand,
  initBodyInfo,
  NOT_AT_HAND,
  readRequestInfo,
} from "./request_body.ts";
import {
  markForwarded,
  type Outcome,
  reportMeasurement,
} from "./report_measurement.ts";
import {
  cancelledBy,
  endSpan,
  type Follower,
  followResponse,
  markCancelledBeforeAnswer,
} from "./response.ts";
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
  /**
   * The wire API the upstream speaks, for a path it cannot be told from
   * (`"openai"`, `"openai_responses"`, `"anthropic"`, `"gemini"`); by
   * default the URL's path decides.
   */
  api?: WireApiName;
  /**
   * Record prompts and completions (opt-in); when not given,
   * `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` turns it on.
   * @default false
   */
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
  info: { model?: string } | undefined,
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
 * The span starts at the call with what samplers need (operation,
 * provider, model, server address and port): with a `Request` input, a body
 * at hand (a declared `content-length` within `maxBodyBytes`, or bytes in
 * memory) is read through a clone before the span starts; an upload still
 * streaming is not waited for, and its model arrives later (the span is
 * renamed then).
 *
 * `traceparent`/`tracestate` (and baggage, when the registered propagator
 * has it) are injected into a copy of the headers: the caller's `Headers` and
 * `Request` are never mutated. A downstream cancel of the returned body
 * cancels the upstream body; with `{ request }` an aborted incoming request
 * aborts the upstream call, so the upstream stops generating; a cancel
 * mid-stream is not an error (status unset, `llmtrace.response.cancelled`,
 * finish reason `error` where none came). Each call
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
  expectWireApi(options.api, "options.api");
  const doFetch = options.fetch ?? globalThis.fetch;
  if (!_tracingActive() && !measurementSink) {
    return await doFetch(input, init);
  }
  const api = _api()!;
  // The span starts at the call, even when a body at hand is read first.
  const calledAt = performance.now();
  // The served request's handler forwards it: a router (no server metrics).
  if (options.request) markForwarded(options.request);

  const request = typeof Request !== "undefined" && input instanceof Request
    ? input
    : undefined;
  const url = request ? request.url : String(input);
  const method = (init?.method ?? request?.method ?? "GET").toUpperCase();
  const call = new UpstreamCall(urlParts(url), method, options);
  const u = call.url;
  const origin = originOf(u);
  const operation = call.operation;
  const wire = call.wire;
  let info: GenAIRequestInfo | undefined;
  // A Request's body is read on the side (bounded), never before the call.
  let pendingInfo: Promise<GenAIRequestInfo | undefined> | undefined;
  if (wire) {
    if (init?.body !== undefined) {
      info = initBodyInfo(init.body, wire, call.maxJsonBytes);
    } else if (request) {
      pendingInfo = readRequestInfo(request, wire, call.maxJsonBytes);
      // Samplers decide at span creation: a body at hand (a declared length
      // within the limit, or bytes in memory) is read before the span
      // starts; an upload still streaming is not waited for.
      if (pendingInfo) {
        const read = await infoAtHand(pendingInfo, request, call.maxJsonBytes);
        if (read !== NOT_AT_HAND) {
          info = read;
          pendingInfo = undefined;
        }
      }
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
  if (operation) attrs[SpanAttributes.GEN_AI_OPERATION_NAME] = operation;
  if (wire?.model) attrs[SpanAttributes.GEN_AI_REQUEST_MODEL] = wire.model;
  if (call.provider) attrs[SpanAttributes.GEN_AI_PROVIDER_NAME] = call.provider;
  if (options.attempt && options.attempt > 0) {
    attrs[HTTP_REQUEST_RESEND_COUNT] = options.attempt;
  }
  if (info) {
    Object.assign(
      attrs,
      requestAttributes(info, call.mode, call.captureContent),
    );
  }
  if (options.attributes) Object.assign(attrs, options.attributes);

  try {
    call.start(
      spanName(operation, info ?? wire, method),
      attrs,
      parent,
      info?.model ?? wire?.model,
      calledAt,
    );
  } catch {
    return await doFetch(input, init);
  }
  if (pendingInfo) call.readRequest(pendingInfo);

  // Headers: a copy, never the caller's object.
  const headers = new Headers(init?.headers ?? request?.headers);
  if (allowed(url, origin, options.propagateTo)) {
    injectTraceHeaders(api, headers, parent, call.span);
  }
  const signal = upstreamSignal(init, request, options.request);

  let res: Response;
  try {
    res = await doFetch(input, { ...init, headers, signal });
  } catch (err) {
    return call.failed(err, signal);
  }
  return call.answered(res);
}

/** A promise callback that drops what it is given. */
function ignore(): void {}

/**
 * One upstream call (one attempt), from its CLIENT span's start to its
 * measurement: started, request read, answered (or failed), body ended,
 * measured. Its steps are methods, and it follows the upstream body itself,
 * so a call allocates this one object where it used to allocate a closure
 * per step.
 */
class UpstreamCall implements Follower {
  /** Set by {@link UpstreamCall.start}. */
  span!: Span;
  readonly side = "client";
  /** `performance.now()` when the span started. */
  startedAt = 0;
  readonly url: UrlParts;
  readonly method: string;
  /** The wire API and operation of the path, when it is a GenAI call. */
  readonly wire: WireCall | undefined;
  /** The GenAI operation of the path, when it is one: then it is measured. */
  readonly operation: GenAIOperation | undefined;
  /** The wire API of the answer (see `Follower`). */
  readonly api: WireApi | undefined;
  /** `gen_ai.provider.name`. */
  readonly provider: string | undefined;
  readonly mode: SemconvMode;
  readonly captureContent: boolean;
  readonly maxJsonBytes: number;
  readonly fetched: boolean;
  /** The model the request asked for, once its body was read. */
  requestModel: string | undefined;
  /** A `Request`'s body read on the side; the span ends after it settles. */
  requestRead: Promise<void> | undefined;
  /** The request's attributes are on the span (or there were none). */
  requestApplied = false;
  /** The upstream's HTTP status, once it answered. */
  status = 0;
  /** `error.type` for the measurement: a status ≥ 400, a thrown error's name. */
  errorType: string | undefined;

  constructor(url: UrlParts, method: string, options: TracedFetchOptions) {
    this.url = url;
    this.method = method;
    const wire = this.wire = wireCall(url.path, options.api);
    this.operation = wire?.operation;
    this.api = wire?.api;
    // The conventions require the provider on GenAI spans: the caller's name
    // for it, else what the host makes clear, else the wire API's.
    this.provider = wire
      ? options.providerName || providerForHost(url.host, wire.api.provider)
      : options.providerName;
    this.mode = semconvMode();
    // The option wins; else the GenAI instrumentations' variable.
    this.captureContent = typeof options.captureContent === "boolean"
      ? options.captureContent
      : captureContentEnv() === true;
    this.maxJsonBytes = options.maxBodyBytes ?? 1_048_576;
    // The runtime's own fetch ends byte reads properly; a caller's `fetch`
    // may return any stream, which is read the default way.
    this.fetched = options.fetch === undefined;
  }

  /** Starts the CLIENT span; throws when it cannot (called untraced). */
  start(
    name: string,
    attributes: Attributes,
    parent: Context,
    requestModel: string | undefined,
    calledAt: number,
  ): void {
    this.startedAt = calledAt;
    this.span = _tracer().startSpan(name, {
      kind: KIND.CLIENT,
      attributes: boundAttributes(attributes),
      startTime: perfToHrTime(calledAt),
    }, parent);
    this.requestModel = requestModel;
  }

  /** Applies a `Request`'s GenAI attributes once its body has been read. */
  readRequest(pending: Promise<GenAIRequestInfo | undefined>): void {
    this.requestRead = pending.then(this.applyRequest.bind(this), ignore);
  }

  applyRequest(info: GenAIRequestInfo | undefined): void {
    this.requestApplied = true;
    if (!info) return;
    this.requestModel = info.model;
    this.span.setAttributes(
      requestAttributes(info, this.mode, this.captureContent),
    );
    this.span.updateName(spanName(this.operation, info, this.method));
  }

  /** The upstream answered: record the status and follow the body. */
  answered(res: Response): Response {
    const span = this.span;
    try {
      const status = this.status = res.status;
      span.setAttribute(HTTP_RESPONSE_STATUS_CODE, status);
      if (status >= 400) {
        this.errorType = String(status);
        span.setAttribute(ERROR_TYPE, this.errorType);
        span.setStatus({ code: STATUS_ERROR });
      }
      const followed = followResponse(res, this);
      if (followed !== res) {
        Object.defineProperties(followed, {
          url: { value: res.url },
          redirected: { value: res.redirected },
          type: { value: res.type },
        });
      }
      return followed;
    } catch {
      this.errorType = undefined;
      endSpan(this, nowHrTime(), undefined);
      return res;
    }
  }

  /**
   * The call failed (network error, abort, timeout): end the span, re-throw.
   * The caller's abort (its signal, or the served client gone) before the
   * answer is a cancel, not an error; a timeout stays an error.
   */
  failed(err: unknown, signal?: AbortSignal): never {
    if (cancelledBy(signal)) {
      markCancelledBeforeAnswer(this.span, this.operation !== undefined);
      this.errorType = undefined;
    } else {
      recordError(this.span, err);
      this.errorType = err instanceof Error ? err.name || "Error" : "_OTHER";
    }
    endSpan(this, nowHrTime(), undefined);
    throw err;
  }

  /** The body ended: the span waits only for a request read under way. */
  beforeEnd(): Promise<void> | void {
    // A caller that discards an error response's body (a router falling
    // back on a 5xx) cancels it: the status stays the error's type.
    if (this.status >= 400) {
      this.span.setAttribute(ERROR_TYPE, String(this.status));
    }
    return this.requestApplied ? undefined : this.requestRead;
  }

  /** The span has ended: report the measurement. */
  afterEnd(outcome?: Outcome): void {
    if (this.operation === undefined) return;
    reportMeasurement(
      {
        kind: "client",
        operation: this.operation,
        provider: this.provider,
        serverAddress: this.url.host,
        serverPort: this.url.port,
      },
      this.startedAt,
      outcome,
      this.requestModel,
      this.errorType,
    );
  }
}
