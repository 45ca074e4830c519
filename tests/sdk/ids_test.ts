// Ids from crypto.getRandomValues (not the SDK's Math.random), and W3C level
// 2's random-trace-id flag on the spans of llmtrace's provider: set on the
// traces it starts, kept (set or unset) from a parent.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  context,
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  type Span,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { suppressTracing } from "@opentelemetry/core";
import {
  RANDOM_TRACE_ID_FLAG,
  WebCryptoIdGenerator,
} from "../../src/sdk/ids.ts";
import { contextFromTraceparent } from "../../src/core/propagation.ts";
import { forceFlush } from "../../src/sdk/tracer_provider.ts";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";

let receiver: OtlpReceiver;
let tracer: Tracer;
useTracing("test.ids", (t) => {
  receiver = t.receiver;
  tracer = t.tracer;
});

const T = "4bf92f3577b34da6a3ce929d0e0e4736";
const P = "00f067aa0ba902b7";

/** Runs `fn` with Math.random throwing, so any use of it shows. */
function withoutMathRandom<R>(fn: () => R): R {
  const original = Math.random;
  Math.random = () => {
    throw new Error("Math.random was called");
  };
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}

test("WebCryptoIdGenerator: ids from crypto.getRandomValues, never Math.random", () => {
  let calls = 0;
  const gen = new WebCryptoIdGenerator({
    getRandomValues<T extends ArrayBufferView | null>(a: T): T {
      calls++;
      return crypto.getRandomValues(a as unknown as Uint8Array) as unknown as T;
    },
  });
  const ids = withoutMathRandom(() =>
    Array.from(
      { length: 300 },
      (_, i) => i % 2 ? gen.generateSpanId() : gen.generateTraceId(),
    )
  );
  assert.ok(calls >= 1, "getRandomValues was used");
  assert.ok(calls <= 3, `one call fills many ids, got ${calls} calls`);
  for (const [i, id] of ids.entries()) {
    assert.match(id, i % 2 ? /^[0-9a-f]{16}$/ : /^[0-9a-f]{32}$/);
  }
  assert.equal(new Set(ids).size, ids.length, "no id is handed out twice");
  // The default is the global crypto.
  withoutMathRandom(() => {
    const g = new WebCryptoIdGenerator();
    assert.match(g.generateTraceId(), /^[0-9a-f]{32}$/);
    assert.match(g.generateSpanId(), /^[0-9a-f]{16}$/);
  });
});

test("WebCryptoIdGenerator: an all-zero id is drawn again", () => {
  let call = 0;
  const gen = new WebCryptoIdGenerator({
    getRandomValues<T extends ArrayBufferView | null>(a: T): T {
      const bytes = a as unknown as Uint8Array;
      bytes.fill(0);
      if (call++ > 0) bytes[bytes.length - 1] = 7;
      return a;
    },
  });
  // The first pool is all zeros: every id in it is refused, then the
  // second pool's last bytes give the id.
  assert.equal(gen.generateSpanId(), "0000000000000007");
  assert.throws(
    () => new WebCryptoIdGenerator({} as unknown as Crypto),
    TypeError,
  );
});

test("the provider's spans take their ids from crypto, not Math.random", () => {
  const span = withoutMathRandom(() => tracer.startSpan("ids: no Math.random"));
  span.end();
  assert.ok(trace.isSpanContextValid(span.spanContext()));
});

const flagsOf = (s: Span) => s.spanContext().traceFlags;
const remote = (flags: string) =>
  contextFromTraceparent(`00-${T}-${P}-${flags}`)!;

test("random flag: a trace the provider starts has it (sampled + random = 03)", () => {
  const root = tracer.startSpan("ids: root");
  assert.equal(flagsOf(root), 0x03);
  const child = tracer.startSpan(
    "ids: child",
    {},
    trace.setSpan(ROOT_CONTEXT, root),
  );
  assert.equal(flagsOf(child), 0x03, "the child keeps it");
  assert.notEqual(child.spanContext().traceId, T);
  // { root: true } starts a new trace even under a parent.
  const fresh = tracer.startSpan(
    "ids: root option",
    { root: true },
    remote("00"),
  );
  assert.notEqual(fresh.spanContext().traceId, T);
  assert.equal(flagsOf(fresh), 0x03);
  for (const s of [child, fresh, root]) s.end();
});

test("random flag: a remote parent's flag is kept, set or unset", () => {
  for (
    const [flags, want] of [
      ["00", 0x00],
      ["01", 0x01],
      ["02", 0x02],
      ["03", 0x03],
    ] as const
  ) {
    const span = tracer.startSpan(`ids: remote ${flags}`, {}, remote(flags));
    assert.equal(span.spanContext().traceId, T);
    assert.equal(flagsOf(span), want, `parent flags ${flags}`);
    // ...and passed on to its children, recording or not.
    const child = tracer.startSpan(
      "ids: grandchild",
      {},
      trace.setSpan(ROOT_CONTEXT, span),
    );
    assert.equal(flagsOf(child), want, `child of parent flags ${flags}`);
    child.end();
    span.end();
  }
});

test("random flag: startActiveSpan's spans have it too, in all three overloads", () => {
  const seen: number[] = [];
  tracer.startActiveSpan("ids: active 2", (s) => {
    seen.push(flagsOf(s));
    s.end();
  });
  tracer.startActiveSpan("ids: active 3", {}, (s) => {
    seen.push(flagsOf(s));
    s.end();
  });
  const r = tracer.startActiveSpan("ids: active 4", {}, remote("02"), (s) => {
    seen.push(flagsOf(s));
    s.end();
    return 42;
  });
  assert.equal(r, 42, "the callback's value is returned");
  assert.deepEqual(seen, [0x03, 0x03, 0x02]);
});

test("random flag: the wrapped tracer keeps the SDK tracer's other members", () => {
  const scope =
    (tracer as unknown as { instrumentationScope?: { name: string } })
      .instrumentationScope;
  assert.equal(scope?.name, "test.ids");
});

test("random flag: a suppressed span's shared invalid context is left alone", () => {
  const span = tracer.startSpan(
    "ids: suppressed",
    {},
    suppressTracing(context.active()),
  );
  assert.equal(trace.isSpanContextValid(span.spanContext()), false);
  assert.equal(INVALID_SPAN_CONTEXT.traceFlags, 0);
  span.end();
});

test("random flag: exported in the OTLP span flags", async () => {
  const span = tracer.startSpan("ids: exported");
  const id = span.spanContext().spanId;
  span.end();
  await forceFlush();
  const got = await receiver.waitForSpans((s) =>
    s.some((x) => x.spanId === id)
  );
  const s = got.find((x) => x.spanId === id)!;
  assert.equal(s.flags & 0xff, 0x03, `flags 0x${s.flags.toString(16)}`);
  assert.equal(RANDOM_TRACE_ID_FLAG, 0x02);
});
