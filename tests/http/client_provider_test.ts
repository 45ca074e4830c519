// tracedFetch's GenAI spans always carry gen_ai.provider.name (required by
// the GenAI conventions): the caller's providerName, else the default for an
// OpenAI-compatible upstream; a call that is not GenAI gets none.
import { test } from "node:test";
import assert from "node:assert/strict";
import { forceFlush, tracedFetch } from "../../mod.ts";
import { withServer } from "../support/servers.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";

let t: Tracing;
useTracing("client-provider-test", (ready) => (t = ready), {
  OTEL_METRICS_EXPORTER: "none",
});

test("gen_ai.provider.name on tracedFetch chat spans: given, else inferred default; none off GenAI", async () => {
  const upstream = () => Response.json({ id: "c", model: "m", choices: [] });
  await withServer(upstream, async (up) => {
    const call = (path: string, providerName?: string) =>
      tracedFetch(`${up.origin}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m" }),
      }, {
        providerName,
        attributes: { "test.case": `provider ${path} ${providerName}` },
      })
        .then((r) => r.text());
    await call("/v1/chat/completions");
    await call("/v1/chat/completions", "vllm");
    await call("/v1/embeddings");
    await call("/health");
    await forceFlush();
    const spans = await t.receiver.waitForSpans((all) =>
      all.filter((s) =>
        String(s.attributes["test.case"]).startsWith("provider")
      ).length >= 4
    );
    const by = (c: string) =>
      spans.find((s) => s.attributes["test.case"] === c)!;
    assert.equal(
      by("provider /v1/chat/completions undefined")
        .attributes["gen_ai.provider.name"],
      "openai",
    );
    assert.equal(
      by("provider /v1/chat/completions vllm")
        .attributes["gen_ai.provider.name"],
      "vllm",
    );
    assert.equal(
      by("provider /v1/embeddings undefined")
        .attributes["gen_ai.provider.name"],
      "openai",
    );
    assert.equal(
      by("provider /health undefined").attributes["gen_ai.provider.name"],
      undefined,
    );
  });
});
