// Self-test of the OTLP test receiver. The request bodies are encoded here
// field-by-field with protobufjs' low-level Writer (explicit field numbers and
// wire types), i.e. independently of the receiver's reflected schema.
import { test } from "node:test";
import assert from "node:assert/strict";
import protobuf from "protobufjs";
import {
  decodeExportTraceRequest,
  type ReceivedSpan,
  spansByName,
  spanTree,
  startOtlpReceiver,
} from "./otlp_receiver.ts";

// --- tiny hand-rolled OTLP encoder -----------------------------------------

const VARINT = 0, I64 = 1, LEN = 2, I32 = 5;
type W = protobuf.Writer;
type Build = (w: W) => void;

const tag = (w: W, field: number, wire: number) =>
  w.uint32(((field << 3) | wire) >>> 0);

function varint64(v: bigint): Uint8Array {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let b = Number(u & 0x7fn);
    u >>= 7n;
    if (u !== 0n) b |= 0x80;
    out.push(b);
  } while (u !== 0n);
  return Uint8Array.from(out);
}

const str = (field: number, s: string): Build => (w) =>
  tag(w, field, LEN).string(s);
const bytes = (field: number, b: Uint8Array): Build => (w) =>
  tag(w, field, LEN).bytes(b);
const msg = (field: number, ...parts: Build[]): Build => (w) => {
  tag(w, field, LEN).fork();
  for (const p of parts) p(w);
  w.ldelim();
};
const enumv = (field: number, n: number): Build => (w) =>
  tag(w, field, VARINT).int32(n);
const fixed32 = (field: number, n: number): Build => (w) =>
  tag(w, field, I32).fixed32(n);
const fixed64 = (field: number, v: bigint): Build => (w) =>
  tag(w, field, I64)
    .fixed32(Number(v & 0xffffffffn))
    .fixed32(Number((v >> 32n) & 0xffffffffn));

// AnyValue
const anyString = (s: string) => str(1, s);
const anyBool = (b: boolean): Build => (w) => tag(w, 2, VARINT).bool(b);
const anyInt = (v: bigint): Build => (w) => tag(w, 3, VARINT).raw(varint64(v));
const anyDouble = (d: number): Build => (w) => tag(w, 4, I64).double(d);
const anyArray = (...vals: Build[]) => msg(5, ...vals.map((v) => msg(1, v))); // ArrayValue.values = 1
const anyKvlist = (...kvs: Build[]) => msg(6, ...kvs); // KeyValueList.values = 1
const anyBytes = (b: Uint8Array) => bytes(7, b);
// KeyValue{key=1, value=2} as field `field` of the parent
const kv = (field: number, key: string, value: Build) =>
  msg(field, str(1, key), msg(2, value));

function encode(...parts: Build[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const p of parts) p(w);
  return w.finish();
}

const fromHex = (h: string) =>
  Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const LINK_TRACE = "11112222333344445555666677778888";
const ROOT_ID = "b7ad6b7169203331";
const CHILD_ID = "00f067aa0ba902b7";
const LINK_SPAN = "0102030405060708";
const BIG = 9007199254740993n; // 2^53 + 1, not a safe integer
const T0 = 1_700_000_000_123_456_789n;

function sampleRequest(): Uint8Array {
  const resource = msg(
    1,
    kv(1, "service.name", anyString("receiver-selftest")),
    kv(1, "service.instance.count", anyInt(3n)),
  );
  const scope = msg(1, str(1, "llmtrace-test"), str(2, "1.2.3"));
  const root = msg(
    2, // ScopeSpans.spans
    bytes(1, fromHex(TRACE)),
    bytes(2, fromHex(ROOT_ID)),
    str(3, "vendor=a"),
    str(5, "root op"),
    enumv(6, 2), // server
    fixed64(7, T0),
    fixed64(8, T0 + 5_000_000_000n),
    fixed32(16, 0x101),
    kv(9, "s", anyString("hello")),
    msg(15, str(2, ""), enumv(3, 1)), // status ok
  );
  const child = msg(
    2,
    bytes(1, fromHex(TRACE)),
    bytes(2, fromHex(CHILD_ID)),
    bytes(4, fromHex(ROOT_ID)),
    str(5, "chat gpt-x"),
    enumv(6, 3), // client
    fixed64(7, T0 + 1n),
    fixed64(8, T0 + 2_000_000_000n),
    fixed32(16, 1),
    kv(9, "str", anyString("value")),
    kv(9, "bool", anyBool(true)),
    kv(9, "int", anyInt(42n)),
    kv(9, "negint", anyInt(-7n)),
    kv(9, "bigint", anyInt(BIG)),
    kv(9, "double", anyDouble(0.5)),
    kv(9, "wholedouble", anyDouble(3)),
    kv(
      9,
      "arr",
      anyArray(anyString("a"), anyInt(1n), anyDouble(1.5), anyBool(false)),
    ),
    kv(
      9,
      "kv",
      anyKvlist(kv(1, "inner", anyString("x")), kv(1, "n", anyInt(2n))),
    ),
    kv(9, "bytes", anyBytes(Uint8Array.from([0, 1, 254, 255]))),
    msg(
      11, // event
      fixed64(1, T0 + 100n),
      str(2, "gen_ai.content.prompt"),
      kv(3, "gen_ai.prompt", anyString("hi")),
    ),
    msg(
      13, // link
      bytes(1, fromHex(LINK_TRACE)),
      bytes(2, fromHex(LINK_SPAN)),
      str(3, "k=v"),
      kv(4, "link.attr", anyInt(9n)),
      fixed32(6, 1),
    ),
    msg(15, str(2, "boom"), enumv(3, 2)), // status error
  );
  // ExportTraceServiceRequest.resource_spans = 1 { resource=1, scope_spans=2 { scope=1, spans=2 } }
  return encode(msg(1, resource, msg(2, scope, root, child), str(3, "")));
}

function post(
  url: string,
  body: Uint8Array,
  contentType = "application/x-protobuf",
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": contentType },
    body: body as BodyInit,
  });
}

function assertSample(spans: ReceivedSpan[]) {
  assert.equal(spans.length, 2, spanTree(spans));
  const [root] = spansByName(spans, "root op");
  const [child] = spansByName(spans, "chat gpt-x");
  assert.ok(root && child, spanTree(spans));

  for (const s of spans) {
    assert.deepEqual(s.resource, {
      "service.name": "receiver-selftest",
      "service.instance.count": 3,
    });
    assert.deepEqual(s.scope, { name: "llmtrace-test", version: "1.2.3" });
    assert.equal(s.traceId, TRACE);
  }

  assert.equal(root.spanId, ROOT_ID);
  assert.equal(root.parentSpanId, undefined);
  assert.equal(root.kind, 2);
  assert.equal(root.traceState, "vendor=a");
  assert.equal(root.flags, 0x101);
  assert.equal(root.startTimeUnixNano, T0);
  assert.equal(root.endTimeUnixNano, T0 + 5_000_000_000n);
  assert.deepEqual(root.attributes, { s: "hello" });
  assert.deepEqual(root.attributeTypes, { s: "string" });
  assert.deepEqual(root.events, []);
  assert.deepEqual(root.links, []);
  assert.deepEqual(root.status, { code: 1, message: "" });

  assert.equal(child.spanId, CHILD_ID);
  assert.equal(child.parentSpanId, ROOT_ID);
  assert.equal(child.kind, 3);
  assert.equal(child.traceState, "");
  assert.equal(child.flags, 1);
  assert.equal(child.startTimeUnixNano, T0 + 1n);
  assert.equal(child.endTimeUnixNano, T0 + 2_000_000_000n);
  assert.deepEqual(child.attributes, {
    str: "value",
    bool: true,
    int: 42,
    negint: -7,
    bigint: BIG,
    double: 0.5,
    wholedouble: 3,
    arr: ["a", 1, 1.5, false],
    kv: { inner: "x", n: 2 },
    bytes: Uint8Array.from([0, 1, 254, 255]),
  });
  assert.deepEqual(child.attributeTypes, {
    str: "string",
    bool: "bool",
    int: "int",
    negint: "int",
    bigint: "int",
    double: "double",
    wholedouble: "double",
    arr: "array",
    kv: "kvlist",
    bytes: "bytes",
  });
  assert.equal(typeof child.attributes.bigint, "bigint");
  assert.deepEqual(child.events, [
    {
      name: "gen_ai.content.prompt",
      timeUnixNano: T0 + 100n,
      attributes: { "gen_ai.prompt": "hi" },
    },
  ]);
  assert.deepEqual(child.links, [
    {
      traceId: LINK_TRACE,
      spanId: LINK_SPAN,
      traceState: "k=v",
      attributes: { "link.attr": 9 },
    },
  ]);
  assert.deepEqual(child.status, { code: 2, message: "boom" });

  assert.equal(spanTree(spans), "root op (server)\n  chat gpt-x (client)");
}

// --- tests -----------------------------------------------------------------

test("decodeExportTraceRequest decodes every field (pure)", () => {
  assertSample(decodeExportTraceRequest(sampleRequest()));
  assert.deepEqual(decodeExportTraceRequest(new Uint8Array(0)), []);
  assert.throws(() =>
    decodeExportTraceRequest(Uint8Array.from([0x0a, 0x05, 0x01]))
  );
});

test("receiver accepts protobuf POSTs and decodes spans", async () => {
  const rx = await startOtlpReceiver();
  try {
    assert.match(rx.url, /^http:\/\/127\.0\.0\.1:\d+\/v1\/traces$/);
    assert.equal(rx.endpoint, `http://127.0.0.1:${rx.port}`);
    assert.equal(rx.url, `${rx.endpoint}/v1/traces`);

    const body = sampleRequest();
    const res = await post(rx.url, body);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-protobuf");
    assert.equal((await res.arrayBuffer()).byteLength, 0); // empty response msg

    const spans = await rx.waitForSpanCount(2, 2000);
    assertSample(spans);
    assertSample(rx.spans());
    const reqs = rx.requests();
    assert.equal(reqs.length, 1);
    assert.equal(reqs[0].status, 200);
    assert.equal(reqs[0].contentType, "application/x-protobuf");
    assert.equal(reqs[0].bodyBytes, body.length);
    assert.equal(reqs[0].spanCount, 2);
    assert.equal(reqs[0].error, undefined);

    // Malformed protobuf -> 400, error remembered, no spans added.
    const bad = await post(rx.url, Uint8Array.from([0x0a, 0x05, 0x01]));
    assert.equal(bad.status, 400);
    await bad.arrayBuffer();
    assert.equal(rx.requests()[1].status, 400);
    assert.match(rx.requests()[1].error ?? "", /decode error/);
    assert.equal(rx.spans().length, 2);

    // Wrong path / method.
    const notFound = await post(`${rx.endpoint}/v1/metrics`, body);
    assert.equal(notFound.status, 404);
    await notFound.arrayBuffer();
    const get = await fetch(rx.url);
    assert.equal(get.status, 405);
    await get.arrayBuffer();

    rx.clear();
    assert.deepEqual(rx.spans(), []);
    assert.deepEqual(rx.requests(), []);
  } finally {
    await rx.close();
  }
});

test("receiver rejects non-protobuf content types with 415", async () => {
  const rx = await startOtlpReceiver();
  try {
    const res = await fetch(rx.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ resourceSpans: [] }),
    });
    assert.equal(res.status, 415);
    await res.arrayBuffer();
    const [r] = rx.requests();
    assert.equal(r.status, 415);
    assert.equal(r.contentType, "application/json");
    assert.match(r.error ?? "", /unsupported content-type/);
    assert.deepEqual(rx.spans(), []);
  } finally {
    await rx.close();
  }
});

test("fault injection hook: 503 with Retry-After, then normal", async () => {
  const seen: { index: number; bodyBytes: number; ua: string | null }[] = [];
  const rx = await startOtlpReceiver({
    respond: ({ index, headers, bodyBytes }) => {
      seen.push({ index, bodyBytes, ua: headers.get("x-test") });
      return index === 0
        ? { status: 503, headers: { "retry-after": "1" }, delayMs: 30 }
        : undefined;
    },
  });
  try {
    const body = sampleRequest();
    const send = () =>
      fetch(rx.url, {
        method: "POST",
        headers: { "content-type": "application/x-protobuf", "x-test": "yes" },
        body: body as BodyInit,
      });
    const first = await send();
    assert.equal(first.status, 503);
    assert.equal(first.headers.get("retry-after"), "1");
    await first.arrayBuffer();
    assert.deepEqual(rx.spans(), [], "rejected batch must not be recorded");

    const second = await send();
    assert.equal(second.status, 200);
    await second.arrayBuffer();
    assert.equal((await rx.waitForSpanCount(2, 2000)).length, 2);

    assert.deepEqual(seen, [
      { index: 0, bodyBytes: body.length, ua: "yes" },
      { index: 1, bodyBytes: body.length, ua: "yes" },
    ]);
    assert.deepEqual(rx.requests().map((r) => r.status), [503, 200]);
  } finally {
    await rx.close();
  }
});

test("waitForSpans times out with the received span names", async () => {
  const rx = await startOtlpReceiver();
  try {
    const res = await post(rx.url, sampleRequest());
    await res.arrayBuffer();
    const started = Date.now();
    await assert.rejects(
      rx.waitForSpans((s) => spansByName(s, "nope").length > 0, {
        timeoutMs: 100,
        message: "want nope",
      }),
      (e: Error) => {
        assert.match(e.message, /want nope/);
        assert.match(e.message, /root op/);
        assert.match(e.message, /chat gpt-x/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 2000);
  } finally {
    await rx.close();
  }
});

test("close() cancels a pending injected delay promptly", async () => {
  const rx = await startOtlpReceiver({
    respond: () => ({ status: 200, delayMs: 60_000 }),
  });
  const pending = post(rx.url, sampleRequest()).then(
    async (r) => {
      await r.arrayBuffer();
      return r.status;
    },
    () => "aborted" as const,
  );
  await rx.waitForSpans(() => rx.requests().length === 1, { timeoutMs: 2000 });
  const started = Date.now();
  await rx.close();
  await pending; // either answered early or connection closed; never hangs
  assert.ok(Date.now() - started < 5000);
  await rx.close(); // idempotent
});
