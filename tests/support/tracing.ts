/**
 * The setup most test files share: a real OTLP receiver and one tracer
 * provider exporting to it, started before the file's tests and torn down
 * after them (both runners run every file in one process, one provider at a
 * time).
 *
 * @module
 */
import { after, before } from "node:test";
import assert from "node:assert/strict";
import type { Tracer } from "@opentelemetry/api";
import { initTracer, shutdownTracing } from "../../mod.ts";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp_receiver.ts";
import { CLEAN_ENV, setEnv } from "./helpers.ts";
import { refreshLimits } from "../../src/core/limits.ts";

/** What a file's tests get once the `before` hook has run. */
export interface Tracing {
  receiver: OtlpReceiver;
  tracer: Tracer;
}

/**
 * Registers `before`/`after` hooks that start a receiver, clear the
 * variables of {@link CLEAN_ENV} (so the developer's own `OTEL_*` settings
 * cannot leak in), turn metrics off (`OTEL_METRICS_EXPORTER=none`) and set
 * `env`, call `initTracer(name, receiver.url)`, hand
 * receiver and tracer to `ready`; afterwards they shut the provider down,
 * restore the environment and close the receiver.
 */
export function useTracing(
  name: string,
  ready: (t: Tracing) => void,
  env: Record<string, string | undefined> = {},
): void {
  let receiver: OtlpReceiver | undefined;
  let restoreEnv = () => {};
  before(async () => {
    receiver = await startOtlpReceiver();
    // Metrics stay off unless a file asks (the trace receiver has no
    // /v1/metrics: every export would fail and log).
    restoreEnv = setEnv({
      ...CLEAN_ENV,
      OTEL_METRICS_EXPORTER: "none",
      ...env,
    });
    const tracer = await initTracer(name, receiver.url);
    ready({ receiver, tracer });
  });
  after(async () => {
    try {
      await shutdownTracing();
      // One clock for every start and end: no span of any test file that
      // uses this setup may end before it starts.
      const backwards = (receiver?.spans() ?? []).filter((s) =>
        s.endTimeUnixNano < s.startTimeUnixNano
      );
      assert.deepEqual(
        backwards.map((s) =>
          `${s.name}: ends ${
            s.startTimeUnixNano - s.endTimeUnixNano
          } ns before it starts`
        ),
        [],
      );
    } finally {
      restoreEnv();
      // initTracer memoised this file's attribute length limit; files that
      // run later in the same process (bun test) must see their own.
      refreshLimits();
      await receiver?.close();
    }
  });
}
