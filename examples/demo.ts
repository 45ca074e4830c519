/**
 * The one-command demo: an embedded OTLP/HTTP receiver, an inference server,
 * a stand-in for the providers' own APIs and an edge router on loopback
 * ports; a client sends a streamed, a non-streamed, a cancelled and a
 * failing-then-falling-back chat completion, then one streamed call of each
 * other wire API (OpenAI Responses, Anthropic Messages, Gemini) with its
 * official client; each trace is printed as a waterfall. Everything started
 * is stopped; exit 0.
 *
 * `npm run demo` (Deno) or `bun examples/demo.ts`. With
 * `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans also go to that collector. With
 * `--view` (`npm run demo -- --view`), they also go to `llmtrace view`,
 * started in this process on port 4318 (or a free one), and the demo stays
 * up with the page open until Ctrl-C.
 *
 * @module
 */
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-web";
import {
  forceFlush,
  getSpanExporter,
  initTracer,
  metricsHandler,
  shutdownMetrics,
  shutdownTracing,
  startMetrics,
} from "../mod.ts";
import { startOtlpReceiver } from "../tests/support/otlp_receiver.ts";
import { startOtlpMetricsReceiver } from "../tests/support/otlp_metrics.ts";
import { deadPort, serveLoopback } from "../tests/support/servers.ts";
import { summarizeMetrics } from "./metrics_summary.ts";
import { chat } from "./client.ts";
import { streamOnce, type WireApi } from "./wire_clients.ts";
import {
  ANTHROPIC_MODEL,
  GEMINI_MODEL,
  wireUpstream,
} from "../tests/support/wire_apis.ts";
import { createInferenceServer } from "./inference_server.ts";
import { createRouter } from "./router.ts";
import { palette, renderWaterfall } from "./waterfall.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const env: Record<string, string | undefined> = g.process?.env ?? {};
const isTty = g.Deno
  ? g.Deno.stdout.isTerminal()
  : Boolean(g.process?.stdout?.isTTY);
const p = palette(isTty && !env.NO_COLOR);
const log = (s: string) => console.log(s);
const args: string[] = g.Deno?.args ?? g.process?.argv.slice(2) ?? [];
const withView = args.includes("--view");

const receiver = await startOtlpReceiver();
const extra = env.OTEL_EXPORTER_OTLP_ENDPOINT ||
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
  ? [new BatchSpanProcessor(await getSpanExporter())]
  : [];
const viewer = withView ? await startDemoViewer() : undefined;
if (viewer) {
  extra.push(
    new BatchSpanProcessor(await getSpanExporter(viewer.tracesUrl)),
  );
}
// Metrics: pushed over OTLP to the demo's metrics receiver (or to your
// collector), and scraped once at the end for the TTFT / TPOT summary.
// Started before initTracer, which would otherwise start them itself,
// towards the trace receiver.
const metricsReceiver = await startOtlpMetricsReceiver();
await startMetrics({
  serviceName: "llmtrace.demo",
  endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT ||
      env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT
    ? undefined
    : metricsReceiver.url,
  flushOnExit: false,
});
await initTracer("llmtrace.demo", receiver.url, undefined, {
  spanProcessors: extra,
});
const scrapeMetrics = metricsHandler();

const engine = await serveLoopback(createInferenceServer({
  slots: 1,
  prefillMs: 25,
  decodeMsPerToken: 6,
}));
// The providers' APIs, answering their documented examples (first content
// after 30 ms, then a token every 3 ms).
const providers = await serveLoopback(
  wireUpstream({ firstContentDelayMs: 30, delayMs: 3 }).handler,
);
const dead = await deadPort();
const router = await serveLoopback(createRouter({
  routes: {
    "llmtrace/demo-7b-flaky": [`http://127.0.0.1:${dead}`, engine.origin],
    "gpt-4.1": [providers.origin],
    [ANTHROPIC_MODEL]: [providers.origin],
    [GEMINI_MODEL]: [providers.origin],
  },
  fallback: [engine.origin],
  // The engine is vLLM; the providers are told by the wire API they speak.
  providerName: (upstream) => upstream === engine.origin ? "vllm" : undefined,
}));
log(p.bold("llmtrace demo"));
// Every line fits 100 columns.
log(p.dim(`receiver ${receiver.url}`));
log(p.dim(`inference server ${engine.origin} · router ${router.origin}`));
log(p.dim(`provider APIs ${providers.origin}`));
if (extra.length > (viewer ? 1 : 0)) {
  log(p.dim("also exporting to your collector"));
}

const baseURL = `${router.origin}/v1`;
const runs = [
  {
    label: "streamed",
    call: { baseURL, model: "llmtrace/demo-7b", stream: true },
  },
  {
    label: "non-streamed",
    call: { baseURL, model: "llmtrace/demo-7b", stream: false },
  },
  {
    label: "cancelled by the client",
    call: {
      baseURL,
      model: "llmtrace/demo-7b",
      stream: true,
      cancelAfterChunks: 3,
    },
  },
  {
    label: "upstream down, falls back",
    call: { baseURL, model: "llmtrace/demo-7b-flaky", stream: true },
  },
];
let ok = true;
for (const r of runs) {
  try {
    const res = await chat({ ...r.call, spanName: `client ${r.label}` });
    const tokens = String(res.completionTokens ?? "-").padStart(4);
    log(
      `${r.label.padEnd(26)} ` +
        p.dim(`trace ${res.traceId} ${tokens} tok `) +
        JSON.stringify(res.text.slice(0, 20)),
    );
  } catch (e) {
    ok = false;
    log(p.err(`${r.label}: ${e}`));
  }
}

const apis: [WireApi, string, string][] = [
  ["responses", "gpt-4.1", "responses API, streamed"],
  ["messages", ANTHROPIC_MODEL, "messages API, streamed"],
  ["gemini", GEMINI_MODEL, "gemini API, streamed"],
];
for (const [api, model, label] of apis) {
  try {
    const res = await streamOnce(api, router.origin, model);
    const tokens = String(res.outputTokens ?? "-").padStart(4);
    log(
      `${label.padEnd(26)} ` +
        p.dim(`trace ${res.traceId} ${tokens} tok `) +
        JSON.stringify(res.text.slice(0, 20)),
    );
  } catch (e) {
    ok = false;
    log(p.err(`${label}: ${e}`));
  }
}

// Spans of a cancelled stream end when the cancel reaches them; give them a
// moment, then flush and wait (bounded) for all of them: 21 in the four chat
// traces, 3 in each other API's (client, router, router's upstream call).
const expected = 21 + 3 * apis.length;
await new Promise((r) => setTimeout(r, 100));
await forceFlush();
try {
  await receiver.waitForSpans((s) => s.length >= expected, {
    timeoutMs: 10_000,
  });
} catch {
  ok = false;
  log(p.err(`expected ${expected} spans, received ${receiver.spans().length}`));
}
log("");
log(renderWaterfall(receiver.spans(), p, 100));
log(p.dim(
  `${receiver.spans().length} spans in ${
    new Set(receiver.spans().map((s) => s.traceId)).size
  } traces`,
));

log("");
const scraped = await scrapeMetrics(new Request("http://demo/metrics"));
const names = { [engine.port]: "inference server", [router.port]: "router" };
for (const line of summarizeMetrics(await scraped.text(), p, names)) log(line);

await router.stop();
await engine.stop();
await providers.stop();
await shutdownTracing();
await shutdownMetrics();
await receiver.close();
await metricsReceiver.close();
if (viewer) {
  log("");
  log(
    p.bold(`llmtrace view: open ${viewer.url}`) + p.dim("  (Ctrl-C to stop)"),
  );
} else if (!ok) g.process?.exit?.(1);

// The viewer on OTLP's port when it is free (other programs' traces then
// show up too), else on any free port.
async function startDemoViewer() {
  const { startViewer } = await import("../view.ts");
  try {
    return await startViewer({ port: 4318 });
  } catch {
    return await startViewer({ port: 0 });
  }
}
