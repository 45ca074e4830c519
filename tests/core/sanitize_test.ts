// Attribute values that are objects, functions, mixed or nested lists,
// symbols or null are dropped from the spans of every entry point
// (manualInstrument, instrument, recordRequestSpan, traceHandler), and nothing
// throws. See tests/support/reliability.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { traceHandler } from "../../src/http/server.ts";
import { instrument } from "../../src/vllm/instrument.ts";
import { manualInstrument } from "../../src/vllm/manual_instrument.ts";
import { recordRequestSpan } from "../../src/vllm/request_span.ts";
import { startOtlpReceiver } from "../support/otlp_receiver.ts";
import { sleep } from "../support/helpers.ts";
import { useReliabilityHooks, withTracing } from "../support/reliability.ts";

const unhandled = useReliabilityHooks();

test("attribute values that are objects or functions are dropped, nothing throws", async () => {
  const rx = await startOtlpReceiver();
  try {
    await withTracing("test.reliability.attrs", rx.url, {
      OTEL_BSP_SCHEDULE_DELAY: "50",
    }, async () => {
      const bad = {
        "good.int": 1,
        "good.list": ["a", "b"],
        "bad.object": { a: 1 },
        "bad.fn": () => 1,
        "bad.mixed": [1, "a"],
        "bad.nested": [[1]],
        "bad.symbol": Symbol("s"),
        "bad.null": null,
      };
      manualInstrument({
        spanName: "attrs_manual",
        startTime: Date.now() - 5,
        attributes: bad as never,
      });
      instrument(function attrsInstrumented() {
        return 1;
      }, { spanName: "attrs_instrument", attributes: bad as never })();
      recordRequestSpan({
        requestId: "attrs",
        timings: { arrival: Date.now() - 5 },
        attributes: bad as never,
        context: ROOT_CONTEXT,
      });
      const h = traceHandler(() => new Response("ok"), {
        attributes: bad as never,
      });
      await (await h(new Request("http://127.0.0.1/attrs_handler")))
        .arrayBuffer();
      const spans = await rx.waitForSpanCount(4, 5000);
      for (const s of spans) {
        assert.equal(s.attributes["good.int"], 1, s.name);
        assert.deepEqual(s.attributes["good.list"], ["a", "b"], s.name);
        for (const k of Object.keys(bad)) {
          if (k.startsWith("bad.")) {
            assert.equal(s.attributes[k], undefined, `${s.name}: ${k}`);
          }
        }
      }
    });
  } finally {
    await rx.close();
  }
});

test("no unhandled promise rejection happened in this file", async () => {
  await sleep(50);
  assert.deepEqual(unhandled.map(String), []);
});
