// The request span's name: vLLM's `llm_request` by default; under
// OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental the GenAI
// conventions' `{operation} {model}` (vLLM's opt-in does the same), and
// `llm_request` again when the model is unknown.
import { test } from "node:test";
import assert from "node:assert/strict";
import { forceFlush, recordRequestSpan } from "../../mod.ts";
import { withEnv } from "../support/helpers.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";

let t: Tracing;
useTracing("request-span-name-test", (ready) => (t = ready), {
  OTEL_METRICS_EXPORTER: "none",
});

test("llm_request by default; {operation} {model} under gen_ai_latest_experimental", async () => {
  const timings = { arrival: Date.now() - 50, finished: Date.now() };
  const dual = recordRequestSpan({
    requestId: "n-1",
    model: "opt-125m",
    timings,
  });
  const latest = await withEnv(
    { OTEL_SEMCONV_STABILITY_OPT_IN: "http, gen_ai_latest_experimental" },
    () => [
      recordRequestSpan({ requestId: "n-2", model: "opt-125m", timings }),
      recordRequestSpan({
        requestId: "n-3",
        model: "e5",
        operation: "embeddings",
        timings,
      }),
      recordRequestSpan({ requestId: "n-4", timings }), // no model
    ],
  );
  await forceFlush();
  const ids = [dual, ...latest].map((sc) => sc.spanId);
  const spans = await t.receiver.waitForSpans((all) =>
    ids.every((id) => all.some((s) => s.spanId === id))
  );
  const name = (id: string) => spans.find((s) => s.spanId === id)!.name;
  assert.deepEqual(ids.map(name), [
    "llm_request",
    "chat opt-125m",
    "embeddings e5",
    "llm_request",
  ]);
});
