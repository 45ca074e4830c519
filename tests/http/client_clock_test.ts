// One clock for a span's start and end: tracedFetch calls that fail at the
// network level (a closed port) used to end on the SDK's millisecond clock
// while they started on llmtrace's sub-millisecond one, so most of them
// ended before they started. So did instrument() spans that end at once, and
// manualInstrument/recordRequestSpan without an end when the start came from
// Date.now() a little ahead of the performance clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  forceFlush,
  instrument,
  manualInstrument,
  recordRequestSpan,
  tracedFetch,
} from "../../mod.ts";
import { deadPort } from "../support/servers.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";

let t: Tracing;
useTracing("client-clock-test", (ready) => (t = ready), {
  OTEL_METRICS_EXPORTER: "none",
});

test("no span ends before it starts: failed fetches, instant instrument spans, defaults to now", async () => {
  const port = await deadPort();
  for (let i = 0; i < 20; i++) {
    await assert.rejects(
      tracedFetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "m" }),
      }, { attributes: { "test.case": "clock" } }),
    );
    instrument(() => i, {
      spanName: "clock_instant",
      attributes: { "test.case": "clock" },
    })();
    manualInstrument({
      spanName: "clock_manual",
      startTime: Date.now(),
      attributes: { "test.case": "clock" },
    });
    recordRequestSpan({
      requestId: `clock-${i}`,
      timings: { arrival: Date.now() },
      attributes: { "test.case": "clock" },
    });
  }
  await forceFlush();
  const spans =
    (await t.receiver.waitForSpans((all) =>
      all.filter((s) => s.attributes["test.case"] === "clock").length >= 80
    )).filter((s) => s.attributes["test.case"] === "clock");
  const backwards = spans.filter((s) => s.endTimeUnixNano < s.startTimeUnixNano)
    .map((s) => s.name);
  assert.deepEqual(backwards, []);
  // The failed calls end on the same sub-millisecond clock they started on:
  // the SDK's own end for a span with an explicit start is Date.now(), a
  // whole millisecond (and up to a millisecond early).
  const failed = spans.filter((s) => s.name === "chat m");
  assert.equal(failed.length, 20);
  const wholeMs = failed.filter((s) => s.endTimeUnixNano % 1_000_000n === 0n);
  assert.ok(
    wholeMs.length <= 2,
    `${wholeMs.length} of 20 end on a whole millisecond`,
  );
});
