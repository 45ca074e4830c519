/**
 * The setup most test files share: a real OTLP receiver and one tracer
 * provider exporting to it, started before the file's tests and torn down
 * after them (both runners run every file in one process, one provider at a
 * time).
 *
 * @module
 */
import { after, before } from "node:test";
import type { Tracer } from "@opentelemetry/api";
import { initTracer, shutdownTracing } from "../../mod.ts";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp_receiver.ts";

/** What a file's tests get once the `before` hook has run. */
export interface Tracing {
  receiver: OtlpReceiver;
  tracer: Tracer;
}

/**
 * Registers `before`/`after` hooks that start a receiver and
 * `initTracer(name, receiver.url)`, hand both to `ready`, and shut the
 * provider down and close the receiver afterwards.
 */
export function useTracing(name: string, ready: (t: Tracing) => void): void {
  let receiver: OtlpReceiver | undefined;
  before(async () => {
    receiver = await startOtlpReceiver();
    const tracer = await initTracer(name, receiver.url);
    ready({ receiver, tracer });
  });
  after(async () => {
    try {
      await shutdownTracing();
    } finally {
      await receiver?.close();
    }
  });
}
