// Heap allocations per request, traced against untraced, in-process (no
// sockets on the request path): a chat-completions handler that reads its
// JSON body and answers either JSON or a short SSE stream (8 content events,
// usage, [DONE]), called directly and its body read to the end; and a router
// in front of it (traced: traceHandler + tracedFetch with an in-process
// `fetch`, so the SERVER and CLIENT spans follow one stream).
//
//   deno run -A bench/alloc.ts      bun bench/alloc.ts
//
// Each (config, measurement) runs in a fresh child process of the same
// runtime, so the untraced numbers never see the SDK loaded:
// - allocated per request: Deno, bytes from `node:v8`
//   `getHeapStatistics().total_allocated_bytes` over N requests; Bun, objects
//   by type from `bun:jsc` `heapStats().objectTypeCounts` in a child started
//   with `BUN_JSC_useGC=0` (nothing is collected, so the count is every cell
//   allocated; N is capped at BUN_NOGC_N to bound memory).
// - retained per in-flight request: K SSE requests held open after their
//   first event, a full GC, the heap (Deno: `heapUsed` bytes after `gc()`;
//   Bun: object counts and heap size after `Bun.gc(true)`) against the same
//   point before them, divided by K; then the same after they have ended.
// Traced: `initTracer` with a loopback OTLP sink in the child; the batch
// processor's delay and batch size are raised above N so no export runs in a
// measured window (exports are per batch, not per request; see export.ts).
// Metrics are on (the default), so each request also reports a measurement.
// ALLOC_MOD=/path/to/mod.ts measures another tree (e.g. a `git archive` of
// the base commit with a node_modules symlink).

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isDeno = g.Deno !== undefined;
const env = (k: string): string | undefined =>
  isDeno ? g.Deno.env.get(k) : g.process.env[k];
const N = Number(env("N") ?? 20_000);
const K = Number(env("K") ?? 1_000);
const BUN_NOGC_N = Number(env("BUN_NOGC_N") ?? 2_000);
const WARMUP = Number(env("WARMUP") ?? 2_000);
const MOD = env("ALLOC_MOD");
const selfPath = isDeno
  ? new URL(import.meta.url).pathname
  : (import.meta as unknown as { path: string }).path;

type Counts = Record<string, number>;
interface Measured {
  config: string;
  what: string;
  scenario: string;
  n: number;
  bytes: number;
  objects?: number;
  types?: Counts;
}

// ---------------------------------------------------------------- parent
async function parent(): Promise<void> {
  const runtime = isDeno ? "deno" : "bun";
  const rows: Measured[] = [];
  for (const config of ["untraced", "traced"]) {
    for (const what of ["allocated", "retained"]) {
      rows.push(...await child(config, what));
    }
  }
  console.log(
    `${runtime}${MOD ? ` (${MOD})` : ""}: N=${
      isDeno ? N : Math.min(N, BUN_NOGC_N)
    } sequential requests per scenario after ${WARMUP} warm-up, K=${K} in flight`,
  );
  // Bun's heap size means nothing while nothing is collected: objects only.
  const unit = (r: Measured) =>
    r.objects === undefined
      ? `${(r.bytes / r.n).toFixed(0)} B`
      : r.what === "allocated"
      ? `${(r.objects / r.n).toFixed(1)} objects`
      : `${(r.objects / r.n).toFixed(1)} objects, ${
        (r.bytes / r.n).toFixed(0)
      } B`;
  for (const what of ["allocated", "retained", "retained-after-end"]) {
    for (const scenario of SCENARIOS) {
      const u = rows.find((r) =>
        r.config === "untraced" && r.what === what && r.scenario === scenario
      );
      const t = rows.find((r) =>
        r.config === "traced" && r.what === what && r.scenario === scenario
      );
      if (!u || !t) continue;
      let line = `${what.padEnd(18)} ${scenario.padEnd(6)} untraced ${
        unit(u)
      } | traced ${unit(t)} | tracing adds`;
      if (t.objects === undefined || what !== "allocated") {
        line += ` ${((t.bytes / t.n) - (u.bytes / u.n)).toFixed(0)} B`;
      }
      if (t.objects !== undefined && u.objects !== undefined) {
        line += ` ${
          ((t.objects / t.n) - (u.objects / u.n)).toFixed(1)
        } objects`;
        const diff: Counts = {};
        for (
          const k of new Set([
            ...Object.keys(t.types!),
            ...Object.keys(u.types!),
          ])
        ) {
          const d = (t.types![k] ?? 0) / t.n - (u.types![k] ?? 0) / u.n;
          if (Math.abs(d) >= 0.5) diff[k] = Math.round(d * 10) / 10;
        }
        const top = Object.entries(diff).sort((a, b) =>
          Math.abs(b[1]) - Math.abs(a[1])
        ).slice(0, 8).map(([k, v]) => `${k} ${v}`).join(", ");
        line += ` (${top})`;
      }
      console.log(line);
    }
  }
  console.log(
    "JSON " + JSON.stringify(rows.map((r) => ({ ...r, types: undefined }))),
  );
}

async function child(config: string, what: string): Promise<Measured[]> {
  const childEnv: Record<string, string> = {
    ALLOC_CHILD: config,
    ALLOC_WHAT: what,
    OTEL_BSP_SCHEDULE_DELAY: "600000",
    OTEL_BSP_MAX_QUEUE_SIZE: String(4 * (N + WARMUP + K)),
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: String(4 * (N + WARMUP + K)),
    OTEL_METRIC_EXPORT_INTERVAL: "600000",
  };
  if (!isDeno && what === "allocated") childEnv.BUN_JSC_useGC = "0";
  let out: string;
  if (isDeno) {
    const r = await new g.Deno.Command(g.Deno.execPath(), {
      args: ["run", "-A", "--v8-flags=--expose-gc", selfPath],
      env: childEnv,
      stdout: "piped",
      stderr: "inherit",
    }).output();
    out = new TextDecoder().decode(r.stdout);
  } else {
    const p = g.Bun.spawn([process.execPath, selfPath], {
      env: { ...g.process.env, ...childEnv },
      stdout: "pipe",
      stderr: "inherit",
    });
    out = await new Response(p.stdout).text();
    await p.exited;
  }
  const line = out.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) {
    throw new Error(`child ${config}/${what} printed no RESULT:\n${out}`);
  }
  return JSON.parse(line.slice(7));
}

// ----------------------------------------------------------------- child
const enc = new TextEncoder();
const ID =
  `"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m"`;
const EVENTS = [
  enc.encode(
    `data: {${ID},"choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n`,
  ),
  ...Array.from(
    { length: 8 },
    (_, i) =>
      enc.encode(
        `data: {${ID},"choices":[{"index":0,"delta":{"content":"tok${i} "}}]}\n\n`,
      ),
  ),
  enc.encode(
    `data: {${ID},"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n`,
  ),
  enc.encode(
    `data: {${ID},"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}\n\n`,
  ),
  enc.encode("data: [DONE]\n\n"),
];
const JSON_ANSWER =
  `{"id":"chatcmpl-1","object":"chat.completion","created":1,` +
  `"model":"m","choices":[{"index":0,"message":{"role":"assistant",` +
  `"content":"tok0 tok1 tok2 tok3"},"finish_reason":"stop"}],` +
  `"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}`;
const body = (stream: boolean) =>
  JSON.stringify({
    model: "m",
    stream,
    messages: [{ role: "user", content: "Say four tokens." }],
    max_tokens: 8,
  });
const BODIES = { json: body(false), sse: body(true) };
const URL_ = "http://127.0.0.1:8000/v1/chat/completions";
const HEADERS = { "content-type": "application/json", "user-agent": "alloc" };
// What Deno.serve and Bun.serve pass after the request.
const REST = isDeno
  ? { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 50000 } }
  : {
    requestIP: () => ({ address: "127.0.0.1", family: "IPv4", port: 50000 }),
  };

/** Streams hold here after their first event while `hold` is set. */
let hold: Promise<void> | undefined;

function sse(): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (i === 1 && hold) await hold;
      if (i < EVENTS.length) c.enqueue(EVENTS[i++]);
      else c.close();
    },
  }, { highWaterMark: 0 });
}

async function app(req: Request): Promise<Response> {
  const b = await req.json();
  if (b.stream) {
    return new Response(sse(), {
      headers: { "content-type": "text/event-stream" },
    });
  }
  return new Response(JSON_ANSWER, {
    headers: { "content-type": "application/json" },
  });
}

type Handler = (req: Request, rest: unknown) => Response | Promise<Response>;
type Scenario = "json" | "sse" | "router";
const SCENARIOS: Scenario[] = ["json", "sse", "router"];
/** The handler each scenario calls: a router forwards to the engine. */
type Handlers = Record<Scenario, Handler>;

/** The engine as an upstream `fetch`, in-process. */
const engineFetch = (input: string | URL | Request, init?: RequestInit) =>
  Promise.resolve(app(new Request(input, init)));

/** A router: reads the request, forwards it upstream, hands the stream on. */
function router(
  forward: (init: RequestInit, req: Request) => Promise<Response>,
): Handler {
  return async (req) =>
    await forward(
      { method: "POST", headers: HEADERS, body: await req.text() },
      req,
    );
}

async function once(h: Handlers, scenario: Scenario): Promise<void> {
  const res = await h[scenario](
    new Request(URL_, {
      method: "POST",
      headers: HEADERS,
      body: BODIES[scenario === "json" ? "json" : "sse"],
    }),
    REST,
  );
  const reader = res.body!.getReader();
  while (!(await reader.read()).done) { /* drain */ }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

async function drive(h: Handlers, scenario: Scenario, n: number) {
  for (let i = 0; i < n; i++) {
    await once(h, scenario);
    if ((i & 255) === 255) await tick();
  }
  // JSON spans end after the side read of the clone: let it finish.
  for (let i = 0; i < 5; i++) await tick();
}

async function fullGc(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await tick();
    if (isDeno) g.gc();
    else g.Bun.gc(true);
  }
}

async function snapshot(): Promise<
  { bytes: number; objects?: number; types?: Counts }
> {
  if (isDeno) return { bytes: g.Deno.memoryUsage().heapUsed };
  const { heapStats } = await import("bun:jsc" as string);
  const s = heapStats();
  let objects = 0;
  for (const v of Object.values(s.objectTypeCounts as Counts)) objects += v;
  return { bytes: s.heapSize, objects, types: { ...s.objectTypeCounts } };
}

function delta(
  a: { bytes: number; objects?: number; types?: Counts },
  b: { bytes: number; objects?: number; types?: Counts },
) {
  const types: Counts = {};
  if (a.types && b.types) {
    for (
      const k of new Set([...Object.keys(a.types), ...Object.keys(b.types)])
    ) {
      const d = (b.types[k] ?? 0) - (a.types[k] ?? 0);
      if (d !== 0) types[k] = d;
    }
  }
  return {
    bytes: b.bytes - a.bytes,
    objects: b.objects === undefined ? undefined : b.objects! - a.objects!,
    types: a.types ? types : undefined,
  };
}

async function runChild(config: string, what: string): Promise<Measured[]> {
  let h: Handlers = {
    json: app,
    sse: app,
    router: router((init) => engineFetch(URL_, init)),
  };
  let shutdown = async () => {};
  let flush = async () => {};
  if (config === "traced") {
    const mod = await import(
      MOD ? (MOD.startsWith("/") ? `file://${MOD}` : MOD) : "../mod.ts"
    );
    const sinkHandler = async (req: Request) => {
      await req.arrayBuffer();
      return new Response(null, { status: 200 });
    };
    let port: number;
    let stop: () => unknown;
    if (isDeno) {
      const s = g.Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        sinkHandler,
      );
      port = s.addr.port;
      stop = () => s.shutdown();
    } else {
      const s = g.Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: sinkHandler,
      });
      port = s.port;
      stop = () => s.stop(true);
    }
    await mod.initTracer(
      "bench.alloc",
      `http://127.0.0.1:${port}/v1/traces`,
      undefined,
      {
        flushOnExit: false,
      },
    );
    const traced = mod.traceHandler(app);
    h = {
      json: traced,
      sse: traced,
      router: mod.traceHandler(
        router((init, req) =>
          mod.tracedFetch(URL_, init, {
            request: req,
            providerName: "vllm",
            fetch: engineFetch,
          })
        ),
      ),
    };
    flush = () => mod.forceFlush();
    shutdown = async () => {
      await mod.shutdownTracing();
      await stop();
    };
  }
  const rows: Measured[] = [];
  for (const scenario of SCENARIOS) {
    await drive(h, scenario, WARMUP);
  }
  if (what === "allocated") {
    for (const scenario of SCENARIOS) {
      const n = isDeno ? N : Math.min(N, BUN_NOGC_N);
      if (isDeno) {
        const v8 = await import("node:v8");
        const before = v8.getHeapStatistics().total_allocated_bytes;
        await drive(h, scenario, n);
        const bytes = v8.getHeapStatistics().total_allocated_bytes - before;
        rows.push({ config, what, scenario, n, bytes });
      } else {
        const a = await snapshot();
        await drive(h, scenario, n);
        const d = delta(a, await snapshot());
        rows.push({
          config,
          what,
          scenario,
          n,
          bytes: d.bytes,
          objects: d.objects,
          types: d.types,
        });
      }
    }
  } else {
    await flush();
    await fullGc();
    const a = await snapshot();
    let release!: () => void;
    hold = new Promise<void>((r) => (release = r));
    const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
    for (let i = 0; i < K; i++) {
      const res = await h.sse(
        new Request(URL_, {
          method: "POST",
          headers: HEADERS,
          body: BODIES.sse,
        }),
        REST,
      );
      const reader = res.body!.getReader();
      await reader.read(); // the first event: time to first token is taken
      readers.push(reader);
    }
    await fullGc();
    const open = delta(a, await snapshot());
    rows.push({ config, what, scenario: "sse", n: K, ...open });
    release();
    hold = undefined;
    for (const r of readers) while (!(await r.read()).done) { /* drain */ }
    readers.length = 0;
    // The ended spans leave the batch queue: what stays is what a request
    // leaves behind.
    await flush();
    await fullGc();
    const after = delta(a, await snapshot());
    rows.push({
      config,
      what: "retained-after-end",
      scenario: "sse",
      n: K,
      ...after,
    });
  }
  await shutdown();
  return rows;
}

const childConfig = env("ALLOC_CHILD");
if (childConfig) {
  const rows = await runChild(childConfig, env("ALLOC_WHAT")!);
  console.log("RESULT " + JSON.stringify(rows));
  if (!isDeno) g.process.exit(0);
} else {
  await parent();
}
