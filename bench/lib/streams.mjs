// What the streaming sections (llm, paced, unpinned) share: their
// configurations (direct and behind a router), starting a configuration's
// server, and the run loop over repeats and configurations.
import {
  ALT,
  BUN,
  CLIENT_CORE,
  DENO,
  kill,
  log,
  noteLoad,
  prepareConfigs,
  REPEATS,
  startServer,
  WARMUP,
} from "./harness.mjs";
import {
  metricPosts,
  METRICS_EVERY_1S,
  sinkReset,
  sinkStats,
  sseLoad,
} from "./load.mjs";
import { f3 } from "./stats.mjs";

// The streaming configurations of sections 2 and 2b: per runtime, the server
// direct (untraced, traceHandler) and behind a router (plain fetch,
// traceHandler + tracedFetch), plus "[alt]" rows with BENCH_ALT_MOD.
// `metrics`: the direct traced server also with metrics off and with metrics
// exported every second (section 2b); `only`: just the configs so named.
export function streamConfigs(traces, { metrics = false, only } = {}) {
  const configs = [];
  for (const rt of ["deno", "bun"]) {
    if (rt === "deno" ? !DENO : !BUN) continue;
    configs.push({ rt, name: "direct, untraced", env: { MODE: "untraced" } });
    configs.push({
      rt,
      name: "direct, traceHandler",
      env: { MODE: "traced", SINK: traces },
    });
    if (metrics) {
      configs.push({
        rt,
        name: "direct, traceHandler, metrics off",
        env: { MODE: "traced", SINK: traces, OTEL_METRICS_EXPORTER: "none" },
      });
      configs.push({
        rt,
        name: "direct, traceHandler + metrics (OTLP every 1 s)",
        env: { MODE: "traced", SINK: traces, ...METRICS_EVERY_1S },
      });
    }
    if (ALT) {
      configs.push({
        rt,
        name: "direct, traceHandler [alt]",
        env: { MODE: "traced", SINK: traces, LLMTRACE_MOD: ALT },
      });
    }
    configs.push({
      rt,
      name: "router, plain fetch",
      env: { MODE: "router" },
      router: true,
    });
    configs.push({
      rt,
      name: "router, traceHandler + tracedFetch",
      env: { MODE: "router-traced", SINK: traces },
      router: true,
    });
    if (ALT) {
      configs.push({
        rt,
        name: "router, traceHandler + tracedFetch [alt]",
        env: { MODE: "router-traced", SINK: traces, LLMTRACE_MOD: ALT },
        router: true,
      });
    }
  }
  return prepareConfigs(configs, only);
}

// Starts the server of a streaming configuration (and, for a router, its
// untraced upstream on the client core); `extra` (pacing) goes to whichever
// generates the answer.
export async function startStream(c, extra = {}) {
  const env = { ...c.env };
  let upstream;
  if (c.router) {
    upstream = await startServer(c.rt, "bench/servers/llm.ts", {
      MODE: "untraced",
      ...extra,
    }, CLIENT_CORE);
    env.UPSTREAM = `http://127.0.0.1:${upstream.port}`;
  } else Object.assign(env, extra);
  const srv = await startServer(c.rt, "bench/servers/llm.ts", env);
  return {
    srv,
    upstream,
    url: `http://127.0.0.1:${srv.port}/v1/chat/completions`,
  };
}

// Sections 2 and 2b share one run loop: per repeat and config, start the
// server (and router upstream), reset the sink, run the SSE load, and read
// the spans the sink received and the server's loop lag. `extra(url, j)`
// adds section-specific measurements to the report; `describe(j)` is the
// log line; `configs` (default streamConfigs) and `repeats` (REPEATS).
export async function streamSection(label, sink, opts) {
  const traces = `http://127.0.0.1:${sink.port}/v1/traces`;
  const configs = opts.configs ?? streamConfigs(traces);
  for (let rep = 0; rep < (opts.repeats ?? REPEATS); rep++) {
    for (const c of configs) {
      const name = `${label} ${c.rt} ${c.name} #${rep + 1}`;
      noteLoad(name);
      let upstream;
      let srv;
      try {
        let url;
        ({ srv, upstream, url } = await startStream(c, opts.env));
        await sinkReset(sink);
        const j = await sseLoad(
          url,
          opts.clients,
          opts.duration,
          WARMUP * 1000,
          srv,
        );
        const st = await sinkStats(sink);
        j.spans = st.spans;
        j.metricPosts = metricPosts(st);
        await opts.extra?.(url, j);
        c.runs.push(j);
        log(
          `${name}: ${opts.describe(j)}; lag max ${f3(j.lag?.max)} p99 ${
            f3(j.lag?.p99)
          } ms; metric posts ${j.metricPosts}`,
        );
      } finally {
        await kill(srv);
        await kill(upstream);
      }
    }
  }
  return configs;
}
