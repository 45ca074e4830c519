// traceHandler span names: `{method} {route}` with a declared route, the
// fixed OpenAI-compatible endpoints as their own route, and `{method}` alone
// for any other path (a path may hold ids: unbounded cardinality).
import { test } from "node:test";
import assert from "node:assert/strict";
import { forceFlush, traceHandler } from "../../mod.ts";
import { withServer } from "../support/servers.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";

let t: Tracing;
useTracing("server-span-name-test", (ready) => (t = ready), {
  OTEL_METRICS_EXPORTER: "none",
});

test("span names: {method} without a route, known endpoints and declared routes named after the route", async () => {
  const handler = traceHandler(() => new Response("ok"), {
    route: (req) =>
      new URL(req.url).pathname.startsWith("/items/") ? "/items/{id}" : "",
    attributes: { "test.case": "span-name" },
  });
  const paths = [
    "/v1/users/12345/profile",
    "/v1/models",
    "/health",
    "/items/42",
    "/v1/chat/completions/extra",
  ];
  await withServer(handler, async (s) => {
    for (const p of paths) await (await fetch(`${s.origin}${p}`)).text();
    await forceFlush();
    const spans = (await t.receiver.waitForSpans(
      (all) =>
        all.filter((x) => x.attributes["test.case"] === "span-name").length >=
          paths.length,
    )).filter((x) => x.attributes["test.case"] === "span-name");
    const byPath = new Map(
      spans.map((x) => [x.attributes["url.path"], x] as const),
    );
    const expect: Record<string, [string, string | undefined]> = {
      "/v1/users/12345/profile": ["GET", undefined],
      "/v1/models": ["GET /v1/models", "/v1/models"],
      "/health": ["GET /health", "/health"],
      "/items/42": ["GET /items/{id}", "/items/{id}"],
      "/v1/chat/completions/extra": ["GET", undefined],
    };
    for (const [path, [name, route]] of Object.entries(expect)) {
      const span = byPath.get(path);
      assert.ok(span, `no span for ${path}`);
      assert.equal(span.name, name, path);
      assert.equal(span.attributes["http.route"], route, path);
    }
  });
});
