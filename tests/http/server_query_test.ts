// traceHandler records url.query for requests that had one, with
// credential-looking values redacted, and no url.query otherwise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { forceFlush, traceHandler } from "../../mod.ts";
import { withServer } from "../support/servers.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";

let t: Tracing;
useTracing("server-query-test", (ready) => (t = ready), {
  OTEL_METRICS_EXPORTER: "none",
});

test("url.query on server spans: recorded with credentials redacted; absent without a query", async () => {
  const handler = traceHandler(() => new Response("ok"), {
    route: "/search",
    attributes: { "test.case": "query" },
  });
  await withServer(handler, async (s) => {
    for (const q of ["?q=llm&api_key=sk-live-1&page=2", "", "?"]) {
      await (await fetch(`${s.origin}/search${q}`)).text();
    }
    await forceFlush();
    const spans = (await t.receiver.waitForSpans(
      (all) =>
        all.filter((x) => x.attributes["test.case"] === "query").length >= 3,
    )).filter((x) => x.attributes["test.case"] === "query");
    const queries = spans.map((x) => x.attributes["url.query"]).sort();
    assert.deepEqual(queries, [
      "q=llm&api_key=REDACTED&page=2",
      undefined,
      undefined,
    ]);
    for (const x of spans) assert.equal(x.attributes["url.path"], "/search");
  });
});
