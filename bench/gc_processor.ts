// GC cost of initTracer's span processor (issue 23): the SDK's
// BatchSpanProcessor (spans queued as objects, encoded per batch) against
// llmtrace's encode-on-end processor (spans encoded when they end, the queue
// holds bytes), and an untraced baseline running the same loop without spans.
//
//   deno run -A bench/gc_processor.ts      (V8: --trace-gc --trace-gc-nvp)
//   bun bench/gc_processor.ts              (JSC: BUN_JSC_logGC=1)
//
// The parent starts a loopback OTLP sink that discards what it gets, then
// runs each configuration in a child process of the same runtime, alternated,
// REPEATS times. A child makes RATE requests per second shaped like a traced
// streamed chat completion (a SERVER span with 18 attributes and an event,
// lasting LIFE_MS, and a CLIENT child span with 8 attributes and an event),
// for WARMUP_S then MEASURE_S. The measured window starts and ends with a
// forced full GC (the markers; not counted). Reported per child: GC pause
// max, total GC pause time, heap used after the closing full GC, bytes
// allocated on the JS heap per request (2 spans) in the window, RSS.
// Env: RATE (500), WARMUP_S (5), MEASURE_S (20), LIFE_MS (150), REPEATS (2),
// CONFIGS (untraced,sdk,encode), SINK=down (the collector is down: spans
// queue up to the caps, are retried and dropped), INPROC=0 (skip the
// processor-alone comparison), INPROC_REQUESTS (100000), STORE=0 (skip the
// storage comparison), STORE_SPANS (400000).
import { createServer } from "node:http";
import { spawn } from "node:child_process";
import { writeSync } from "node:fs";
import process from "node:process";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isBun = typeof g.Bun !== "undefined";
const env = (k: string) => process.env[k];
const RATE = Number(env("RATE") ?? 500);
const WARMUP_S = Number(env("WARMUP_S") ?? 5);
const MEASURE_S = Number(env("MEASURE_S") ?? 20);
const LIFE_MS = Number(env("LIFE_MS") ?? 150);
const REPEATS = Number(env("REPEATS") ?? 2);
const CONFIGS = (env("CONFIGS") ?? "untraced,sdk,encode").split(",");
const MARK = "@@gc_processor ";

interface ChildResult {
  config: string;
  requests: number;
  heapAfterGc: number;
  /** ArrayBuffer backing stores and other memory outside the JS heap. */
  external?: number;
  rss: number;
  objects?: number;
  nsPerSpan?: number;
  arrayBuffersPerSpan?: number;
  offHeapPerSpan?: number;
}

// ---------------------------------------------------------------- child ---

type Api = typeof import("@opentelemetry/api");
type Tracer = import("@opentelemetry/api").Tracer;
type Span = import("@opentelemetry/api").Span;
const fullGc = () => (isBun ? g.Bun.gc(true) : g.gc());

/** One traced streamed request: start (SERVER + CLIENT span) and end. */
function requestShape(api: Api, tracer: Tracer | undefined) {
  const { SpanKind, ROOT_CONTEXT, trace } = api;
  let n = 0;
  const start = (): { i: number; server?: Span; client?: Span } => {
    const i = n++;
    if (!tracer) return { i };
    const server = tracer.startSpan("POST /v1/chat/completions", {
      kind: SpanKind.SERVER,
      attributes: {
        "http.request.method": "POST",
        "url.path": "/v1/chat/completions",
        "url.scheme": "http",
        "server.address": "127.0.0.1",
        "server.port": 8000,
        "client.address": `10.0.${(i >> 8) & 255}.${i & 255}`,
        "user_agent.original": "bench-client/1.0",
        "http.route": "/v1/chat/completions",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "bench-model",
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.temperature": 0.7,
      },
    });
    const client = tracer.startSpan("POST", {
      kind: SpanKind.CLIENT,
      attributes: {
        "http.request.method": "POST",
        "url.full": "http://127.0.0.1:9000/v1/chat/completions",
        "server.address": "127.0.0.1",
        "server.port": 9000,
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "bench-model",
      },
    }, trace.setSpan(ROOT_CONTEXT, server));
    return { i, server, client };
  };
  const end = (r: ReturnType<typeof start>) => {
    if (!r.server || !r.client) return;
    r.client.addEvent("gen_ai.first_chunk");
    r.client.setAttributes({
      "http.response.status_code": 200,
      "gen_ai.response.id": `chatcmpl-${r.i}`,
    });
    r.client.end();
    r.server.addEvent("gen_ai.first_token", { "gen_ai.chunk.index": 0 });
    r.server.setAttributes({
      "http.response.status_code": 200,
      "gen_ai.response.model": "bench-model",
      "gen_ai.response.id": `chatcmpl-${r.i}`,
      "gen_ai.response.finish_reasons": ["stop"],
      "gen_ai.usage.input_tokens": 12 + (r.i & 7),
      "gen_ai.usage.output_tokens": 64,
      "gen_ai.latency.time_to_first_token": 0.01 + (r.i & 15) / 1000,
      "llmtrace.response.chunks": 66,
    });
    r.server.end();
  };
  return { start, end };
}

async function child(config: string, endpoint: string): Promise<void> {
  const api = await import("@opentelemetry/api");
  let tracer: Tracer | undefined;
  let shutdown = async () => {};
  if (config !== "untraced") {
    process.env.LLMTRACE_SPAN_PROCESSOR = config;
    const mod = await import("../mod.ts");
    tracer = await mod.initTracer("bench.gc", endpoint, undefined, {
      flushOnExit: false,
    });
    shutdown = mod.shutdownTracing;
  }
  const { start, end } = requestShape(api, tracer);

  const TICK = 10;
  const perTick = RATE * TICK / 1000;
  const life = Math.max(1, Math.round(LIFE_MS / TICK));
  const open: ReturnType<typeof start>[][] = [];
  let carry = 0;
  let measuring = false;
  let measured = 0;
  const tick = () => {
    carry += perTick;
    const batch: ReturnType<typeof start>[] = [];
    for (; carry >= 1; carry--) batch.push(start());
    open.push(batch);
    if (open.length > life) {
      const done = open.shift()!;
      for (const r of done) end(r);
      if (measuring) measured += done.length;
    }
  };
  const timer = setInterval(tick, TICK);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await sleep(WARMUP_S * 1000);
  fullGc(); // the window's opening marker
  if (isBun) writeSync(2, `${MARK}start\n`);
  measuring = true;
  await sleep(MEASURE_S * 1000);
  measuring = false;
  fullGc(); // the closing marker
  if (isBun) writeSync(2, `${MARK}end\n`);
  const mem = process.memoryUsage();
  const result: ChildResult = {
    config,
    requests: measured,
    heapAfterGc: mem.heapUsed,
    external: mem.external,
    rss: mem.rss,
  };
  if (isBun) {
    const { heapStats } = await import("bun:jsc" as string);
    result.objects = heapStats().objectCount;
  }
  clearInterval(timer);
  await shutdown();
  writeSync(2, `${MARK}${JSON.stringify(result)}\n`);
}

/**
 * The processor alone, in process: requests (2 spans each, ended at once)
 * through a provider whose processor is none (spans dropped at end), the
 * SDK's BatchSpanProcessor or the encode-on-end one, batches "sent" to an
 * exporter that encodes (the SDK's case, with llmtrace's writer) and answers
 * at once: no network, no timers racing. Yields every 50 requests so
 * batches go out as they fill.
 */
async function inprocChild(kind: string): Promise<void> {
  const api = await import("@opentelemetry/api");
  const sdk = await import("@opentelemetry/sdk-trace-base");
  const { EncodingSpanProcessor } = await import(
    "../src/otlp/encoding_processor.ts"
  );
  const { createOtlpSpanWriter } = await import("../src/otlp/writer.ts");
  const writer = createOtlpSpanWriter();
  let bytes = 0;
  const ok = { code: 0 };
  const processor = kind === "sdk"
    ? new sdk.BatchSpanProcessor({
      export(spans, done) {
        bytes += writer.serializeRequest(spans).length;
        done(ok);
      },
      shutdown: () => Promise.resolve(),
    }, { maxExportBatchSize: 128 })
    : kind === "encode"
    ? new EncodingSpanProcessor({
      export(batch, done) {
        bytes += batch.body.length;
        done(ok);
      },
      shutdown: () => Promise.resolve(),
    }, {
      scheduledDelayMillis: 5000,
      maxQueueSize: 2048,
      maxQueueBytes: 1 << 22,
      maxExportBatchSize: 128,
      exportTimeoutMillis: 30000,
    })
    : {
      onStart() {},
      onEnd() {},
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
  const provider = new sdk.BasicTracerProvider({
    spanProcessors: [processor],
  });
  const { start, end } = requestShape(api, provider.getTracer("bench"));
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) {
      // Both processors finish a batch in microtasks (the exporter answers
      // at once): yielding to them is enough, and costs no timer.
      if (i % 50 === 0) await Promise.resolve();
      end(start());
    }
  };
  const N = Number(env("INPROC_REQUESTS") ?? 100_000);
  await run(20_000);
  fullGc();
  if (isBun) writeSync(2, `${MARK}start\n`);
  const t0 = performance.now();
  await run(N);
  const ms = performance.now() - t0;
  fullGc();
  if (isBun) writeSync(2, `${MARK}end\n`);
  await provider.forceFlush();
  writeSync(
    2,
    `${MARK}${
      JSON.stringify({
        config: kind,
        requests: N,
        nsPerSpan: ms * 1e6 / N / 2,
        offHeapPerSpan: bytes,
        heapAfterGc: process.memoryUsage().heapUsed,
        rss: process.memoryUsage().rss,
      })
    }\n`,
  );
}

/**
 * How the encoded spans are stored: `arena` (the queue llmtrace ships: one
 * growing buffer, offsets in typed arrays) or `slices` (one `Uint8Array`
 * copy per span, concatenated per batch). Encodes the same 512 ended spans
 * over and over, a batch taken every 128, and reports what that allocates.
 */
async function storeChild(kind: string): Promise<void> {
  const api = await import("@opentelemetry/api");
  const sdk = await import("@opentelemetry/sdk-trace-base");
  const { EncodedSpanQueue } = await import("../src/otlp/encoded_queue.ts");
  const { ProtoWriter } = await import("../src/otlp/proto_writer.ts");
  const { writeFramedSpan, DOUBLE_ATTRIBUTE_KEYS } = await import(
    "../src/otlp/writer.ts"
  );
  const { NESTED_BUDGET } = await import("../src/otlp/key_values.ts");
  const exporter = new sdk.InMemorySpanExporter();
  const provider = new sdk.BasicTracerProvider({
    spanProcessors: [new sdk.SimpleSpanProcessor(exporter)],
  });
  const { start, end } = requestShape(api, provider.getTracer("bench"));
  for (let i = 0; i < 256; i++) end(start());
  const spans = exporter.getFinishedSpans();
  const BATCH = 128;
  let push: (span: (typeof spans)[number]) => void;
  let arrayBuffers = 0;
  let offHeap = 0;
  if (kind === "arena") {
    const q = new EncodedSpanQueue(2048, 1 << 24);
    push = (span) => {
      q.push(span);
      if (q.count >= BATCH) {
        const b = q.take(BATCH)!;
        arrayBuffers++;
        offHeap += b.body.length;
      }
    };
  } else {
    const w = new ProtoWriter();
    const st = {
      doubleKeys: DOUBLE_ATTRIBUTE_KEYS,
      budget: NESTED_BUDGET,
      keys: new Map(),
    };
    let list: Uint8Array[] = [];
    let bytes = 0;
    push = (span) => {
      w.pos = 0;
      st.budget = NESTED_BUDGET;
      writeFramedSpan(w, span, st);
      const slice = w.finish();
      arrayBuffers++;
      offHeap += slice.length;
      list.push(slice);
      bytes += slice.length;
      if (list.length >= BATCH) {
        const body = new Uint8Array(bytes + 64); // + the request's framing
        let at = 64;
        for (const x of list) {
          body.set(x, at);
          at += x.length;
        }
        arrayBuffers++;
        offHeap += body.length;
        list = [];
        bytes = 0;
      }
    };
  }
  const N = Number(env("STORE_SPANS") ?? 400_000);
  for (let i = 0; i < 100_000; i++) push(spans[i % spans.length]);
  arrayBuffers = offHeap = 0;
  fullGc();
  if (isBun) writeSync(2, `${MARK}start\n`);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) push(spans[i % spans.length]);
  const ms = performance.now() - t0;
  fullGc();
  if (isBun) writeSync(2, `${MARK}end\n`);
  writeSync(
    2,
    `${MARK}${
      JSON.stringify({
        config: kind,
        requests: N,
        nsPerSpan: ms * 1e6 / N,
        arrayBuffersPerSpan: arrayBuffers / N,
        offHeapPerSpan: offHeap / N,
        heapAfterGc: process.memoryUsage().heapUsed,
        rss: process.memoryUsage().rss,
      })
    }\n`,
  );
}

// ---------------------------------------------------------------- parse ---

interface GcStats {
  pauses: number;
  /** Full (major) collections among them. */
  major: number;
  pauseMax: number;
  pauseTotal: number;
  list: number[];
  allocated: number;
}

const emptyStats = (): GcStats => ({
  pauses: 0,
  major: 0,
  pauseMax: 0,
  pauseTotal: 0,
  list: [],
  allocated: 0,
});

function count(s: GcStats, pause: number, major: boolean): void {
  s.pauses++;
  if (major) s.major++;
  s.pauseTotal += pause;
  s.pauseMax = Math.max(s.pauseMax, pause);
  s.list.push(pause);
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const a = [...xs].sort((x, y) => x - y);
  return a[a.length >> 1];
}

/**
 * V8 `--trace-gc-nvp`: the window lies between two `"reason":"testing"` GCs.
 * Allocation between collections is the next one's start size less the
 * last one's end size (the JS heap's objects, not ArrayBuffer contents).
 */
function parseV8(out: string): GcStats {
  const s = emptyStats();
  let inWindow = false;
  let lastEnd: number | undefined;
  for (const line of out.split("\n")) {
    const at = line.indexOf("GC: {");
    if (at < 0) continue;
    let gc: {
      pause: number;
      reason: string;
      gc: string;
      start_object_size: number;
      end_object_size: number;
    };
    try {
      gc = JSON.parse(line.slice(at + 4));
    } catch {
      continue;
    }
    if (inWindow && lastEnd !== undefined) {
      s.allocated += Math.max(0, gc.start_object_size - lastEnd);
    }
    lastEnd = gc.end_object_size;
    if (gc.reason === "testing") {
      if (inWindow) break;
      inWindow = true;
      continue;
    }
    if (inWindow) count(s, gc.pause, gc.gc !== "s");
  }
  return s;
}

/**
 * JSC `BUN_JSC_logGC=1` on stderr, between the child's markers (stderr is
 * unbuffered on both sides, so the order holds). The closing marker's full
 * GC is logged after the marker line; allocation between collections is the
 * next START size less the last END size.
 */
function parseJsc(err: string): GcStats {
  const s = emptyStats();
  let inWindow = false;
  let lastEnd: number | undefined;
  let closing = false;
  for (const line of err.split("\n")) {
    if (line.startsWith(`${MARK}start`)) {
      inWindow = true;
      continue;
    }
    if (line.startsWith(`${MARK}end`)) {
      closing = true;
      continue;
    }
    const m = /START \w+ (\d+)kb => (\w+),.*=> (\d+)kb, p=([\d.]+)ms/.exec(
      line,
    );
    if (!m) continue;
    const before = Number(m[1]) * 1024;
    const after = Number(m[3]) * 1024;
    if (inWindow && lastEnd !== undefined) {
      s.allocated += Math.max(0, before - lastEnd);
    }
    lastEnd = after;
    if (!inWindow) continue;
    if (closing) break; // the closing full GC: allocation counted, not its pause
    count(s, Number(m[4]), m[2] !== "EdenCollection");
  }
  return s;
}

// --------------------------------------------------------------- parent ---

function runChild(mode: string, config: string, endpoint = ""): Promise<{
  r: ChildResult;
  gc: GcStats;
}> {
  const self = new URL(import.meta.url).pathname;
  const args = isBun ? [self, mode, config, endpoint] : [
    "run",
    "-A",
    "--v8-flags=--trace-gc,--trace-gc-nvp,--expose-gc",
    self,
    mode,
    config,
    endpoint,
  ];
  const childEnv = { ...process.env, OTEL_METRICS_EXPORTER: "none" } as Record<
    string,
    string
  >;
  if (isBun) childEnv.BUN_JSC_logGC = "1";
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { env: childEnv });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Uint8Array) => (out += d));
    p.stderr.on("data", (d: Uint8Array) => (err += d));
    const limit = setTimeout(
      () => p.kill("SIGKILL"),
      (WARMUP_S + MEASURE_S + 60) * 1000,
    );
    p.on("close", (code: number) => {
      clearTimeout(limit);
      const line = err.split("\n").find((l) => l.startsWith(`${MARK}{`));
      if (code !== 0 || !line) {
        return reject(
          new Error(`${config} child exited ${code}: ${err.slice(-2000)}`),
        );
      }
      const r = JSON.parse(line.slice(MARK.length)) as ChildResult;
      resolve({ r, gc: isBun ? parseJsc(err) : parseV8(out) });
    });
  });
}

async function parent(): Promise<void> {
  let received = 0;
  const sink = createServer((req, res) => {
    req.on("data", (d: Uint8Array) => (received += d.length));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/x-protobuf" });
      res.end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
  let port = (sink.address() as { port: number }).port;
  const down = env("SINK") === "down";
  if (down) {
    // The collector is down: a port nothing listens on (retries, then drops).
    sink.close();
    port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
  }
  const endpoint = `http://127.0.0.1:${port}/v1/traces`;
  const runtime = isBun
    ? `Bun ${g.Bun.version}`
    : `Deno ${g.Deno.version.deno}`;
  console.log(
    `${runtime}: ${RATE} req/s (2 spans each), life ${LIFE_MS} ms, warm-up ` +
      `${WARMUP_S} s, measured ${MEASURE_S} s, ${REPEATS} rounds alternated` +
      (down ? ", collector DOWN" : ""),
  );
  const header = "| config | round | GCs (major) | max pause ms | median " +
    "pause ms | GC ms total | GC ms/s | heap after full GC MB | objects " +
    "(JSC) | JS-heap bytes allocated / request | external MB | RSS MB |\n" +
    "|---|---|---|---|---|---|---|---|---|---|---|---|";
  const rows: string[] = [];
  try {
    for (let round = 1; round <= REPEATS; round++) {
      for (const config of CONFIGS) {
        const { r, gc } = await runChild("--child", config, endpoint);
        rows.push(
          `| ${
            [
              config,
              round,
              `${gc.pauses} (${gc.major})`,
              gc.pauseMax.toFixed(2),
              median(gc.list).toFixed(2),
              gc.pauseTotal.toFixed(1),
              (gc.pauseTotal / MEASURE_S).toFixed(2),
              (r.heapAfterGc / 1048576).toFixed(2),
              r.objects ?? "–",
              Math.round(gc.allocated / Math.max(1, r.requests)),
              ((r.external ?? 0) / 1048576).toFixed(1),
              (r.rss / 1048576).toFixed(0),
            ].join(" | ")
          } |`,
        );
        console.log(rows.at(-1));
      }
    }
  } finally {
    if (!down) sink.close();
  }
  console.log(`\n${header}\n${rows.join("\n")}`);
  console.log(`sink received ${(received / 1048576).toFixed(1)} MB\n`);
  if (down) return;
  if (env("INPROC") !== "0") {
    const inproc: string[] = [];
    for (const kind of ["none", "sdk", "encode", "none", "sdk", "encode"]) {
      const { r, gc } = await runChild("--inproc", kind);
      inproc.push(
        `| ${
          [
            kind,
            Math.round(gc.allocated / r.requests),
            `${gc.pauses} (${gc.major})`,
            gc.pauseMax.toFixed(2),
            gc.pauseTotal.toFixed(1),
            r.nsPerSpan!.toFixed(0),
            (r.offHeapPerSpan! / 1048576).toFixed(1),
          ].join(" | ")
        } |`,
      );
    }
    console.log(
      "| processor (in process) | JS-heap bytes allocated / request | GCs " +
        "(major) | max pause ms | GC ms total | ns / span (wall) | MB " +
        "exported |\n|---|---|---|---|---|---|---|\n" + inproc.join("\n") +
        "\n",
    );
  }
  if (env("STORE") === "0") return;
  const store: string[] = [];
  for (const kind of ["arena", "slices", "arena", "slices"]) {
    const { r, gc } = await runChild("--store", kind);
    store.push(
      `| ${
        [
          kind,
          Math.round(gc.allocated / r.requests),
          r.arrayBuffersPerSpan!.toFixed(4),
          Math.round(r.offHeapPerSpan!),
          `${gc.pauses} (${gc.major})`,
          gc.pauseTotal.toFixed(1),
          r.nsPerSpan!.toFixed(0),
        ].join(" | ")
      } |`,
    );
  }
  console.log(
    "| storage | JS-heap bytes allocated / span | ArrayBuffers / span | " +
      "off-heap bytes / span | GCs (major) | GC ms total | ns / span |\n" +
      "|---|---|---|---|---|---|---|\n" + store.join("\n"),
  );
}

const argv = process.argv;
const at = argv.indexOf("--child");
const storeAt = argv.indexOf("--store");
const inprocAt = argv.indexOf("--inproc");
if (at >= 0) await child(argv[at + 1], argv[at + 2]);
else if (storeAt >= 0) await storeChild(argv[storeAt + 1]);
else if (inprocAt >= 0) await inprocChild(argv[inprocAt + 1]);
else await parent();
