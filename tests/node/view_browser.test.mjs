// `llmtrace view` in a real browser: headless Chromium from Debian's
// `chromium` package, driven by playwright-core (no browser download), the
// viewer from the npm build (dist/view.js) on Node's node:http adapter.
// Traces are made by the real OpenTelemetry SDK and encoded by the official
// serializers (tests/view/traces.ts, bundled for Node).
//
// Runs under `node --test` (tests/run_all.sh): playwright-core is a Node
// library first. Without /usr/bin/chromium the tests skip with a message,
// unless CI is set: then they fail, so CI always runs them.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { bundleTs, requireBuild, root } from "./support.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
if (!present && process.env.CI) {
  throw new Error(
    `${CHROMIUM} is missing and CI is set: the browser tests must run ` +
      "(apt-get install -y chromium; .ci/run does)",
  );
}
const skip = present
  ? false
  : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
if (skip) console.log(`# view browser tests skipped: ${skip}`);

requireBuild();
let browser;
let traces;
let view;
let bundle;

before(async () => {
  if (skip) return;
  bundle = await bundleTs({ traces: "tests/view/traces.ts" });
  traces = bundle.modules.traces;
  view = await import(join(root, "dist", "view.js"));
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 30_000,
  });
});

after(async () => {
  await browser?.close();
  bundle?.cleanup();
});

/** A fresh viewer and page; both closed when `fn` ends. */
async function withPage(fn) {
  const viewer = await view.startViewer({ port: 0 });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(10_000);
  const dialogs = [];
  const errors = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.on("pageerror", (e) => errors.push(e.message));
  const origin = `http://127.0.0.1:${viewer.port}`;
  try {
    await fn({ page, viewer, origin, dialogs });
    assert.deepEqual(errors, [], "no script error on the page");
  } finally {
    await page.close();
    await viewer.close();
  }
}

async function send(origin, spans, as = "protobuf") {
  const r = as === "json"
    ? await traces.post(origin, traces.jsonBody(spans), "application/json")
    : await traces.post(origin, traces.protoBody(spans));
  assert.equal(r.status, 200, await r.text());
}

const rows = (page) => page.locator("[data-testid=trace-row]");
const cellTexts = (page, k) =>
  page.locator(`[data-testid=trace-row] [data-k=${k}]`).allTextContents();

test("traces over OTLP protobuf and JSON appear in the list, live, newest first", { skip }, async () => {
  await withPage(async ({ page, origin }) => {
    const now = Date.now();
    await send(origin, traces.routedRequest({ model: "m/proto", startMs: now - 2000 }));
    await send(origin, traces.routedRequest({ model: "m/json", startMs: now - 1000 }), "json");
    await page.goto(`${origin}/`);
    await assert.doesNotReject(rows(page).nth(1).waitFor());
    assert.deepEqual(await cellTexts(page, "model"), ["m/json", "m/proto"]);
    // A trace sent while the page is open shows up without a reload.
    await send(origin, traces.routedRequest({ model: "m/live", startMs: now }));
    await page.waitForFunction(
      () => document.querySelectorAll("[data-testid=trace-row]").length === 3,
    );
    assert.deepEqual(await cellTexts(page, "model"), ["m/live", "m/json", "m/proto"]);
    assert.deepEqual(await cellTexts(page, "spans"), ["6", "6", "6"]);
  });
});

test("the waterfall shows every span of router → server → llm_request in order, to scale, with TTFT marks", { skip }, async () => {
  await withPage(async ({ page, origin }) => {
    const spans = traces.routedRequest({
      model: "m/7b",
      ttftMs: 40,
      engineTtftMs: 31,
      durationMs: 200,
    });
    await send(origin, spans);
    await page.goto(`${origin}/`);
    await rows(page).first().click();
    const spanRows = page.locator("[data-testid=span-row]");
    await spanRows.nth(5).waitFor();
    assert.deepEqual(
      await page.locator("[data-testid=span-row] [data-k=name]").allTextContents(),
      [
        "client",
        "POST /v1/chat/completions",
        "chat m/7b",
        "POST /v1/chat/completions",
        "tokenize",
        "llm_request",
      ],
    );
    // TTFT ticks: the router's first chunk and the engine's first token.
    const ticks = page.locator("[data-testid=ttft-tick]");
    assert.equal(await ticks.count(), 2);
    const tickLeft = await ticks.evaluateAll((els) => els.map((e) => parseFloat(e.style.left)));
    // Router span starts at +1 ms, TTFT 40 → 41/200; llm_request +4, 31 → 35/200.
    assert.ok(Math.abs(tickLeft[0] - 20.5) < 0.01, String(tickLeft));
    assert.ok(Math.abs(tickLeft[1] - 17.5) < 0.01, String(tickLeft));
    assert.deepEqual(
      await page.locator("[data-testid=segment]").evaluateAll((els) => els.map((e) => e.dataset.segment)),
      ["queue", "prefill", "decode"],
    );
    const meta = page.locator("[data-testid=trace-meta]");
    assert.match(await meta.locator("[data-k='router TTFT']").textContent(), /40\.0 ms/);
    assert.match(await meta.locator("[data-k='engine TTFT']").textContent(), /31\.0 ms/);
    // Click: the span's attributes and events.
    await spanRows.nth(5).click();
    const detail = page.locator("[data-testid=span-detail]");
    await detail.getByText("gen_ai.latency.time_to_first_token").waitFor();
    assert.ok(await detail.getByText("0.031", { exact: true }).isVisible());
    assert.ok(await detail.getByText(/first token/).first().isVisible());
    assert.match(await detail.locator("[data-k=span-name]").textContent(), /^llm_request$/);
  });
});

test("filters narrow the list by model, status, route and minimum TTFT", { skip }, async () => {
  await withPage(async ({ page, origin }) => {
    const plans = [
      { model: "m/a", ttftMs: 20 },
      { model: "m/a", ttftMs: 150, outcome: "error" },
      { model: "m/b", ttftMs: 300, outcome: "cancel" },
      { model: "m/b", ttftMs: 50, route: "/v1/completions" },
    ];
    for (const p of plans) await send(origin, traces.routedRequest(p));
    await page.goto(`${origin}/`);
    await rows(page).nth(3).waitFor();
    const count = async (n) => {
      await page.waitForFunction(
        (n) => document.querySelectorAll("[data-testid=trace-row]").length === n,
        n,
      );
      return n;
    };
    await page.selectOption("#f-model", "m/a");
    await count(2);
    assert.deepEqual(await cellTexts(page, "model"), ["m/a", "m/a"]);
    await page.selectOption("#f-status", "error");
    await count(1);
    assert.deepEqual(await cellTexts(page, "ttft"), ["150.0 ms"]);
    await page.click("#f-clear");
    await count(4);
    await page.selectOption("#f-status", "cancel");
    await count(1);
    assert.deepEqual(await cellTexts(page, "model"), ["m/b"]);
    await page.click("#f-clear");
    await page.selectOption("#f-route", "/v1/completions");
    await count(1);
    await page.click("#f-clear");
    await page.fill("#f-min-ttft", "100");
    await count(2);
    assert.deepEqual((await cellTexts(page, "ttft")).sort(), ["150.0 ms", "300.0 ms"]);
  });
});

test("the summary's percentiles and histogram match the spans sent", { skip }, async () => {
  await withPage(async ({ page, origin }) => {
    const ttfts = [12, 18, 25, 33, 35, 41, 47, 52, 60, 64, 71, 88, 95, 120, 160, 240, 380, 700, 1200, 2600];
    const durations = ttfts.map((t, i) => t + 300 + ((i * 37) % 101));
    for (let i = 0; i < ttfts.length; i++) {
      await send(
        origin,
        traces.routedRequest({
          model: "m/sum",
          ttftMs: ttfts[i],
          durationMs: durations[i],
          outcome: i % 10 === 3 ? "error" : "ok",
        }),
        i % 2 ? "json" : "protobuf",
      );
    }
    await page.goto(`${origin}/#/summary`);
    const row = page.locator("[data-testid=summary-row][data-model='m/sum']");
    await row.waitFor();
    const value = async (k) => Number(await row.locator(`[data-k=${k}]`).getAttribute("data-value"));
    for (const p of [50, 95, 99]) {
      assert.equal(await value(`ttft-p${p}`), traces.percentile(ttfts, p), `TTFT p${p}`);
      assert.equal(await value(`duration-p${p}`), traces.percentile(durations, p), `duration p${p}`);
    }
    assert.equal(await row.locator("[data-k=count]").textContent(), "20");
    assert.equal(await row.locator("[data-k=error-rate]").textContent(), "10%");
    const bars = await page.locator("[data-testid=histogram][data-model='m/sum'] .hist-bar")
      .evaluateAll((els) => els.map((e) => Number(e.dataset.count)));
    assert.equal(bars.reduce((a, b) => a + b, 0), 20);
  });
});

test("a span named <img src=x onerror=alert(1)> shows as text and runs nothing", { skip }, async () => {
  await withPage(async ({ page, origin, dialogs }) => {
    const name = "<img src=x onerror=alert(1)>";
    const value = "<script>alert(2)</script><b>bold</b>";
    await send(origin, traces.singleSpan(name, { "gen_ai.request.model": value, "<i>key</i>": value }));
    await page.goto(`${origin}/`);
    await rows(page).first().waitFor();
    assert.equal(await page.locator("[data-testid=trace-row] [data-k=name]").textContent(), name);
    assert.ok(await page.getByText(name, { exact: true }).isVisible());
    await rows(page).first().click();
    await page.locator("[data-testid=span-row]").first().click();
    const detail = page.locator("[data-testid=span-detail]");
    await detail.getByText("<i>key</i>", { exact: true }).waitFor();
    assert.ok(await detail.getByText(value, { exact: true }).first().isVisible());
    // Give an injected handler every chance to fire.
    await page.waitForTimeout(300);
    assert.equal(await page.locator("img, script:not([src]), b, i").count(), 0);
    assert.deepEqual(dialogs, []);
  });
});

test("the viewer survives garbage bodies and keeps serving the page", { skip }, async () => {
  await withPage(async ({ page, origin }) => {
    await page.goto(`${origin}/`);
    const garbage = [
      [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]), "application/x-protobuf"],
      [crypto.getRandomValues(new Uint8Array(2048)), "application/x-protobuf"],
      ["{\"resourceSpans\": [{\"scopeSpans\": 7}]}", "application/json"],
      ["\u0000not json", "application/json"],
    ];
    for (const [body, type] of garbage) {
      const r = await traces.post(origin, body, type);
      assert.ok(r.status === 400 || r.status === 200, `${r.status}`);
      await r.body?.cancel();
    }
    const big = await traces.post(origin, new Uint8Array(17 * 2 ** 20));
    assert.equal(big.status, 413);
    await big.body?.cancel();
    await send(origin, traces.routedRequest({ model: "m/after" }));
    await page.waitForFunction(() =>
      [...document.querySelectorAll("[data-testid=trace-row] [data-k=model]")]
        .some((e) => e.textContent === "m/after")
    );
    assert.match(await page.locator("[data-testid=status]").textContent(), /traces/);
  });
});
