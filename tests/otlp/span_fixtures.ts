/**
 * Fixed span batches for the writer tests: a batch of N real SERVER spans,
 * and span-shaped objects the SDK could never produce.
 *
 * @module
 */
import { type Attributes, SpanKind } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";

/** `n` ended SERVER spans named `name`, each with `attrs` and one event. */
export function bigBatch(
  n: number,
  attrs: Attributes,
  name = "span",
): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "fixture" }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer("llmtrace", "0.1.0");
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan(name, {
      kind: SpanKind.SERVER,
      attributes: attrs,
    });
    span.addEvent("first_token", { i });
    span.end();
  }
  return exporter.getFinishedSpans();
}

/** A readable span named "good", and objects that break every field. */
export function hostileSpans(): { good: ReadableSpan; bad: ReadableSpan[] } {
  const [good] = bigBatch(1, { ok: true }, "good");
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const wide: Record<string, unknown> = {};
  for (const k of ["a", "b", "c", "d"]) wide[k] = wide;
  const throwing = Object.defineProperty({}, "boom", {
    enumerable: true,
    get() {
      throw new Error("boom");
    },
  });
  const like = (over: Record<string, unknown>) =>
    ({
      ...good,
      spanContext: good.spanContext,
      name: "bad",
      ...over,
    }) as unknown as ReadableSpan;
  const bad: unknown[] = [
    null,
    undefined,
    42,
    "span",
    {},
    like({ spanContext: () => undefined }),
    like({ spanContext: 5 }),
    like({ attributes: throwing }),
    like({
      events: "nope",
      links: [null, { context: null }],
      status: undefined,
    }),
    like({ kind: "x", name: 5, startTime: "abc", endTime: null }),
    like({ droppedAttributesCount: undefined, droppedLinksCount: -1 }),
    like({ events: [{ name: "e", time: [NaN, NaN], attributes: throwing }] }),
    like({
      resource: {
        get attributes() {
          throw new Error("res");
        },
      },
    }),
    like({ resource: { attributes: { cyclic, wide, throwing } } }),
    like({ instrumentationScope: null }),
    like({
      instrumentationScope: {
        name: undefined,
        version: 3,
        attributes: throwing,
      },
    }),
    like({ parentSpanContext: { spanId: "zz", isRemote: "yes" } }),
    Object.defineProperty({ ...good }, "resource", {
      get() {
        throw new Error("resource");
      },
    }),
  ];
  return { good, bad: bad as ReadableSpan[] };
}
