// The viewer as a process sees it: startViewer on a real loopback port
// (Deno.serve or Bun.serve through src/view/serve.ts), OTLP/HTTP in over
// protobuf, JSON and gzip, the page and its API out; and everything that
// must not take it down: garbage (400), too large (413), wrong type (415),
// wrong method (405), another host name (403).
import { test } from "node:test";
import assert from "node:assert/strict";
import { startViewer, type Viewer } from "../../view.ts";
import { APP_JS } from "../../src/view/page/app_js.ts";
import { viewHandler } from "../../src/view/handler.ts";
import { TraceStore } from "../../src/view/store.ts";
import { jsonBody, post, protoBody, routedRequest } from "./traces.ts";

async function withViewer(
  fn: (v: Viewer, origin: string) => Promise<void>,
  options: Parameters<typeof startViewer>[0] = {},
): Promise<void> {
  const v = await startViewer({ port: 0, ...options });
  try {
    await fn(v, `http://127.0.0.1:${v.port}`);
  } finally {
    await v.close();
  }
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([bytes as BlobPart]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(s).arrayBuffer());
}

test("traces over protobuf, JSON and gzip reach the list; the API serves them", async () => {
  await withViewer(async (v, origin) => {
    assert.match(v.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const a = routedRequest({ model: "m/proto" });
    const b = routedRequest({ model: "m/json" });
    const c = routedRequest({ model: "m/gzip" });
    let r = await post(origin, protoBody(a));
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "application/x-protobuf");
    assert.equal((await r.arrayBuffer()).byteLength, 0);
    r = await post(origin, jsonBody(b), "application/json");
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "{}");
    r = await post(origin, await gzip(protoBody(c)), "application/x-protobuf", {
      "content-encoding": "gzip",
    });
    assert.equal(r.status, 200, await r.text());
    const list = await (await fetch(`${origin}/api/traces`)).json();
    assert.deepEqual(
      list.rows.map((x: { model: string }) => x.model).sort(),
      ["m/gzip", "m/json", "m/proto"],
    );
    assert.equal(list.traces, 3);
    const id = a[0].spanContext().traceId;
    const t = await (await fetch(`${origin}/api/traces/${id}`)).json();
    assert.equal(t.spans.length, 6);
    assert.equal(t.spans[0].name, "client");
    const llm = t.spans.find((s: { name: string }) => s.name === "llm_request");
    assert.ok(
      llm.attributes.some(([k]: [string]) =>
        k === "gen_ai.latency.time_to_first_token"
      ),
    );
    const since = await (await fetch(
      `${origin}/api/traces?since=${list.version}&epoch=${list.epoch}`,
    )).json();
    assert.equal(since.rows.length, 0);
    const summary = await (await fetch(`${origin}/api/summary`)).json();
    assert.equal(summary.models.length, 3);
    assert.equal((await fetch(`${origin}/api/traces/00`)).status, 404);
  });
});

test("metrics and logs are accepted and ignored", async () => {
  await withViewer(async (v, origin) => {
    for (const path of ["/v1/metrics", "/v1/logs"]) {
      const r = await fetch(origin + path, {
        method: "POST",
        headers: { "content-type": "application/x-protobuf" },
        body: new Uint8Array([0x0a, 0x00]),
      });
      assert.equal(r.status, 200, path);
      await r.body?.cancel();
    }
    assert.equal(v.store.size, 0);
  });
});

test("garbage, oversize and wrong requests get 4xx and the viewer keeps going", async () => {
  await withViewer(async (v, origin) => {
    const cases: [Promise<Response>, number, RegExp][] = [
      [
        post(origin, new Uint8Array([0x0a, 0xff, 0xff, 0xff])),
        400,
        /malformed protobuf at byte/,
      ],
      [post(origin, "{not json", "application/json"), 400, /JSON/],
      [
        post(origin, JSON.stringify({ resourceSpans: 5 }), "application/json"),
        400,
        /expected an array/,
      ],
      [post(origin, new Uint8Array(8192)), 413, /over 4096 bytes/],
      [post(origin, "x", "text/plain"), 415, /not OTLP/],
      [
        post(origin, "x", "application/x-protobuf", {
          "content-encoding": "br",
        }),
        400,
        /"br" is not supported/,
      ],
      [
        post(origin, "not gzip", "application/x-protobuf", {
          "content-encoding": "gzip",
        }),
        400,
        /as gzip/,
      ],
      [fetch(`${origin}/v1/traces`), 405, /takes POST/],
      [
        fetch(`${origin}/v1/profiles`, { method: "POST" }),
        404,
        /no OTLP signal/,
      ],
      [fetch(`${origin}/api/traces`, { method: "DELETE" }), 405, /takes GET/],
      [fetch(`${origin}/nothing`), 404, /nothing at/],
    ];
    for (const [pending, status, message] of cases) {
      const r = await pending;
      assert.equal(r.status, status, `${r.url}: ${status}`);
      assert.match(await r.text(), message);
    }
    // A gzip bomb stops at the limit, after decompression.
    const bomb = await gzip(new Uint8Array(1 << 20));
    const r = await post(origin, bomb, "application/x-protobuf", {
      "content-encoding": "gzip",
    });
    assert.equal(r.status, 413);
    await r.body?.cancel();
    assert.equal(v.store.size, 0);
    const ok = await post(origin, protoBody(routedRequest()));
    assert.equal(ok.status, 200);
    assert.equal(v.store.size, 1);
  }, { maxBodyBytes: 4096 });
});

test("the page: its own script and style only, a strict CSP, loopback host names", async () => {
  await withViewer(async (_v, origin) => {
    const page = await fetch(`${origin}/`);
    assert.equal(page.status, 200);
    const csp = page.headers.get("content-security-policy")!;
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    const html = await page.text();
    assert.doesNotMatch(html, /https?:\/\//, "no external asset");
    const js = await fetch(`${origin}/app.js`);
    assert.equal(
      js.headers.get("content-type"),
      "text/javascript; charset=utf-8",
    );
    assert.equal(await js.text(), APP_JS);
    assert.equal((await fetch(`${origin}/app.css`)).status, 200);
    // A page elsewhere reaching the port through DNS rebinding sends its
    // own host name (fetch will not forge Host, so ask the handler).
    const handler = viewHandler(new TraceStore());
    const rebound = await handler(
      new Request("http://evil.example:4318/api/traces"),
    );
    assert.equal(rebound.status, 403);
    assert.match(
      await rebound.text(),
      /host "evil.example:4318" is not allowed/,
    );
    const local = await handler(
      new Request("http://localhost:4318/api/traces"),
    );
    assert.equal(local.status, 200);
    await local.body?.cancel();
  });
});

test("the page's script parses and never writes markup", () => {
  new Function(APP_JS);
  assert.doesNotMatch(
    APP_JS,
    /innerHTML|outerHTML|insertAdjacentHTML|document\.write/,
  );
});

test("the command line: help, bad flags and a port in use", async () => {
  const { main } = await import("../../view.ts");
  const g = globalThis as unknown as {
    Deno?: { exitCode: number };
    process?: { exitCode?: number };
  };
  const exitCode = () => g.Deno ? g.Deno.exitCode : g.process?.exitCode ?? 0;
  const reset = () => {
    if (g.Deno) g.Deno.exitCode = 0;
    else if (g.process) g.process.exitCode = 0;
  };
  const errors: string[] = [];
  const logs: string[] = [];
  const { error, log } = console;
  console.error = (m: string) => errors.push(m);
  console.log = (m: string) => logs.push(m);
  try {
    assert.equal(await main(["view", "--help"]), undefined);
    assert.match(logs.join("\n"), /usage: llmtrace view/);
    assert.equal(await main(["--port", "x"]), undefined);
    assert.match(errors.pop()!, /--port takes an integer ≥ 0, got "x"/);
    assert.equal(exitCode(), 2);
    reset();
    assert.equal(await main(["--bogus"]), undefined);
    assert.match(errors.pop()!, /unknown argument "--bogus"/);
    reset();
    const first = (await main(["view", "--port=0"]))!;
    try {
      assert.match(
        logs.join("\n"),
        /llmtrace view on http:\/\/127\.0\.0\.1:\d+\//,
      );
      assert.equal(await main(["--port", String(first.port)]), undefined);
      assert.match(errors.pop()!, new RegExp(`port ${first.port} is in use`));
    } finally {
      await first.close();
    }
  } finally {
    console.error = error;
    console.log = log;
    reset();
  }
});
