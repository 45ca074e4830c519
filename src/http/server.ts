/**
 * `traceHandler`: one SERVER span per request around a fetch-style handler
 * (`Deno.serve`, `Bun.serve`, `export default { fetch }`), covering the whole
 * response body, with HTTP and GenAI attributes.
 *
 * @module
 */
import type { Span } from "@opentelemetry/api";
import { _api, loadOtelApi, type OtelApi, STATUS_ERROR } from "../core/api.ts";
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
import { runtime } from "../runtime/detect.ts";
import { type Outcome, reportMeasurement } from "./report_measurement.ts";
import { endSpan, followResponse } from "./response.ts";
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
 * from the request body (as the handler reads it, without a copy) and the
 * response (usage, ids, finish reasons; for server-sent events the time to
 * first token and the chunk count). A 5xx status or a
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
  expectFunction(handler, "traceHandler(handler): handler");
  const plan = compileServerOptions(options);
  const fixedTracer = plan.tracer;
  // A tracer of the caller's own, or the runtime's telemetry, means spans
  // from the first request on: have the API ready by then.
  if (fixedTracer || plan.native) loadOtelApi().catch(() => {});

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
    const startedAt = performance.now();
    let started;
    try {
      started = startServerSpan(api, req, rest, plan, perfToHrTime(startedAt));
    } catch {
      // Tracing must never cost the app its request.
      return handler.call(this, req, ...rest);
    }
    const { span, requestInfo, operation } = started;
    let requestModel: string | undefined;
    // Settled as soon as the handler has answered (its own read, or a
    // bounded read of a body it left unread, while the runtime still has
    // it), applied just before the span ends.
    let settled: Promise<void> | undefined;
    const settleRequest = requestInfo
      ? () =>
        settled ??= requestInfo().then((info) => {
          if (info) {
            requestModel = info.model;
            span.setAttributes(
              requestAttributes(info, plan.mode, plan.captureContent),
            );
          }
        }, () => {})
      : undefined;
    const applyRequest = settleRequest;
    // Edge runtimes (workerd) freeze the isolate once the response is sent:
    // hand them the export of this request's spans through waitUntil.
    const flush = rest.length ? flushThroughWaitUntil(rest) : undefined;
    let statusError: string | undefined;
    const afterEnd = (outcome?: Outcome) => {
      if (operation !== undefined) {
        reportMeasurement(
          {
            kind: "server",
            operation,
            provider: plan.providerName,
            serverAddress: started.host,
            serverPort: started.port,
            requestKey: req,
          },
          startedAt,
          outcome,
          requestModel,
          statusError,
        );
      }
      flush?.();
    };

    const failed = (err: unknown): never => {
      try {
        settleRequest?.();
        recordError(span, err);
        statusError = err instanceof Error ? err.name || "Error" : "_OTHER";
        endSpan(span, nowHrTime(), applyRequest, afterEnd);
      } catch {
        // never mask the handler's own error
      }
      throw err;
    };
    const answered = (res: Response): Response => {
      settleRequest?.();
      if (res instanceof Response && res.status >= 500) {
        statusError = String(res.status);
      }
      return answer(span, res, plan, startedAt, applyRequest, afterEnd);
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

/** Records the handler's answer and follows its body; never loses it. */
function answer(
  span: Span,
  res: Response,
  plan: ServerPlan,
  startedAt: number,
  beforeEnd: (() => Promise<void>) | undefined,
  afterEnd: (outcome?: Outcome) => void,
): Response {
  try {
    if (!(res instanceof Response)) {
      span.setStatus({
        code: STATUS_ERROR,
        message: `the handler returned ${describe(res)}, not a Response`,
      });
      span.setAttribute(ERROR_TYPE, "invalid_response");
      endSpan(span, nowHrTime(), beforeEnd, () => afterEnd());
      return res;
    }
    const status = res.status;
    span.setAttribute(HTTP_RESPONSE_STATUS_CODE, status);
    if (status >= 500) {
      span.setStatus({ code: STATUS_ERROR });
      span.setAttribute(ERROR_TYPE, String(status));
    }
    return followResponse(res, {
      span,
      startedAt,
      mode: plan.mode,
      captureContent: plan.captureContent,
      maxJsonBytes: plan.maxBodyBytes,
      beforeEnd,
      afterEnd,
      coverAllBodies: plan.coverAllBodies,
    });
  } catch {
    endSpan(span, nowHrTime(), undefined, () => afterEnd());
    return res;
  }
}
