// `llmtrace view` under load: `node bench/view.mjs` (after `npm run build`).
//
// 1. Ingest: 1,000 traces of 6 spans (router → server → llm_request, made by
//    the real SDK, encoded by the official protobuf serializer), (a) decoded
//    and stored in process through the handler, as one body per trace and as
//    bodies of 512 spans (the BatchSpanProcessor's batch size); (b) POSTed
//    over loopback HTTP to the viewer in this process (Node's node:http
//    adapter); (c) to the viewer in its own process under Deno, Bun and Node
//    (`llmtrace view --port 0`), as a real exporter would send.
// 2. The page with the store full (1,000 traces), in headless Chromium:
//    first list render, a filter change, an idle poll, opening a trace, the
//    summary, and long tasks while 100 traces/s keep arriving for 3 s.
// Every server and browser started here is closed here. Prints a Markdown
// table. Env: VIEW_BENCH_REPEATS (5), CHROMIUM_PATH (/usr/bin/chromium).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { bundleTs, requireBuild, root } from "../tests/node/support.mjs";

requireBuild();
const REPEATS = Number(process.env.VIEW_BENCH_REPEATS ?? 5);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TRACES = 1000;
const MODELS = ["m/7b", "m/13b", "m/70b", "m/moe"];

const { modules, cleanup } = await bundleTs({ traces: "tests/view/traces.ts" });
const t = modules.traces;
const view = await import(join(root, "dist", "view.js"));
const { viewHandler } = await import(join(root, "dist/src/view/handler.js"));
const { TraceStore } = await import(join(root, "dist/src/view/store.js"));

// Deterministic spread of timings: TTFT 10–1,000 ms, 5% errors, 3% cancels.
let seed = 7;
const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
const start = Date.now() - 60_000;
const traceSpans = Array.from({ length: TRACES }, (_, i) => {
  const ttftMs = Math.round(10 + 990 * rand() ** 3);
  const r = rand();
  return t.routedRequest({
    model: MODELS[i % MODELS.length],
    ttftMs,
    durationMs: ttftMs + 50 + Math.round(900 * rand()),
    outTokens: 2 + Math.round(300 * rand()),
    outcome: r < 0.05 ? "error" : r < 0.08 ? "cancel" : "ok",
    startMs: start + i * 50,
  });
});
const perTrace = traceSpans.map((s) => t.protoBody(s));
const all = traceSpans.flat();
const batched = [];
for (let i = 0; i < all.length; i += 512) {
  batched.push(t.protoBody(all.slice(i, i + 512)));
}
const bytes = perTrace.reduce((n, b) => n + b.byteLength, 0);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
const row = (what, ms, note = "") =>
  rows.push(`| ${what} | ${ms.toFixed(1)} ms | ${note} |`);

async function ingestInProcess(bodies) {
  const store = new TraceStore();
  const handler = viewHandler(store);
  const t0 = performance.now();
  for (const body of bodies) {
    const r = await handler(
      new Request("http://127.0.0.1/v1/traces", {
        method: "POST",
        headers: { "content-type": "application/x-protobuf" },
        body,
      }),
    );
    if (r.status !== 200) throw new Error(`status ${r.status}`);
  }
  store.rows(); // the rows the page asks for are computed lazily
  const ms = performance.now() - t0;
  if (store.spanCount !== TRACES * 6) {
    throw new Error(`${store.spanCount} spans`);
  }
  return ms;
}

async function post(origin, bodies, concurrency) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const r = await t.post(origin, bodies[next++]);
        if (r.status !== 200) throw new Error(`status ${r.status}`);
        await r.arrayBuffer();
      }
    }),
  );
  return performance.now() - t0;
}

const COMMANDS = {
  deno: [join(root, "node_modules/.bin/deno"), ["run", "-A", "view.ts"]],
  bun: [join(root, "node_modules/.bin/bun"), ["view.ts"]],
  node: [process.execPath, ["dist/bin/llmtrace.js", "view"]],
};

/** Ingest into `llmtrace view` running in its own process; killed by pid. */
async function ingestProcess(runtime, bodies, concurrency) {
  const [cmd, args] = COMMANDS[runtime];
  const child = spawn(cmd, [...args, "--port", "0"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const origin = await new Promise((resolve, reject) => {
      let out = "";
      const timer = setTimeout(
        () => reject(new Error(`${runtime}: ${out}`)),
        20_000,
      );
      child.stdout.on("data", (d) => {
        out += d;
        const m = /on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.stderr.on("data", (d) => (out += d));
    });
    const ms = await post(origin, bodies, concurrency);
    const list = await (await fetch(`${origin}/api/traces`)).json();
    if (list.traces !== TRACES) {
      throw new Error(`${runtime}: ${list.traces} traces`);
    }
    return ms;
  } finally {
    child.kill("SIGKILL");
  }
}

async function ingestHttp(bodies, concurrency) {
  const viewer = await view.startViewer({ port: 0 });
  try {
    const ms = await post(
      `http://127.0.0.1:${viewer.port}`,
      bodies,
      concurrency,
    );
    if (viewer.store.spanCount !== TRACES * 6) {
      throw new Error(`${viewer.store.spanCount} spans`);
    }
    return ms;
  } finally {
    await viewer.close();
  }
}

try {
  const runs = { one: [], batch: [], httpOne: [], httpBatch: [] };
  for (let i = 0; i < REPEATS; i++) {
    runs.one.push(await ingestInProcess(perTrace));
    runs.batch.push(await ingestInProcess(batched));
    runs.httpOne.push(await ingestHttp(perTrace, 8));
    runs.httpBatch.push(await ingestHttp(batched, 1));
  }
  const procs = {};
  for (const rt of Object.keys(COMMANDS)) {
    procs[rt] = { one: [], batch: [] };
    for (let i = 0; i < REPEATS; i++) {
      procs[rt].one.push(await ingestProcess(rt, perTrace, 8));
      procs[rt].batch.push(await ingestProcess(rt, batched, 1));
    }
  }
  const kb = (bytes / 1024).toFixed(0);
  row(
    "ingest in process, 1,000 bodies of 1 trace",
    median(runs.one),
    `${kb} KiB protobuf, 6,000 spans`,
  );
  row("ingest in process, 12 bodies of ≤512 spans", median(runs.batch), "");
  row(
    "ingest over HTTP, 1,000 POSTs, 8 at a time",
    median(runs.httpOne),
    "viewer in the client's process (node:http)",
  );
  row("ingest over HTTP, 12 POSTs of ≤512 spans", median(runs.httpBatch), "");
  for (const [rt, r] of Object.entries(procs)) {
    row(
      `viewer process (${rt}): 1,000 POSTs, 8 at a time`,
      median(r.one),
      "client: this Node process",
    );
    row(`viewer process (${rt}): 12 POSTs of ≤512 spans`, median(r.batch), "");
  }

  if (!existsSync(CHROMIUM)) {
    console.log(`(no Chromium at ${CHROMIUM}: page measurements skipped)`);
  } else await pageBench();
} finally {
  cleanup();
}

console.log(
  `\n| llmtrace view (median of ${REPEATS}) | time | notes |\n|---|---:|---|`,
);
console.log(rows.join("\n"));

async function pageBench() {
  const { chromium } = await import("playwright-core");
  const viewer = await view.startViewer({ port: 0 });
  const origin = `http://127.0.0.1:${viewer.port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
  try {
    for (const b of batched) await t.post(origin, b);
    const page = await browser.newPage({
      viewport: { width: 1280, height: 800 },
    });
    const firstRender = [];
    const filter = [];
    for (let i = 0; i < REPEATS; i++) {
      await page.goto(`${origin}/`);
      await page.locator("[data-testid=trace-row]").nth(199).waitFor();
      firstRender.push(await page.evaluate(() => performance.now()));
      filter.push(
        await page.evaluate(async () => {
          const sel = document.getElementById("f-model");
          const frame = () =>
            new Promise((r) => requestAnimationFrame(() => r()));
          const t0 = performance.now();
          sel.value = sel.options[1].value;
          sel.dispatchEvent(new Event("change"));
          await frame();
          await frame();
          const ms = performance.now() - t0;
          sel.value = "";
          sel.dispatchEvent(new Event("change"));
          return ms;
        }),
      );
    }
    const full = await fetch(`${origin}/api/traces`);
    const fullBody = await full.text();
    const v = JSON.parse(fullBody);
    const idle = [];
    const fullPoll = [];
    const summary = [];
    for (let i = 0; i < REPEATS * 4; i++) {
      let t0 = performance.now();
      await (await fetch(
        `${origin}/api/traces?since=${v.version}&epoch=${v.epoch}`,
      )).json();
      idle.push(performance.now() - t0);
      t0 = performance.now();
      await (await fetch(`${origin}/api/traces`)).json();
      fullPoll.push(performance.now() - t0);
      t0 = performance.now();
      await (await fetch(`${origin}/api/summary`)).json();
      summary.push(performance.now() - t0);
    }
    const open = [];
    for (let i = 0; i < REPEATS; i++) {
      await page.goto(`${origin}/`);
      await page.locator("[data-testid=trace-row]").nth(10).waitFor();
      const t0 = await page.evaluate(() => performance.now());
      await page.locator("[data-testid=trace-row]").nth(i).click();
      await page.locator("[data-testid=span-row]").nth(5).waitFor();
      open.push((await page.evaluate(() => performance.now())) - t0);
    }
    // Live: 100 new traces a second for 3 s with the list open and full.
    await page.goto(`${origin}/`);
    await page.locator("[data-testid=trace-row]").nth(199).waitFor();
    await page.evaluate(() => {
      globalThis.__long = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) globalThis.__long.push(e.duration);
      }).observe({ type: "longtask" });
    });
    const extra = Array.from(
      { length: 300 },
      () => t.protoBody(t.routedRequest({ model: "m/live", ttftMs: 50 })),
    );
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      await Promise.all(
        extra.slice(i * 10, i * 10 + 10).map((b) => t.post(origin, b)),
      );
      await new Promise((r) =>
        setTimeout(r, Math.max(0, 100 - (performance.now() - t0)))
      );
    }
    await page.waitForTimeout(1500);
    const long = await page.evaluate(() => globalThis.__long);
    const shown = await page.locator("[data-testid=trace-row] [data-k=model]", {
      hasText: "m/live",
    }).count();

    row(
      "page: first list render, store full",
      median(firstRender),
      "navigation start → 200 newest rows in the DOM (of 1,000)",
    );
    row("page: filter by model, to the next paint", median(filter), "");
    row(
      "page: open a trace (6 spans)",
      median(open),
      "click → waterfall drawn",
    );
    row(
      "API: idle poll (nothing new)",
      median(idle),
      "what the page asks every second",
    );
    row(
      "API: full list",
      median(fullPoll),
      `${(fullBody.length / 1024).toFixed(0)} KiB JSON, on the first load`,
    );
    row("API: summary of 1,000 traces", median(summary), "");
    row(
      "page: 100 traces/s for 3 s, list open",
      long.length ? Math.max(...long) : 0,
      `longest task; ${long.length} tasks over 50 ms; ${shown} new rows shown`,
    );
  } finally {
    await browser.close();
    await viewer.close();
  }
}
