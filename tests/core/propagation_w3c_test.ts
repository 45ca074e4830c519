// The W3C Trace Context test suite's cases (w3c/trace-context, test/test.py,
// strict level 2, spec level 2), ported as our own table and run end to end:
// a "harness" sends each case's headers, one header line each as written,
// over a raw HTTP/1.1 connection to a test service built from traceHandler +
// tracedFetch; the service calls the harness back, and the table checks the
// traceparent/tracestate of each callback. Each row names the suite's test
// it comes from; rows marked "llmtrace" go beyond the suite (spec level 2
// rules on the random-trace-id flag). The official suite itself runs with
// tests/conformance/w3c.sh.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { tracedFetch, traceHandler } from "../../mod.ts";
import { forceFlush } from "../../src/sdk/tracer_provider.ts";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import { startServer, type TestServer } from "../support/servers.ts";

const T = "12345678901234567890123456789012";
const P = "1234567890123456";
const tp = (flags = "01", version = "00") => `${version}-${T}-${P}-${flags}`;
const tp00 = tp("00");

/** What one callback carried, as the harness parses it. */
interface Out {
  version: number;
  traceId: string;
  parentId: string;
  flags: number;
  /** Members in order; a repeated key keeps its first value. */
  state: Map<string, string>;
  /** The tracestate headers joined with ",", "" when there is none. */
  stateText: string;
}

interface Row {
  /** The suite's test (Class.test_name), or "llmtrace: ..." for our own. */
  suite: string;
  /** Request headers, in order, one header line each. */
  send: [string, string][];
  /** How many callbacks the service is asked to make. @default 1 */
  callbacks?: number;
  check(outs: Out[]): void;
}

const one = (f: (o: Out) => void) => (outs: Out[]) => f(outs[0]);
const sameTrace = one((o) => assert.equal(o.traceId, T));
const newTrace = one((o) => {
  assert.notEqual(o.traceId, T);
  assert.ok(!o.traceId.includes(T.slice(1, -1)), o.traceId);
});
const has = (entries: Record<string, string>) =>
  one((o) => {
    for (const [k, v] of Object.entries(entries)) {
      assert.equal(o.state.get(k), v, `${k} in ${o.stateText}`);
    }
  });
const lacks = (...keys: string[]) =>
  one((o) => {
    for (const k of keys) assert.ok(!o.state.has(k), `${k} in ${o.stateText}`);
  });
const all = (...checks: ((outs: Out[]) => void)[]) => (outs: Out[]) => {
  for (const c of checks) c(outs);
};
const RANDOM = 0x02;
const SAMPLED = 0x01;

// test_tracestate_all_allowed_characters
const KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
const KEY_VENDOR = `${KEY_CHARS}@a-z0-9_-*/`;
const VALUE_CHARS = (() => {
  let s = "";
  for (let c = 0x20; c <= 0x7e; c++) {
    if (c !== 0x2c && c !== 0x3d) s += String.fromCharCode(c);
  }
  return s;
})();
const members = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => {
    const n = String(from + i).padStart(2, "0");
    return `bar${n}=${n}`;
  }).join(",");

const ROWS: Row[] = [
  // --- TraceContextTest (level 1 cases; strict ones marked) -------------
  {
    suite: "TraceContextTest.test_both_traceparent_and_tracestate_missing",
    send: [],
    check: () => {},
  },
  {
    suite: "TraceContextTest.test_traceparent_included_tracestate_missing",
    send: [["traceparent", tp()]],
    check: all(sameTrace, one((o) => assert.notEqual(o.parentId, P))),
  },
  {
    suite: "TraceContextTest.test_traceparent_duplicated",
    send: [
      ["traceparent", `00-${T.slice(0, -1)}1-${P}-01`],
      ["traceparent", tp()],
    ],
    check: all(
      newTrace,
      one((o) => assert.notEqual(o.traceId, `${T.slice(0, -1)}1`)),
    ),
  },
  ...["trace-parent", "trace.parent"].map((name): Row => ({
    suite: `TraceContextTest.test_traceparent_header_name (${name})`,
    send: [[name, tp()]],
    check: newTrace,
  })),
  ...["TraceParent", "TrAcEpArEnT", "TRACEPARENT"].map((name): Row => ({
    suite:
      `TraceContextTest.test_traceparent_header_name_valid_casing (${name})`,
    send: [[name, tp()]],
    check: sameTrace,
  })),
  ...[`${tp()}.`, `${tp()}-what-the-future-will-be-like`].map((v): Row => ({
    suite: `TraceContextTest.test_traceparent_version_0x00 (${v.slice(55)})`,
    send: [["traceparent", v]],
    check: newTrace,
  })),
  ...[
    [tp("01", "cc"), sameTrace],
    [`${tp("01", "cc")}-what-the-future-will-be-like`, sameTrace],
    [`${tp("01", "cc")}.what-the-future-will-be-like`, newTrace],
  ].map(([v, check]): Row => ({
    suite: `TraceContextTest.test_traceparent_version_0xcc (${
      String(v).slice(55) || "plain"
    })`,
    send: [["traceparent", v as string]],
    check: check as Row["check"],
  })),
  {
    suite: "TraceContextTest.test_traceparent_version_0xff",
    send: [["traceparent", tp("01", "ff")]],
    check: newTrace,
  },
  ...[".0", "0."].map((v): Row => ({
    suite:
      `TraceContextTest.test_traceparent_version_illegal_characters (${v})`,
    send: [["traceparent", tp("01", v)]],
    check: newTrace,
  })),
  ...["000", "0000"].map((v): Row => ({
    suite: `TraceContextTest.test_traceparent_version_too_long (${v})`,
    send: [["traceparent", tp("01", v)]],
    check: newTrace,
  })),
  {
    suite: "TraceContextTest.test_traceparent_version_too_short",
    send: [["traceparent", tp("01", "0")]],
    check: newTrace,
  },
  {
    suite: "TraceContextTest.test_traceparent_trace_id_all_zero",
    send: [["traceparent", `00-${"0".repeat(32)}-${P}-01`]],
    check: one((o) => assert.notEqual(o.traceId, "0".repeat(32))),
  },
  ...[`.${T.slice(1)}`, `${T.slice(0, -1)}.`].map((id): Row => ({
    suite:
      `TraceContextTest.test_traceparent_trace_id_illegal_characters (${id})`,
    send: [["traceparent", `00-${id}-${P}-01`]],
    check: newTrace,
  })),
  {
    suite: "TraceContextTest.test_traceparent_trace_id_too_long",
    send: [["traceparent", `00-${T}3-${P}-01`]],
    check: all(
      newTrace,
      one((o) => assert.notEqual(o.traceId, `${T}3`.slice(1))),
    ),
  },
  {
    suite: "TraceContextTest.test_traceparent_trace_id_too_short",
    send: [["traceparent", `00-${T.slice(0, -1)}-${P}-01`]],
    check: newTrace,
  },
  {
    suite: "TraceContextTest.test_traceparent_parent_id_all_zero",
    send: [["traceparent", `00-${T}-${"0".repeat(16)}-01`]],
    check: newTrace,
  },
  ...[`.${P.slice(1)}`, `${P.slice(0, -1)}.`].map((id): Row => ({
    suite:
      `TraceContextTest.test_traceparent_parent_id_illegal_characters (${id})`,
    send: [["traceparent", `00-${T}-${id}-01`]],
    check: newTrace,
  })),
  {
    suite: "TraceContextTest.test_traceparent_parent_id_too_long",
    send: [["traceparent", `00-${T}-${P}7-01`]],
    check: newTrace,
  },
  {
    suite: "TraceContextTest.test_traceparent_parent_id_too_short",
    send: [["traceparent", `00-${T}-${P.slice(0, -1)}-01`]],
    check: newTrace,
  },
  ...[".0", "0."].map((f): Row => ({
    suite:
      `TraceContextTest.test_traceparent_trace_flags_illegal_characters (${f})`,
    send: [["traceparent", tp(f)]],
    check: newTrace,
  })),
  {
    suite: "TraceContextTest.test_traceparent_trace_flags_too_long",
    send: [["traceparent", tp("001")]],
    check: newTrace,
  },
  {
    suite: "TraceContextTest.test_traceparent_trace_flags_too_short",
    send: [["traceparent", tp("1")]],
    check: newTrace,
  },
  ...[` ${tp()}`, `\t${tp()}`, `${tp()} `, `${tp()}\t`, `\t ${tp()} \t`].map(
    (v): Row => ({
      suite: `TraceContextTest.test_traceparent_ows_handling (${
        JSON.stringify(v.replace(tp(), "…"))
      })`,
      send: [["traceparent", v]],
      check: sameTrace,
    }),
  ),
  ...["foo=1", "foo=1,bar=2"].map((v): Row => ({
    // The suite compares the two answers' sizes: both must be discarded.
    suite:
      `TraceContextTest.test_tracestate_included_traceparent_missing (${v})`,
    send: [["tracestate", v]],
    check: lacks("foo", "bar"),
  })),
  {
    suite: "TraceContextTest.test_tracestate_included_traceparent_included",
    send: [["traceparent", tp00], ["tracestate", "foo=1,bar=2"]],
    check: all(sameTrace, has({ foo: "1", bar: "2" })),
  },
  ...["trace-state", "trace.state"].map((name): Row => ({
    suite: `TraceContextTest.test_tracestate_header_name (${name})`,
    send: [["traceparent", tp00], [name, "foo=1"]],
    check: lacks("foo"),
  })),
  ...["TraceState", "TrAcEsTaTe", "TRACESTATE"].map((name): Row => ({
    suite:
      `TraceContextTest.test_tracestate_header_name_valid_casing (${name})`,
    send: [["traceparent", tp00], [name, "foo=1"]],
    check: has({ foo: "1" }),
  })),
  {
    suite: "TraceContextTest.test_tracestate_empty_header (empty)",
    send: [["traceparent", tp00], ["tracestate", ""]],
    check: all(sameTrace, one((o) => assert.equal(o.state.size, 0))),
  },
  ...[[["tracestate", "foo=1"], ["tracestate", ""]], [["tracestate", ""], [
    "tracestate",
    "foo=1",
  ]]].map((h, i): Row => ({
    suite: `TraceContextTest.test_tracestate_empty_header (${
      i ? "empty first" : "empty last"
    })`,
    send: [["traceparent", tp00], ...h as [string, string][]],
    check: all(sameTrace, has({ foo: "1" })),
  })),
  {
    suite: "TraceContextTest.test_tracestate_multiple_headers_different_keys",
    send: [
      ["traceparent", tp00],
      ["tracestate", "foo=1,bar=2"],
      ["tracestate", "rojo=1,congo=2"],
      ["tracestate", "baz=3"],
    ],
    check: all(
      sameTrace,
      one((o) => {
        const at = ["foo=1", "bar=2", "rojo=1", "congo=2", "baz=3"].map((m) =>
          o.stateText.indexOf(m)
        );
        assert.ok(at.every((i) => i >= 0), o.stateText);
        assert.deepEqual([...at].sort((a, b) => a - b), at, o.stateText);
      }),
    ),
  },
  // Strict: a duplicated key is not a reason to drop the header; either
  // duplicate may stay ("kept as-is or one of them discarded").
  ...[
    [["tracestate", "foo=1,foo=1"]],
    [["tracestate", "foo=1,foo=2"]],
    [["tracestate", "foo=1"], ["tracestate", "foo=1"]],
    [["tracestate", "foo=1"], ["tracestate", "foo=2"]],
  ].map((h): Row => ({
    suite: `TraceContextTest.test_tracestate_duplicated_keys (${
      h.map(([, v]) => v).join(" | ")
    })`,
    send: [["traceparent", tp00], ...h as [string, string][]],
    check: all(
      sameTrace,
      one((o) => {
        const any = h.map(([, v]) => v.split(",")).flat();
        assert.ok(
          any.some((m) => o.stateText.includes(m)),
          `tracestate: ${JSON.stringify(o.stateText)}`,
        );
      }),
    ),
  })),
  ...[KEY_CHARS, KEY_VENDOR].map((key): Row => ({
    suite: `TraceContextTest.test_tracestate_all_allowed_characters (${
      key === KEY_CHARS ? "no vendor" : "vendor"
    })`,
    send: [["traceparent", tp00], ["tracestate", `${key}=${VALUE_CHARS}`]],
    check: has({ [key]: VALUE_CHARS }),
  })),
  ...[
    "foo=1 \t , \t bar=2, \t baz=3",
    "foo=1\t \t,\t \tbar=2,\t \tbaz=3",
  ].map((v): Row => ({
    suite: `TraceContextTest.test_tracestate_ows_handling (${
      JSON.stringify(v)
    })`,
    send: [["traceparent", tp00], ["tracestate", v]],
    check: has({ foo: "1", bar: "2", baz: "3" }),
  })),
  ...[" foo=1", "\tfoo=1", "foo=1 ", "foo=1\t", "\t foo=1 \t"].map((
    v,
  ): Row => ({
    suite: `TraceContextTest.test_tracestate_ows_handling (${
      JSON.stringify(v)
    })`,
    send: [["traceparent", tp00], ["tracestate", v]],
    check: all(sameTrace, has({ foo: "1" })),
  })),
  ...[["foo =1", "foo "], ["FOO=1", "FOO"], ["foo.bar=1", "foo.bar"]].map(
    ([v, key]): Row => ({
      suite:
        `TraceContextTest.test_tracestate_key_illegal_characters, strict (${v})`,
      send: [["traceparent", tp00], ["tracestate", v]],
      check: lacks(key),
    }),
  ),
  ...[
    ["foo@=1,bar=2", has({ "foo@": "1", bar: "2" })],
    ["@foo=1,bar=2", lacks("bar")],
    ["foo@@bar=1,bar=2", has({ "foo@@bar": "1", bar: "2" })],
    ["foo@bar@baz=1,bar=2", has({ "foo@bar@baz": "1", bar: "2" })],
  ].map(([v, check]): Row => ({
    suite:
      `TraceContextTest.test_tracestate_key_illegal_vendor_format, strict (${v})`,
    send: [["traceparent", tp00], ["tracestate", v as string]],
    check: check as Row["check"],
  })),
  {
    suite: "TraceContextTest.test_tracestate_member_count_limit, strict (32)",
    send: [
      ["traceparent", tp00],
      ["tracestate", members(1, 10)],
      ["tracestate", members(11, 20)],
      ["tracestate", members(21, 30)],
      ["tracestate", members(31, 32)],
    ],
    check: all(
      has({ bar01: "01" }),
      one((o) => assert.equal(o.state.size, 32)),
    ),
  },
  {
    suite: "TraceContextTest.test_tracestate_member_count_limit, strict (33)",
    send: [
      ["traceparent", tp00],
      ["tracestate", members(1, 10)],
      ["tracestate", members(11, 20)],
      ["tracestate", members(21, 30)],
      ["tracestate", members(31, 33)],
    ],
    check: lacks("bar01"),
  },
  ...[
    ["z".repeat(256), true],
    ["z".repeat(257), false],
    [`${"t".repeat(241)}@${"v".repeat(14)}`, true],
    [`${"t".repeat(242)}@v`, true],
    [`t@${"v".repeat(15)}`, true],
  ].map(([key, kept]): Row => ({
    suite: `TraceContextTest.test_tracestate_key_length_limit, strict (${
      String(key).length
    } characters)`,
    send: [["traceparent", tp00], ["tracestate", "foo=1"], [
      "tracestate",
      `${key}=1`,
    ]],
    check: kept ? has({ foo: "1", [key as string]: "1" }) : lacks("foo"),
  })),
  {
    suite:
      "TraceContextTest.test_tracestate_value_illegal_characters, strict (foo=bar=baz)",
    send: [["traceparent", tp00], ["tracestate", "foo=bar=baz"]],
    check: lacks("foo"),
  },
  {
    suite:
      "TraceContextTest.test_tracestate_value_illegal_characters, strict (foo=,bar=3)",
    send: [["traceparent", tp00], ["tracestate", "foo=,bar=3"]],
    check: lacks("foo", "bar"),
  },
  // --- AdvancedTest -----------------------------------------------------
  {
    suite: "AdvancedTest.test_multiple_requests_with_valid_traceparent",
    send: [["traceparent", tp()]],
    callbacks: 3,
    check: (outs) => {
      assert.deepEqual([...new Set(outs.map((o) => o.traceId))], [T]);
      assert.equal(new Set(outs.map((o) => o.parentId)).size, 3);
    },
  },
  {
    suite: "AdvancedTest.test_multiple_requests_without_traceparent",
    send: [],
    callbacks: 3,
    check: (outs) => assert.equal(new Set(outs.map((o) => o.parentId)).size, 3),
  },
  {
    suite: "AdvancedTest.test_multiple_requests_with_illegal_traceparent",
    send: [["traceparent", `00-${"0".repeat(32)}-${P}-01`]],
    callbacks: 3,
    check: (outs) => {
      assert.ok(!outs.some((o) => o.traceId === "0".repeat(32)));
      assert.equal(new Set(outs.map((o) => o.parentId)).size, 3);
    },
  },
  // --- TraceContext2Test (spec level 2) ---------------------------------
  {
    suite: "TraceContext2Test.test_propagates_random_flag",
    send: [["traceparent", tp("02")]],
    check: all(
      sameTrace,
      one((o) => assert.notEqual(o.parentId, P)),
      one((o) => assert.equal(o.flags & RANDOM, RANDOM, `flags ${o.flags}`)),
    ),
  },
  // --- llmtrace's own, level 2 rules the suite does not check -----------
  ...[["01", SAMPLED], ["03", SAMPLED | RANDOM], ["00", 0], [
    "ff",
    SAMPLED | RANDOM,
  ]].map(
    ([flags, want]): Row => ({
      // "If the flag is unset in the incoming traceparent header, it MUST
      // also be unset"; unknown flags are set to 0 on outgoing requests.
      suite: `llmtrace: incoming flags ${flags} continue as ${
        String(want).padStart(2, "0")
      }`,
      send: [["traceparent", tp(flags as string)]],
      check: all(
        sameTrace,
        one((o) => assert.equal(o.flags, want, `flags ${o.flags}`)),
      ),
    }),
  ),
  ...[[], [["traceparent", tp("01", "ff")]]].map((h): Row => ({
    // Starting or restarting a trace with random ids: the flag SHOULD be set.
    suite: `llmtrace: a trace llmtrace starts has the random flag (${
      h.length ? "invalid parent" : "no parent"
    })`,
    send: h as [string, string][],
    callbacks: 2,
    check: (outs) => {
      for (const o of outs) {
        assert.equal(o.flags, SAMPLED | RANDOM, `flags ${o.flags}`);
      }
    },
  })),
];

// ---------------------------------------------------------------------------
// The harness: records callbacks; the service: traceHandler + tracedFetch.
// ---------------------------------------------------------------------------

let receiver: OtlpReceiver;
useTracing("test.propagation_w3c", (t) => {
  receiver = t.receiver;
});

const callbacks = new Map<string, Headers>();
let harness: TestServer;
let service: TestServer;

before(() => {
  harness = startServer(async (req) => {
    await req.arrayBuffer();
    callbacks.set(new URL(req.url).pathname, new Headers(req.headers));
    return Response.json(null);
  });
  service = startServer(traceHandler(async (req: Request) => {
    const actions = await req.json() as { url: string; arguments: unknown }[];
    for (const a of actions) {
      const res = await tracedFetch(a.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(a.arguments),
      }, { request: req });
      await res.arrayBuffer();
    }
    return Response.json({ ok: true });
  }, { route: "/test" }));
});

after(async () => {
  await service?.stop();
  await harness?.stop();
});

/** One request with each header on its own line, as the suite's harness sends them. */
function rawPost(
  port: number,
  headers: [string, string][],
  body: string,
  timeoutMs = 5_000,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs}ms`));
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("connect", () => {
      const lines = [
        "POST /test HTTP/1.1",
        `Host: 127.0.0.1:${port}`,
        "Content-Type: application/json",
        `Content-Length: ${new TextEncoder().encode(body).byteLength}`,
        "Connection: close",
        ...headers.map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join("\r\n")}\r\n\r\n${body}`);
    });
    socket.on("data", (d: string) => {
      data += d;
    });
    socket.on("error", (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Number(data.split(" ")[1]));
    });
  });
}

const TRACEPARENT =
  /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const MEMBER =
  /^([0-9a-z][_0-9a-z\-*/@]{0,255})=([\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e])$/;

/** Reads a callback's trace headers strictly, as the suite's harness does. */
function parseOut(h: Headers): Out {
  const tpv = h.get("traceparent");
  const m = tpv === null ? null : TRACEPARENT.exec(tpv);
  assert.ok(m, `expected one valid traceparent, got ${JSON.stringify(tpv)}`);
  const [, version, traceId, parentId, flags] = m;
  assert.equal(version, "00", "a version-00 traceparent");
  assert.notEqual(traceId, "0".repeat(32));
  assert.notEqual(parentId, "0".repeat(16));
  const stateText = h.get("tracestate") ?? "";
  const state = new Map<string, string>();
  for (const member of stateText.split(/[ \t]*,[ \t]*/)) {
    if (!member) continue;
    const mm = MEMBER.exec(member);
    assert.ok(mm, `illegal tracestate member ${JSON.stringify(member)}`);
    if (!state.has(mm[1])) state.set(mm[1], mm[2]);
  }
  return {
    version: parseInt(version, 16),
    traceId,
    parentId,
    flags: parseInt(flags, 16),
    state,
    stateText,
  };
}

let seq = 0;
for (const row of ROWS) {
  test(`W3C: ${row.suite}`, async () => {
    const id = `c${++seq}`;
    const n = row.callbacks ?? 1;
    const urls = Array.from(
      { length: n },
      (_, i) => `${harness.origin}/${id}.${i}`,
    );
    const status = await rawPost(
      service.port,
      row.send,
      JSON.stringify(urls.map((url) => ({ url, arguments: [] }))),
    );
    assert.equal(status, 200, "the test service answers 200");
    const outs = urls.map((u) => {
      const h = callbacks.get(new URL(u).pathname);
      assert.ok(h, `no callback to ${u}`);
      return parseOut(h);
    });
    row.check(outs);
  });
}

test("W3C: the table covers all 41 tests of the suite at strict level 2, spec level 2", () => {
  const names = new Set(
    ROWS.map((r) => r.suite).filter((s) => !s.startsWith("llmtrace:"))
      .map((s) => s.split(/[ ,]/)[0]),
  );
  assert.equal(names.size, 41, [...names].join("\n"));
});

test("W3C: the spans of the table reached the receiver with the flags they propagated", async () => {
  await forceFlush();
  const spans = receiver.spans().filter((s) => s.traceId === T);
  assert.ok(spans.length > 0, "spans of the continued traces were exported");
  // OTLP span flags: bits 0-7 are the W3C trace flags.
  for (const s of spans) {
    const parentFlags = s.flags & 0xff;
    assert.equal(parentFlags & ~(SAMPLED | RANDOM), 0, `flags ${s.flags}`);
  }
  const roots = receiver.spans().filter((s) => s.parentSpanId === undefined);
  assert.ok(roots.length > 0, "traces started here were exported");
  for (const s of roots) {
    assert.equal(s.flags & RANDOM, RANDOM, `root ${s.name} flags ${s.flags}`);
  }
});
