/**
 * fast-check arbitraries for batches of real SDK spans: plans (resources with
 * span limits and id generators, scopes, spans with parents local and remote,
 * every attribute type, events, links, statuses, times) that `buildBatch`
 * plays through real `BasicTracerProvider`s into `ReadableSpan[]`.
 *
 * @module
 */
import fc from "fast-check";
import {
  ROOT_CONTEXT,
  type SpanContext,
  type SpanKind,
  trace,
} from "@opentelemetry/api";
import { TraceState } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanLimits,
} from "@opentelemetry/sdk-trace-base";

/** Keys drawn often, so spans share keys and values repeat. */
export const KEY_POOL = [
  "gen_ai.request.temperature",
  "gen_ai.request.top_p",
  "gen_ai.latency.e2e",
  "gen_ai.usage.input_tokens",
  "http.request.method",
  "server.port",
  "k",
  "1",
  "10",
  "__proto__",
  "constructor",
  "é",
] as const;

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 6 }),
  fc.string({ unit: "binary-ascii", minLength: 60, maxLength: 200 }),
  fc.constantFrom("", "POST", "é", "\ud800", "a\udc00b", "日本語", "😀"),
);
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.maxSafeInteger(),
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    0.7,
    2 ** 31,
    2 ** 32,
    2 ** 53 + 2,
    2 ** 62,
    -(2 ** 63),
    2 ** 63,
    1e300,
    NaN,
    Infinity,
    -Infinity,
    Number.MIN_VALUE,
  ),
);
const scalar = fc.oneof(text, number, fc.boolean());
const repeated = fc.constantFrom("POST", 200, 0.7, 1, 0, -0, true, "m/opt");
const attrValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: repeated },
  { weight: 4, arbitrary: scalar },
  fc.array(text, { maxLength: 4 }),
  fc.array(number, { maxLength: 4 }),
  fc.array(fc.boolean(), { maxLength: 3 }),
  fc.array(fc.oneof(text, fc.constant(null), fc.constant(undefined)), {
    maxLength: 3,
  }),
  fc.tuple(text, number), // mixed: the SDK drops it
);
const key = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...KEY_POOL) },
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.constant("k".repeat(130)),
);
/** Attribute maps as users hand them to the SDK. */
export const attributes = fc.dictionary(key, attrValue, { maxKeys: 10 });
/** Resource attributes are not sanitized: nested objects, bytes, anything. */
const resourceValue = fc.oneof(
  attrValue,
  fc.uint8Array({ maxLength: 8 }),
  fc.object({ maxDepth: 2, maxKeys: 3 }),
  fc.array(fc.anything({ maxDepth: 1, maxKeys: 2 }), { maxLength: 3 }),
);

const hex = (n: number, upper = false) =>
  fc.uint8Array({ minLength: n / 2, maxLength: n / 2 })
    .filter((b) => b.some((x) => x !== 0))
    .map((b) => {
      const s = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
      return upper ? s.toUpperCase() : s;
    });
const anyId = fc.oneof(
  hex(32),
  hex(16),
  hex(32, true),
  fc.string({ maxLength: 33 }),
);
const traceStateText = fc.constantFrom(
  undefined,
  "",
  "a=1",
  "vendor=x,other=y-z",
  "k1=v1,k2=v2,k3=v3",
);
const traceState = (s: string | undefined) =>
  s === undefined ? undefined : new TraceState(s);

const time = fc.oneof(
  fc.constant(undefined),
  fc.date({
    min: new Date(0),
    max: new Date(4102444800000),
    noInvalidDate: true,
  }),
  fc.double({ min: 0, max: 4e12, noNaN: true }),
  fc.tuple(
    fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    fc.integer({ min: 0, max: 999_999_999 }),
  ),
);

const remoteParent = fc.record({
  type: fc.constant("remote" as const),
  traceId: hex(32),
  spanId: hex(16),
  traceFlags: fc.integer({ min: 0, max: 255 }),
  traceState: traceStateText,
});
const link = fc.record({
  traceId: anyId,
  spanId: anyId,
  traceFlags: fc.integer({ min: -1, max: 300 }),
  isRemote: fc.option(fc.boolean(), { nil: undefined }),
  traceState: traceStateText,
  attributes: fc.option(attributes, { nil: undefined }),
});
const spanPlan = fc.record({
  resource: fc.nat(2),
  scope: fc.nat(2),
  name: text,
  kind: fc.option(fc.constantFrom(0, 1, 2, 3, 4), { nil: undefined }),
  parent: fc.oneof(
    fc.constant({ type: "none" as const }),
    fc.record({ type: fc.constant("local" as const), index: fc.nat(9) }),
    remoteParent,
  ),
  attributes,
  later: attributes,
  events: fc.array(
    fc.record({
      name: text,
      attributes: fc.option(attributes, { nil: undefined }),
      time,
    }),
    { maxLength: 3 },
  ),
  links: fc.array(link, { maxLength: 2 }),
  status: fc.option(
    fc.record({
      code: fc.constantFrom(0, 1, 2),
      message: fc.option(text, { nil: undefined }),
    }),
    { nil: undefined },
  ),
  start: time,
  end: time,
});
const limit = fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined });
const resourcePlan = fc.record({
  attributes: fc.dictionary(key, resourceValue, { maxKeys: 6 }),
  schemaUrl: fc.option(fc.constantFrom("", "https://opentelemetry.io/s/1"), {
    nil: undefined,
  }),
  limits: fc.record({
    attributeCountLimit: limit,
    attributeValueLengthLimit: fc.option(fc.integer({ min: 1, max: 8 }), {
      nil: undefined,
    }),
    eventCountLimit: limit,
    linkCountLimit: limit,
    attributePerEventCountLimit: limit,
    attributePerLinkCountLimit: limit,
  }),
  ids: fc.option(fc.array(anyId, { minLength: 1, maxLength: 4 }), {
    nil: undefined,
  }),
});
const scopePlan = fc.record({
  name: text,
  version: fc.option(text, { nil: undefined }),
  schemaUrl: fc.option(fc.constantFrom("", "https://x/s"), { nil: undefined }),
});

/** A plan of one batch: 3 resources and 3 scopes to draw from, 0–10 spans. */
export const batchPlan = fc.record({
  resources: fc.array(resourcePlan, { minLength: 3, maxLength: 3 }),
  scopes: fc.array(scopePlan, { minLength: 3, maxLength: 3 }),
  spans: fc.array(spanPlan, { maxLength: 10 }),
});
/** One generated batch plan. */
export type BatchPlan = typeof batchPlan extends fc.Arbitrary<infer T> ? T
  : never;

/** Plays a plan through real providers; the spans in the order they ended. */
export function buildBatch(plan: BatchPlan): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const providers = plan.resources.map((r) => {
    let n = 0;
    const ids = r.ids;
    return new BasicTracerProvider({
      resource: resourceFromAttributes(r.attributes as never, {
        schemaUrl: r.schemaUrl,
      }),
      spanLimits: r.limits as SpanLimits,
      idGenerator: ids
        ? {
          generateTraceId: () => ids[n++ % ids.length].padEnd(32, "0"),
          generateSpanId: () => ids[n++ % ids.length],
        }
        : undefined,
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
  });
  const started: ReturnType<ReturnType<typeof trace.getTracer>["startSpan"]>[] =
    [];
  for (const s of plan.spans) {
    const scope = plan.scopes[s.scope];
    const tracer = providers[s.resource].getTracer(scope.name, scope.version, {
      schemaUrl: scope.schemaUrl,
    });
    let ctx = ROOT_CONTEXT;
    const p = s.parent;
    if (p.type === "local" && started[p.index]) {
      ctx = trace.setSpan(ROOT_CONTEXT, started[p.index]);
    } else if (p.type === "remote") {
      ctx = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: p.traceId,
        spanId: p.spanId,
        traceFlags: p.traceFlags,
        isRemote: true,
        traceState: traceState(p.traceState),
      });
    }
    const span = tracer.startSpan(s.name, {
      kind: s.kind as SpanKind | undefined,
      attributes: s.attributes as never,
      startTime: s.start,
      links: s.links.map((l) => ({
        context: {
          traceId: l.traceId,
          spanId: l.spanId,
          traceFlags: l.traceFlags,
          isRemote: l.isRemote,
          traceState: traceState(l.traceState),
        } as SpanContext,
        attributes: l.attributes as never,
      })),
    }, ctx);
    span.setAttributes(s.later as never);
    for (const e of s.events) {
      span.addEvent(e.name, e.attributes as never, e.time);
    }
    if (s.status) span.setStatus(s.status);
    span.end(s.end);
    started.push(span);
  }
  return exporter.getFinishedSpans();
}
