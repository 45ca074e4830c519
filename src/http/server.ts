/**
 * `traceHandler`: one SERVER span per request around a fetch-style handler
 * (`Deno.serve`, `Bun.serve`, `export default { fetch }`), covering the whole
 * response body, with HTTP and GenAI attributes.
 *
 * @module
 */
import type { Span } from "@opentelemetry/api";
import { _api, loadOtelApi, type OtelApi, STATUS_ERROR } from "../core/api.ts";
import type { SemconvMode } from "../core/attributes.ts";
import { recordError } from "../core/errors.ts";
import { ERROR_TYPE, HTTP_RESPONSE_STATUS_CODE } from "../core/keys.ts";
import { nowHrTime, perfToHrTime } from "../core/time.ts";
import { _flush, _tracingActive } from "../core/tracer.ts";
import {
  flushMeasurements,
  measurementSink,
} from "../core/measurement_sink.ts";
import { describe, expectFunction } from "../core/validate.ts";
import { requestAttributes } from "../genai/attributes.ts";
import { loadWireReaders, type WireApi } from "../genai/wire.ts";
import type {
  GenAIOperation,
  GenAIRequestInfo,
} from "../genai/openai_request.ts";
import { runtime } from "../runtime/detect.ts";
import {
  type Outcome,
  reportMeasurement,
  wasForwarded,
} from "./report_measurement.ts";
import { capturedRequestInfo } from "./request_capture.ts";
import {
  cancelledBy,
  endSpan,
  type Follower,
  followResponse,
  markCancelledBeforeAnswer,
} from "./response.ts";
import {
  compileServerOptions,
  type ServerPlan,
  type TraceHandlerOptions,
} from "./server_options.ts";
import { startServerSpan } from "./server_span.ts";

export {
  CREDENTIAL_HEADERS,
  type TraceHandlerOptions,
} from "./server_options.ts";

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

/**
 * Where the runtime passed an execution context with `waitUntil` (workerd's
 * `ctx`), returns a hook that keeps the isolate alive until the request's
 * span has ended and been exported.
 */
function flushThroughWaitUntil(
  rest: readonly unknown[],
): (() => void) | undefined {
  const waitUntil = runtime().waitUntil(rest);
  if (!waitUntil) return undefined;
  let ended!: () => void;
  const done = new Promise<void>((r) => (ended = r));
  try {
    waitUntil(
      done.then(() => Promise.all([_flush(), flushMeasurements()])).catch(
        () => {},
      ),
    );
  } catch {
    return undefined;
  }
  return ended;
}

/**
 * Wraps a fetch-style handler so each request gets one SERVER span, named
 * `{method} {route}` (`{method}` alone when no route is given and the path is
 * not a fixed OpenAI-compatible endpoint such as `/v1/chat/completions`;
 * `HTTP` for an unknown method), that lasts until the response body has been sent, cancelled or
 * failed: a streamed LLM answer is covered to its last chunk.
 *
 * The span carries current HTTP attributes (`http.request.method`,
 * `url.path`, `url.scheme`, `server.address`, `server.port`,
 * `client.address`, `user_agent.original`, `http.response.status_code`,
 * `error.type`) and, for OpenAI-compatible requests, GenAI attributes read
 * from the request body (as the handler reads it, no clone; a body it leaves
 * unread is read after it answers, bounded) and the response (usage, ids,
 * finish reasons; for server-sent events the time to first token and the
 * chunk count). A 5xx status or a thrown error sets ERROR status; the error
 * is re-thrown so the runtime's own error handling runs. A client that
 * disconnects mid-stream ("stop generating") is not an error: the span ends
 * with its status unset, `llmtrace.response.cancelled = true` and finish
 * reason `error` where none came, and the cancel reaches the handler's
 * stream so generation stops.
 *
 * A streamed answer's time to first token is the server's own
 * (`gen_ai.latency.time_to_first_token`; `gen_ai.response.time_to_first_chunk`
 * is the client's, on `tracedFetch`'s span). A handler that forwards the
 * request with `tracedFetch(..., { request: req })` is a router: its span
 * feeds no `gen_ai.server.*` metric (the upstream's server counts the
 * request; the router's view is its client metrics).
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
  expectFunction(handler, "traceHandler(handler): handler");
  const plan = compileServerOptions(options);
  const fixedTracer = plan.tracer;
  // A tracer of the caller's own, or the runtime's telemetry, means spans
  // from the first request on: have the API ready by then.
  if (fixedTracer || plan.native) {
    loadOtelApi().catch(() => {});
    loadWireReaders();
  }

  // Tracing off: call the handler directly, not through an async function,
  // so a synchronous Response stays synchronous, as without llmtrace.
  return function tracedHandler(
    this: unknown,
    req: Request,
    ...rest: A
  ): Response | Promise<Response> {
    if (!fixedTracer && !_tracingActive() && !measurementSink) {
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
    let served: ServedRequest;
    try {
      served = new ServedRequest(api, req, rest, plan);
    } catch {
      // Tracing must never cost the app its request.
      return handler.call(this, req, ...rest);
    }
    let out: Response | Promise<Response>;
    try {
      out = handler.call(this, req, ...rest);
    } catch (err) {
      return served.failed(err);
    }
    if (out instanceof Promise) {
      return out.then(served.answered.bind(served), served.failed.bind(served));
    }
    if (
      out !== null && typeof out === "object" &&
      typeof (out as { then?: unknown }).then === "function"
    ) {
      return Promise.resolve(out).then(
        served.answered.bind(served),
        served.failed.bind(served),
      );
    }
    return served.answered(out as Response);
  }
}

/** A promise callback that drops what it is given. */
function ignore(): void {}

/**
 * One served request, from its span's start to its measurement: started,
 * answered (or failed), request read, body ended, measured. Its steps are
 * methods, and it follows the response body itself, so a traced request
 * allocates this one object where it used to allocate a closure per step,
 * and the collector has that much less to trace.
 */
class ServedRequest implements Follower {
  readonly span: Span;
  readonly side = "server";
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number;
  readonly req: Request;
  readonly plan: ServerPlan;
  /** The GenAI operation, when the request is one: then it is measured. */
  readonly operation: GenAIOperation | undefined;
  /** The wire API the request speaks, chosen with it; its answer's readers. */
  readonly api: WireApi | undefined;
  /** This server's host and port, as the request addressed it. */
  readonly host: string;
  readonly port: number | undefined;
  /** The request body's GenAI attributes are being captured. */
  readonly capturing: boolean;
  /** Releases workerd's `waitUntil`, where the runtime passed one. */
  readonly flush: (() => void) | undefined;
  /**
   * The request's GenAI attributes being applied, from the moment the
   * handler has answered (its own read, or a bounded read of a body it
   * left unread, while the runtime still has it); the span ends after.
   */
  requestRead: Promise<void> | undefined;
  /** The request's attributes are on the span (or there were none). */
  requestApplied = false;
  /** The model the request asked for, once its body was read. */
  requestModel: string | undefined;
  /** The error seen outside the body: a 5xx status, a thrown error's name. */
  statusError: string | undefined;

  /** Starts the SERVER span; throws when it cannot (served untraced). */
  constructor(api: OtelApi, req: Request, rest: unknown[], plan: ServerPlan) {
    const startedAt = this.startedAt = performance.now();
    const started = startServerSpan(
      api,
      req,
      rest,
      plan,
      perfToHrTime(startedAt),
    );
    this.span = started.span;
    this.req = req;
    this.plan = plan;
    this.operation = started.operation;
    this.api = started.call?.api;
    this.host = started.host;
    this.port = started.port;
    this.capturing = started.capturing;
    // Edge runtimes (workerd) freeze the isolate once the response is sent:
    // hand them the export of this request's spans through waitUntil.
    this.flush = rest.length ? flushThroughWaitUntil(rest) : undefined;
  }

  get mode(): SemconvMode {
    return this.plan.mode;
  }
  get captureContent(): boolean {
    return this.plan.captureContent;
  }
  get maxJsonBytes(): number {
    return this.plan.maxBodyBytes;
  }
  get coverAllBodies(): boolean {
    return this.plan.coverAllBodies;
  }

  /** The handler answered: record the answer and follow its body. */
  answered(res: Response): Response {
    this.readRequest();
    if (res instanceof Response && res.status >= 500) {
      this.statusError = String(res.status);
    }
    const span = this.span;
    try {
      if (!(res instanceof Response)) {
        span.setStatus({
          code: STATUS_ERROR,
          message: `the handler returned ${describe(res)}, not a Response`,
        });
        span.setAttribute(ERROR_TYPE, "invalid_response");
        endSpan(this, nowHrTime(), undefined);
        return res;
      }
      const status = res.status;
      span.setAttribute(HTTP_RESPONSE_STATUS_CODE, status);
      if (status >= 500) {
        span.setStatus({ code: STATUS_ERROR });
        span.setAttribute(ERROR_TYPE, String(status));
      }
      return followResponse(res, this);
    } catch {
      endSpan(this, nowHrTime(), undefined);
      return res;
    }
  }

  /** The handler threw (or its promise rejected): end the span, re-throw. */
  failed(err: unknown): never {
    try {
      this.readRequest();
      // The handler gave up because its client went away (a router's
      // upstream call aborted with it): the client's cancel, not an error.
      if (cancelledBy(runtime().clientGoneSignal(this.req))) {
        markCancelledBeforeAnswer(this.span, this.operation !== undefined);
      } else {
        recordError(this.span, err);
        this.statusError = err instanceof Error
          ? err.name || "Error"
          : "_OTHER";
      }
      endSpan(this, nowHrTime(), undefined);
    } catch {
      // never mask the handler's own error
    }
    throw err;
  }

  /** Starts applying the request's GenAI attributes, once. */
  readRequest(): void {
    if (!this.capturing || this.requestRead) return;
    this.requestRead = capturedRequestInfo(this.req).then(
      this.applyRequest.bind(this),
      ignore,
    );
  }

  applyRequest(info: GenAIRequestInfo | undefined): void {
    this.requestApplied = true;
    if (!info) return;
    this.requestModel = info.model;
    this.span.setAttributes(
      requestAttributes(info, this.plan.mode, this.plan.captureContent),
    );
  }

  /** The body ended: the span waits only for a request read under way. */
  beforeEnd(): Promise<void> | void {
    this.readRequest();
    return this.requestApplied ? undefined : this.requestRead;
  }

  /**
   * The span has ended: report the measurement (a model server's; a router
   * that forwarded the request has its client measurements), release
   * `waitUntil`.
   */
  afterEnd(outcome?: Outcome): void {
    if (this.operation !== undefined && !wasForwarded(this.req)) {
      reportMeasurement(
        {
          kind: "server",
          operation: this.operation,
          provider: this.plan.providerName,
          serverAddress: this.host,
          serverPort: this.port,
          requestKey: this.req,
        },
        this.startedAt,
        outcome,
        this.requestModel,
        this.statusError,
      );
    }
    this.flush?.();
  }
}
