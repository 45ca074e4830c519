/**
 * Trace context into worker processes through the environment: `traceEnv`
 * (the safe way) and vLLM's `propagateTraceToEnv`.
 *
 * @module
 */
import type { Context } from "../core/types.ts";
import { TRACE_HEADERS } from "../core/attributes.ts";
import { _api, _spanContextOf } from "../core/api.ts";
import { _smartContext } from "../core/context.ts";
import { describe } from "../core/validate.ts";
import { formatTraceHeaders } from "../core/propagation.ts";
import { _currentEndpoint } from "../core/tracer.ts";
import { runtime } from "../runtime/detect.ts";

/**
 * The environment variables that hand a trace to a child process:
 * `traceparent` (and `tracestate`) for the given context, and
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` when tracing is initialized, so the
 * child's `initWorkerTracer` exports to the same place.
 *
 * Pass them explicitly to the child (`Deno.Command`, `Bun.spawn`,
 * `child_process.spawn`, `new Worker(..., { env })`). Unlike
 * {@link propagateTraceToEnv}, this never touches the process's own
 * environment, so concurrent requests cannot see each other's trace.
 *
 * @param ctx The context whose span becomes the child's parent; by default
 * {@link getSmartContext}.
 * @returns A plain object of variables (empty when there is no valid span).
 *
 * @example
 * ```ts
 * import { contextOf, traceEnv } from "@llmtrace/otel";
 *
 * async function handler(req: Request): Promise<Response> {
 *   const child = new Deno.Command("deno", {
 *     args: ["run", "worker.ts"],
 *     env: traceEnv(contextOf(req)),
 *   });
 *   const { code } = await child.output();
 *   return new Response(`worker exited with ${code}`);
 * }
 * ```
 */
export function traceEnv(ctx?: Context): Record<string, string> {
  if (
    ctx !== undefined && (ctx === null || typeof ctx.getValue !== "function")
  ) {
    throw new TypeError(
      `traceEnv(ctx): ctx must be an OpenTelemetry Context, got ${
        describe(ctx)
      }`,
    );
  }
  const out: Record<string, string> = {};
  // Without the API loaded no span of ours runs; a caller's own Context is
  // still read.
  const parent = ctx ?? (_api() ? _smartContext() : undefined);
  const sc = parent && _spanContextOf(parent);
  const headers = formatTraceHeaders(sc);
  if (headers) {
    out.traceparent = headers.traceparent;
    if (headers.tracestate) out.tracestate = headers.tracestate;
  }
  const endpoint = _currentEndpoint();
  if (endpoint) out.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = endpoint;
  return out;
}

type TraceVars = { traceparent?: string; tracestate?: string };

/**
 * The propagations running now, oldest first, and the environment's values
 * from before the first of them. Overlapping async callers may end in any
 * order: the environment always shows the newest running one, and returns to
 * exactly what it was once the last one ends (a plain save/restore per call
 * would leave a finished caller's trace behind in some orders).
 */
const running: TraceVars[] = [];
let original: TraceVars | undefined;

function write(vars: TraceVars): boolean {
  const rt = runtime();
  let ok = true;
  for (const k of TRACE_HEADERS) ok = rt.setEnv(k, vars[k]) && ok;
  return ok;
}

function enter(vars: TraceVars): () => void {
  const rt = runtime();
  if (running.length === 0) {
    original = {
      traceparent: rt.getEnv("traceparent"),
      tracestate: rt.getEnv("tracestate"),
    };
  }
  if (!write(vars)) return () => {};
  running.push(vars);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const i = running.lastIndexOf(vars);
    if (i >= 0) running.splice(i, 1);
    write(running.length ? running[running.length - 1] : original ?? {});
    if (running.length === 0) original = undefined;
  };
}

/**
 * vLLM's `propagate_trace_to_env`: writes `traceparent`/`tracestate` for the
 * current (or given) context into this process's environment (`Deno.env`,
 * `Bun.env` or `process.env`), runs `fn`, and restores the previous values,
 * also when `fn` throws or its promise rejects. Children spawned inside `fn`
 * without an explicit `env` inherit the trace.
 *
 * The environment is global to the process: while an async `fn` awaits,
 * another request's `propagateTraceToEnv` can overwrite the values, and the
 * child spawned then joins the wrong trace. Under concurrency pass
 * {@link traceEnv} to the spawn call instead. Whatever the order in which
 * overlapping calls end, the environment returns to its previous values
 * once the last one ends. Where the runtime forbids env
 * writes (Deno without `--allow-env`), `fn` simply runs.
 *
 * @param fn The function to run with the trace in the environment.
 * @param ctx The context to propagate; by default {@link getSmartContext}.
 * @returns What `fn` returns.
 *
 * @example
 * ```ts
 * import { propagateTraceToEnv } from "@llmtrace/otel";
 *
 * const code = await propagateTraceToEnv(async () => {
 *   const { code } = await new Deno.Command("deno", { args: ["--version"] }).output();
 *   return code;
 * });
 * ```
 */
export function propagateTraceToEnv<R>(fn: () => R, ctx?: Context): R {
  if (typeof fn !== "function") {
    throw new TypeError(
      `propagateTraceToEnv(fn): fn must be a function, got ${describe(fn)}`,
    );
  }
  const vars = traceEnv(ctx);
  const restore = enter({
    traceparent: vars.traceparent,
    tracestate: vars.tracestate,
  });
  let result: R;
  try {
    result = fn();
  } catch (e) {
    restore();
    throw e;
  }
  if (
    result !== null && typeof result === "object" &&
    typeof (result as { then?: unknown }).then === "function"
  ) {
    return Promise.resolve(result).finally(restore) as R;
  }
  restore();
  return result;
}
