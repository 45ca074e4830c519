/**
 * Shared by the property tests (fast-check, bounded runs) of headers,
 * propagation, the OpenAI body parsers and traceHandler: the run count,
 * hostile strings, OpenAI-ish request/response objects, and the tracing
 * setup every one of those files starts (a receiver and a provider, with a
 * short batch delay).
 *
 * @module
 */
import fc from "fast-check";
import { type Tracing, useTracing } from "./tracing.ts";

/** Runs per property. */
export const RUNS = 200;

/** Registers the property tests' receiver and tracer for this file. */
export function usePropertyTracing(
  ready: (t: Tracing) => void = () => {},
): void {
  useTracing("test.property", ready, {
    OTEL_BSP_MAX_QUEUE_SIZE: undefined,
    OTEL_BSP_SCHEDULE_DELAY: "200",
  });
}

/** Strings with control characters, odd Unicode and trace-ish shapes. */
export const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.string({
    unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  }),
  fc.constantFrom(
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n",
    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "a=1,,b=2",
    "\u0000",
    "__proto__",
    "constructor",
  ),
);

/** Objects shaped a little like OpenAI requests and responses. */
export const openAiish = fc.record({
  model: fc.oneof(fc.string(), fc.anything()),
  max_tokens: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.anything()),
  temperature: fc.oneof(fc.double(), fc.string(), fc.anything()),
  n: fc.anything(),
  stop: fc.oneof(fc.string(), fc.array(fc.anything())),
  stream: fc.anything(),
  choices: fc.array(fc.anything(), { maxLength: 4 }),
  usage: fc.anything(),
}, { requiredKeys: [] });
