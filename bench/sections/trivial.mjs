// Section 1 ("trivial"): `new Response("ok")` under wrk, untraced vs
// traceHandler in its configurations and the official web SDK by hand.
import {
  ALT,
  BUN,
  DENO,
  DURATION,
  kill,
  lagRead,
  LOADGEN,
  log,
  noteLoad,
  prepareConfigs,
  REPEATS,
  results,
  startServer,
  WARMUP,
} from "../lib/harness.mjs";
import {
  CONNS,
  httpLoad,
  metricPosts,
  METRICS_EVERY_1S,
  sinkReset,
  sinkStats,
} from "../lib/load.mjs";
import { f0, f2, f3, max, median, min } from "../lib/stats.mjs";
import { lagCells, metricsLine } from "../lib/report.mjs";

// The configurations of section 1 (and, `only` some of them, of the
// unpinned section).
export function trivialConfigs(traces, sinkPort, only) {
  const configs = [];
  for (const rt of ["deno", "bun"]) {
    if (rt === "deno" ? !DENO : !BUN) continue;
    configs.push({ rt, name: "untraced", env: { MODE: "untraced" } });
    configs.push({
      rt,
      name: "traceHandler, tracing off",
      env: { MODE: "disabled" },
    });
    configs.push({
      rt,
      name: "traceHandler + initTracer",
      env: { MODE: "traced", SINK: traces },
    });
    // initTracer starts metrics too (OTLP every 60 s by default, so no
    // export falls inside a measured window): here every second.
    configs.push({
      rt,
      name: "traceHandler + initTracer + metrics (OTLP every 1 s)",
      env: { MODE: "traced", SINK: traces, ...METRICS_EVERY_1S },
    });
    // Anchor: the official web SDK by hand (bench/servers/trivial.ts MODE=sdk),
    // same BatchSpanProcessor + OTLP exporter, same sink URL.
    configs.push({
      rt,
      name: "web SDK by hand (3 attributes), no traceHandler",
      env: { MODE: "sdk", SINK: traces },
    });
    configs.push({
      rt,
      name: "web SDK by hand, traceHandler's 8 attributes",
      env: { MODE: "sdk-full", SINK: traces },
    });
    if (ALT) {
      configs.push({
        rt,
        name: "traceHandler, tracing off [alt]",
        env: { MODE: "disabled", LLMTRACE_MOD: ALT },
      });
      configs.push({
        rt,
        name: "traceHandler + initTracer [alt]",
        env: { MODE: "traced", SINK: traces, LLMTRACE_MOD: ALT },
      });
    }
    if (rt === "deno") {
      configs.push({
        rt,
        name: "OTEL_DENO=true (built-in), untraced handler",
        env: {
          MODE: "untraced",
          OTEL_DENO: "true",
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
          OTEL_SERVICE_NAME: "bench.deno-otel",
        },
      });
    }
  }
  return prepareConfigs(configs, only);
}

// Per repeat and config: a fresh server, a warm-up, a lag read (discarded:
// it opens the window), the measured load, a lag read.
export async function trivialRuns(label, configs, sink, repeats) {
  for (let rep = 0; rep < repeats; rep++) {
    for (const c of configs) {
      noteLoad(`${label} ${c.rt} ${c.name} #${rep + 1}`);
      const srv = await startServer(c.rt, "bench/servers/trivial.ts", c.env);
      try {
        await httpLoad(srv.port, WARMUP);
        await sinkReset(sink);
        await lagRead(srv);
        const r = await httpLoad(srv.port, DURATION);
        r.lag = await lagRead(srv);
        const st = await sinkStats(sink);
        r.spans = st.spans;
        r.metricPosts = metricPosts(st);
        r.coverage = st.spans / (r.rps * DURATION);
        c.runs.push(r);
        log(
          `${label} ${c.rt} ${c.name} #${rep + 1}: ${f0(r.rps)} req/s p50 ${
            f3(r.p50)
          } ms p99 ${
            f3(r.p99)
          } ms spans ${st.spans} metric posts ${r.metricPosts} lag max ${
            f3(r.lag?.max)
          } p99 ${f3(r.lag?.p99)} ms`,
        );
      } finally {
        await kill(srv);
      }
    }
  }
  return configs;
}

export async function run(sink) {
  const traces = `http://127.0.0.1:${sink.port}/v1/traces`;
  results.trivial = await trivialRuns(
    "trivial",
    trivialConfigs(traces, sink.port),
    sink,
    REPEATS,
  );
}

export function trivialTable(L, configs) {
  L.push(
    "| runtime | config | req/s median | min – max | ratio | p50 ms | p99 ms | spans/req | max loop lag ms | p99 lag ms |",
  );
  L.push("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const rt of ["deno", "bun"]) {
    const cs = configs.filter((c) => c.rt === rt);
    if (!cs.length) continue;
    const base = median(cs[0].runs.map((r) => r.rps));
    for (const c of cs) {
      const rps = c.runs.map((r) => r.rps);
      L.push(
        `| ${rt} | ${c.name} | ${f0(median(rps))} | ${f0(min(rps))} – ${
          f0(max(rps))
        } | **${f3(median(rps) / base)}** | ${
          f3(median(c.runs.map((r) => r.p50)))
        } | ${f3(median(c.runs.map((r) => r.p99)))} | ${
          f2(median(c.runs.map((r) => r.coverage)))
        } | ${lagCells(c)} |`,
      );
    }
  }
  L.push("");
}

export function report(L, { lagText }) {
  if (results.trivial) {
    L.push('## 1. Trivial handler (`new Response("ok")`)', "");
    L.push(
      `${
        LOADGEN === "wrk" ? "wrk" : "autocannon"
      }, ${CONNS} keep-alive connections, 1 thread. "spans/req" is spans the sink received during the measured window divided by requests served (a check that traced configs really export). "web SDK by hand" is an anchor, not llmtrace: the untraced handler with one server span (3 attributes, status code) started and ended by hand with the official OpenTelemetry \`WebTracerProvider\` + \`BatchSpanProcessor\` + OTLP/HTTP protobuf exporter, sending to the same sink, i.e. what a straightforward SDK-instrumented handler costs; "traceHandler's 8 attributes" is the same with the attribute set traceHandler records for this request (method, path, scheme, server address and port, user agent, client address, status), so the gap between it and traceHandler is llmtrace's own code.`,
      "",
    );
    if (LOADGEN !== "wrk") {
      L.push(
        "autocannon (Node) saturates one core at roughly 80k req/s, below what Deno.serve/Bun.serve answer untraced, so untraced rows are load-generator bound and ratios read high; its latencies have 1 ms resolution. Install wrk for real numbers.",
        "",
      );
    }
    L.push(
      `"traceHandler + initTracer" is initTracer's default, which starts metrics too: traceHandler records GenAI histograms only for GenAI operations, so none here, and the OTLP metric export runs every 60 s, i.e. never inside a window. "+ metrics (OTLP every 1 s)" sets \`OTEL_METRIC_EXPORT_INTERVAL=1000\`, so the metrics pipeline exports to the same sink (…/v1/metrics) during the window.`,
      "",
      lagText(),
      "",
    );
    trivialTable(L, results.trivial);
    metricsLine(L, results.trivial);
  }
}
