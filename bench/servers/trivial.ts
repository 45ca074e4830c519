// The trivial handler, `new Response("ok")`, served by Deno.serve or Bun.serve.
// MODE=untraced | disabled (traceHandler, no initTracer) | traced (initTracer to
// SINK + traceHandler) | sdk (an anchor: the official OpenTelemetry web SDK by
// hand, one server span with 3 attributes per request, exported to SINK with
// the same BatchSpanProcessor + OTLP/HTTP protobuf exporter llmtrace uses) |
// sdk-full (the same, with the 7 request attributes traceHandler records).
// Deno's built-in tracing is MODE=untraced + OTEL_DENO=true.
import { env, type Handler, listen } from "./common.ts";

const mode = env("MODE") ?? "untraced";
let handler: Handler = () => new Response("ok");
if (mode === "disabled" || mode === "traced") {
  const m = await import(env("LLMTRACE_MOD") ?? "../../mod.ts");
  if (mode === "traced") {
    await m.initTracer("bench.trivial", env("SINK"), undefined, {
      flushOnExit: false,
    });
  }
  handler = m.traceHandler(handler);
} else if (mode === "sdk" || mode === "sdk-full") {
  // Imported only in this mode, so the other modes never load the SDK.
  // The official packages only: the SDK as its documentation shows it.
  const { BatchSpanProcessor, WebTracerProvider } = await import(
    "@opentelemetry/sdk-trace-web"
  );
  const { OTLPTraceExporter } = await import(
    "@opentelemetry/exporter-trace-otlp-proto/build/src/platform/browser/index.js"
  );
  // SINK is the full traces URL (http://host:port/v1/traces); initTracer uses
  // an explicit endpoint as is, so both modes post to the same URL.
  const provider = new WebTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: env("SINK") })),
    ],
  });
  const tracer = provider.getTracer("bench.trivial");
  const SERVER = 1; // SpanKind.SERVER
  // sdk-full: the same attribute set traceHandler records for this request
  // (what the SDK costs for those attributes, without llmtrace's code).
  const full = mode === "sdk-full";
  // deno-lint-ignore no-explicit-any
  handler = (req, info?: any) => {
    const url = new URL(req.url);
    const attributes: Record<string, string | number> = {
      "http.request.method": req.method,
      "url.path": url.pathname,
      "url.scheme": "http",
    };
    if (full) {
      attributes["server.address"] = url.hostname;
      attributes["server.port"] = Number(url.port);
      attributes["user_agent.original"] = req.headers.get("user-agent") ?? "";
      attributes["client.address"] = info?.remoteAddr?.hostname ??
        info?.requestIP?.(req)?.address ?? "";
    }
    const span = tracer.startSpan(`${req.method} /`, {
      kind: SERVER,
      attributes,
    });
    const res = new Response("ok");
    span.setAttribute("http.response.status_code", 200);
    span.end();
    return res;
  };
} else if (mode !== "untraced") throw new Error(`unknown MODE ${mode}`);
listen(handler);
