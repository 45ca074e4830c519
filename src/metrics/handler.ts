/**
 * `metricsHandler`: the same instruments, scraped in the Prometheus text
 * format, as a fetch-style handler for a `Deno.serve`/`Bun.serve` route.
 *
 * @module
 */
import { _requestPull, _scrape } from "./meter_provider.ts";

/**
 * Options of {@link metricsHandler}.
 *
 * @example
 * ```ts
 * import { metricsHandler, type MetricsHandlerOptions } from "@llmtrace/otel";
 *
 * const options: MetricsHandlerOptions = { path: "/metrics" };
 * Deno.serve({ port: 9464 }, metricsHandler(options));
 * ```
 */
export interface MetricsHandlerOptions {
  /** Answer only this path (others get 404); every path when omitted. */
  path?: string;
}

const text = (status: number, body: string, headers: HeadersInit = {}) =>
  new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });

/**
 * A fetch-style handler that answers `GET` (and `HEAD`) with every llmtrace
 * metric in the Prometheus text exposition format 0.0.4
 * (`text/plain; version=0.0.4; charset=utf-8`): histograms as
 * `_bucket{le="…"}`, `_sum` and `_count`, names as the OpenTelemetry →
 * Prometheus compatibility rules give them (`gen_ai.server.request.duration`
 * → `gen_ai_server_request_duration_seconds`).
 *
 * It reads the same instruments as the OTLP export, through a second,
 * pull-based reader, so it works with `OTEL_METRICS_EXPORTER=none` as well
 * (Prometheus only). Creating the handler attaches that reader (before or
 * after `initTracer`/`startMetrics`); until metrics run it answers 503 with
 * a text saying so.
 *
 * @param options See {@link MetricsHandlerOptions}.
 * @returns `(req: Request) => Promise<Response>`.
 *
 * @example
 * ```ts
 * import { initTracer, metricsHandler, traceHandler } from "@llmtrace/otel";
 *
 * await initTracer("my.server");
 * const metrics = metricsHandler();
 * const app = traceHandler(() => new Response("ok"));
 * Deno.serve((req) =>
 *   new URL(req.url).pathname === "/metrics" ? metrics(req) : app(req)
 * );
 * ```
 */
export function metricsHandler(
  options: MetricsHandlerOptions = {},
): (req: Request) => Promise<Response> {
  const path = options.path;
  _requestPull();
  return async (req: Request): Promise<Response> => {
    if (path !== undefined && new URL(req.url).pathname !== path) {
      return text(404, `not found; metrics are at ${path}\n`);
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return text(405, "method not allowed: use GET\n", {
        allow: "GET, HEAD",
      });
    }
    try {
      const scrape = await _scrape();
      if (!scrape.ok) {
        return text(503, scrape.reason + "\n", { "retry-after": "10" });
      }
      const body = scrape.sdk.serializePrometheus(scrape.metrics);
      return new Response(req.method === "HEAD" ? null : body, {
        status: 200,
        headers: { "content-type": scrape.sdk.PROMETHEUS_CONTENT_TYPE },
      });
    } catch (e) {
      return text(
        500,
        `llmtrace: collecting metrics failed: ${
          e instanceof Error ? e.message : String(e)
        }\n`,
      );
    }
  };
}
