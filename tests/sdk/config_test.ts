// Configuration from the environment and its errors: endpoint resolution,
// protocol, headers, timeouts, OTEL_SDK_DISABLED, OTEL_SEMCONV_STABILITY_OPT_IN;
// a failed SDK load; the once-only disabled warning. No provider runs in this
// process here (children get their own).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { semconvMode } from "../src/core/attributes.ts";
import {
  checkProtocol,
  DEFAULT_TRACES_ENDPOINT,
  parseHeaderList,
  resolveExporterConfig,
  resolveTracesEndpoint,
} from "../src/sdk/config.ts";
import {
  initTracer,
  isTracingEnabled,
  shutdownTracing,
} from "../src/sdk/provider.ts";
import {
  _setSdkLoader,
  isOtelAvailable,
  otelImportError,
} from "../src/sdk/load.ts";
import { getSpanExporter } from "../src/sdk/exporter.ts";
import { instrument } from "../src/vllm/instrument.ts";
import { manualInstrument } from "../src/vllm/manual_instrument.ts";
import { propagateTraceToEnv, traceEnv } from "../src/vllm/env.ts";
import { extractTraceContext } from "../src/core/headers.ts";
import { contextFromTraceparent } from "../src/core/propagation.ts";
import {
  type OtlpReceiver,
  startOtlpReceiver,
} from "./support/otlp_receiver.ts";
import {
  captureWarnings,
  lastJson,
  runFixture,
  setEnv,
  sleep,
  withEnv,
} from "./support/helpers.ts";

const CONFIG_VARS = [
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
  "OTEL_EXPORTER_OTLP_TIMEOUT",
  "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
  "OTEL_SDK_DISABLED",
  "OTEL_SEMCONV_STABILITY_OPT_IN",
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
];

/** Every config variable unset, except the given ones. */
const clean = (vars: Record<string, string | undefined> = {}) => ({
  ...Object.fromEntries(CONFIG_VARS.map((k) => [k, undefined])),
  ...vars,
});

let rx: OtlpReceiver;
let restoreEnv: () => void;

before(async () => {
  rx = await startOtlpReceiver();
  restoreEnv = setEnv(clean());
});

after(async () => {
  try {
    _setSdkLoader(undefined);
    await shutdownTracing();
  } finally {
    restoreEnv();
    await rx.close();
  }
});

/** A validator for assert.throws/rejects: the error's class and message parts. */
const errorWith = (type: typeof Error, parts: string[]) => (e: unknown) => {
  assert.ok(e instanceof type, `expected ${type.name}, got ${String(e)}`);
  for (const part of parts) {
    assert.ok(
      (e as Error).message.includes(part),
      `message lacks ${JSON.stringify(part)}: ${(e as Error).message}`,
    );
  }
  return true;
};

const rejectsWith = (
  p: Promise<unknown>,
  type: typeof Error,
  ...parts: string[]
) => assert.rejects(p, errorWith(type, parts));

const throwsWith = (
  fn: () => unknown,
  type: typeof Error,
  ...parts: string[]
) => assert.throws(fn, errorWith(type, parts));

test("precondition: no provider runs in this process", () => {
  assert.equal(isTracingEnabled(), false);
});

// ---------------------------------------------------------------------------
// Endpoint
// ---------------------------------------------------------------------------

test("resolveTracesEndpoint: explicit > TRACES_ENDPOINT > ENDPOINT + /v1/traces > default", async () => {
  await withEnv(clean(), () => {
    assert.equal(resolveTracesEndpoint(), DEFAULT_TRACES_ENDPOINT);
    assert.equal(DEFAULT_TRACES_ENDPOINT, "http://localhost:4318/v1/traces");
  });
  await withEnv(
    clean({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }),
    () => {
      assert.equal(resolveTracesEndpoint(), "http://collector:4318/v1/traces");
    },
  );
  await withEnv(
    clean({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }),
    () => {
      assert.equal(resolveTracesEndpoint(), "http://collector:4318/v1/traces");
    },
  );
  await withEnv(
    clean({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://gw.example/otlp" }),
    () => {
      assert.equal(
        resolveTracesEndpoint(),
        "https://gw.example/otlp/v1/traces",
      );
    },
  );
  await withEnv(
    clean({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://generic:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9999/custom/path",
    }),
    () => {
      // The signal-specific URL is used as is (no /v1/traces appended).
      assert.equal(resolveTracesEndpoint(), "http://traces:9999/custom/path");
      assert.equal(
        resolveTracesEndpoint("http://explicit:1234/v1/traces"),
        "http://explicit:1234/v1/traces",
      );
      assert.equal(
        resolveTracesEndpoint("  http://127.0.0.1:4318/v1/traces  "),
        "http://127.0.0.1:4318/v1/traces",
      );
    },
  );
  // Blank variables count as unset.
  await withEnv(
    clean({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "   ",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://generic:4318",
    }),
    () => {
      assert.equal(resolveTracesEndpoint(), "http://generic:4318/v1/traces");
    },
  );
  await withEnv(clean({ OTEL_EXPORTER_OTLP_ENDPOINT: "" }), () => {
    assert.equal(resolveTracesEndpoint(), DEFAULT_TRACES_ENDPOINT);
  });
});

test("resolveTracesEndpoint: malformed endpoints name the value and what is expected", async () => {
  await withEnv(clean(), () => {
    throwsWith(
      () => resolveTracesEndpoint("not a url"),
      Error,
      "'not a url'",
      "http",
    );
    throwsWith(
      () => resolveTracesEndpoint("ftp://x"),
      Error,
      "'ftp://x'",
      "ftp:",
      "http",
    );
    throwsWith(
      () => resolveTracesEndpoint("localhost:4318"),
      Error,
      "localhost:4318",
    );
    throwsWith(
      () => resolveTracesEndpoint(""),
      TypeError,
      "otlpTracesEndpoint",
    );
    throwsWith(
      () => resolveTracesEndpoint("  "),
      TypeError,
      "otlpTracesEndpoint",
    );
    throwsWith(() => resolveTracesEndpoint(42 as never), TypeError, "42");
  });
  await withEnv(
    clean({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "not a url" }),
    () => {
      throwsWith(
        () => resolveTracesEndpoint(),
        Error,
        "'not a url'",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
      );
    },
  );
  await withEnv(clean({ OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://x" }), () => {
    throwsWith(
      () => resolveTracesEndpoint(),
      Error,
      "ftp://x",
      "OTEL_EXPORTER_OTLP_ENDPOINT",
    );
  });
});

test("initTracer rejects a malformed endpoint and sets nothing up", async () => {
  await withEnv(clean(), async () => {
    await rejectsWith(
      initTracer("test.env", "not a url"),
      Error,
      "'not a url'",
    );
    await rejectsWith(initTracer("test.env", "ftp://x"), Error, "'ftp://x'");
    assert.equal(isTracingEnabled(), false);
    assert.equal(process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, undefined);
  });
  await withEnv(
    clean({ OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" }),
    async () => {
      await rejectsWith(initTracer("test.env"), Error, "not a url");
    },
  );
});

test('initTracer("") and other bad arguments are TypeErrors', async () => {
  await rejectsWith(initTracer(""), TypeError, "instrumentingModuleName", '""');
  await rejectsWith(
    initTracer(undefined as never),
    TypeError,
    "instrumentingModuleName",
  );
  await rejectsWith(
    initTracer("x", undefined, "a=1" as never),
    TypeError,
    "extraAttributes",
  );
  assert.equal(isTracingEnabled(), false);
});

// ---------------------------------------------------------------------------
// Protocol
// ---------------------------------------------------------------------------

test("protocol grpc: an Error naming grpc, http/protobuf and port 4318", async () => {
  await withEnv(
    clean({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" }),
    async () => {
      throwsWith(
        checkProtocol,
        Error,
        "'grpc'",
        "http/protobuf",
        "4318",
        "4317",
      );
      await rejectsWith(
        initTracer("test.env", rx.url),
        Error,
        "'grpc'",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "http/protobuf",
        "4318",
      );
      await rejectsWith(getSpanExporter(rx.url), Error, "'grpc'");
      assert.equal(isTracingEnabled(), false);
    },
  );
});

test("protocol http/json is refused; the generic variable is consulted", async () => {
  await withEnv(
    clean({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json" }),
    async () => {
      await rejectsWith(
        initTracer("test.env", rx.url),
        Error,
        "'http/json'",
        "http/protobuf",
      );
    },
  );
  await withEnv(clean({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }), async () => {
    await rejectsWith(
      initTracer("test.env", rx.url),
      Error,
      "'grpc'",
      "OTEL_EXPORTER_OTLP_PROTOCOL",
      "4318",
    );
  });
  await withEnv(clean({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }), () => {
    throwsWith(
      checkProtocol,
      Error,
      "'http/json'",
      "OTEL_EXPORTER_OTLP_PROTOCOL",
    );
  });
  // The signal-specific variable wins over the generic one, both ways.
  await withEnv(
    clean({
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
    }),
    () => assert.doesNotThrow(checkProtocol),
  );
  await withEnv(
    clean({
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    }),
    () =>
      throwsWith(checkProtocol, Error, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
  );
  await withEnv(clean({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" }), () => {
    assert.doesNotThrow(checkProtocol);
  });
  await withEnv(clean(), () => assert.doesNotThrow(checkProtocol));
  assert.equal(isTracingEnabled(), false);
});

// ---------------------------------------------------------------------------
// Headers and timeouts
// ---------------------------------------------------------------------------

test("parseHeaderList: k=v pairs, trimmed, percent-decoded; junk skipped", () => {
  assert.deepEqual(
    parseHeaderList(
      "a=1,b=x%20y, c = 3 ,bad,=novalue,d=%E0%A4%A,e=with=equals,f=",
    ),
    { a: "1", b: "x y", c: "3", d: "%E0%A4%A", e: "with=equals", f: "" },
  );
  assert.deepEqual(parseHeaderList(undefined), {});
  assert.deepEqual(parseHeaderList(""), {});
  assert.deepEqual(
    parseHeaderList("Authorization=Bearer%20abc%3D%3D"),
    { Authorization: "Bearer abc==" },
  );
});

test("resolveExporterConfig: headers merge (traces win) and timeouts", async () => {
  await withEnv(
    clean({
      OTEL_EXPORTER_OTLP_HEADERS: "a=1,b=2",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "b=3,c=4",
      OTEL_EXPORTER_OTLP_TIMEOUT: "2500",
    }),
    () => {
      assert.deepEqual(
        resolveExporterConfig("http://127.0.0.1:4318/v1/traces"),
        {
          url: "http://127.0.0.1:4318/v1/traces",
          headers: { a: "1", b: "3", c: "4" },
          timeoutMillis: 2500,
        },
      );
    },
  );
  await withEnv(
    clean({
      OTEL_EXPORTER_OTLP_TIMEOUT: "2500",
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "1234",
    }),
    () => assert.equal(resolveExporterConfig().timeoutMillis, 1234),
  );
  await withEnv(clean(), () => {
    const c = resolveExporterConfig();
    assert.deepEqual(c, {
      url: DEFAULT_TRACES_ENDPOINT,
      headers: {},
      timeoutMillis: 10_000,
    });
  });
  const { result, warnings } = await captureWarnings(() =>
    withEnv(
      clean({ OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "abc" }),
      () => resolveExporterConfig().timeoutMillis,
    )
  );
  assert.equal(result, 10_000);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /OTEL_EXPORTER_OTLP_TRACES_TIMEOUT='abc'/);
  const neg = await captureWarnings(() =>
    withEnv(
      clean({ OTEL_EXPORTER_OTLP_TIMEOUT: "-5" }),
      () => resolveExporterConfig().timeoutMillis,
    )
  );
  assert.equal(neg.result, 10_000);
  assert.equal(neg.warnings.length, 1);
});

// ---------------------------------------------------------------------------
// Semantic-convention mode
// ---------------------------------------------------------------------------

test("semconvMode truth table (argument and environment)", async () => {
  const table: [string | undefined, "dual" | "latest"][] = [
    [undefined, "dual"],
    ["", "dual"],
    ["gen_ai_latest_experimental", "latest"],
    ["http/dup,gen_ai_latest_experimental", "latest"],
    [" gen_ai_latest_experimental , http ", "latest"],
    ["gen_ai_latest", "dual"],
    ["database/dup", "dual"],
    ["gen_ai_latest_experimental_x", "dual"],
    ["GEN_AI_LATEST_EXPERIMENTAL", "dual"],
    [",,", "dual"],
  ];
  for (const [value, expected] of table) {
    await withEnv({ OTEL_SEMCONV_STABILITY_OPT_IN: value }, () => {
      assert.equal(semconvMode(), expected, `env ${JSON.stringify(value)}`);
    });
    if (value !== undefined) {
      await withEnv({ OTEL_SEMCONV_STABILITY_OPT_IN: undefined }, () => {
        assert.equal(
          semconvMode(value),
          expected,
          `arg ${JSON.stringify(value)}`,
        );
      });
    }
  }
  // An explicit argument wins over the environment.
  await withEnv(
    { OTEL_SEMCONV_STABILITY_OPT_IN: "gen_ai_latest_experimental" },
    () => {
      assert.equal(semconvMode(""), "dual");
      assert.equal(semconvMode("http"), "dual");
    },
  );
});

// ---------------------------------------------------------------------------
// OTEL_SDK_DISABLED
// ---------------------------------------------------------------------------

test("OTEL_SDK_DISABLED=true: initTracer sets nothing up (in this process)", async () => {
  for (const value of ["true", "TRUE", " True "]) {
    await withEnv(clean({ OTEL_SDK_DISABLED: value }), async () => {
      const before = trace.getTracerProvider();
      const tracer = await initTracer("test.disabled", rx.url);
      assert.equal(typeof tracer.startSpan, "function");
      assert.equal(isTracingEnabled(), false, value);
      assert.equal(trace.getTracerProvider(), before);
      assert.equal(process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, undefined);
      const span = tracer.startSpan("disabled_in_process");
      assert.equal(span.isRecording(), false);
      span.end();
      // No endpoint to hand to children.
      const ctx = contextFromTraceparent(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      );
      assert.equal(traceEnv(ctx).OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, undefined);
    });
  }
});

test("OTEL_SDK_DISABLED in a child: 'true' exports nothing, 'false' does not disable", async () => {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(base)) if (k.startsWith("OTEL_")) delete base[k];

  const off = await runFixture("sdk_disabled.ts", {
    ...base,
    OTEL_SDK_DISABLED: "true",
    LLMTRACE_TEST_ENDPOINT: rx.url,
    LLMTRACE_TEST_PREFIX: "sdk_off",
  });
  assert.equal(off.code, 0, off.stderr);
  assert.deepEqual(lastJson(off), {
    enabled: false,
    endpointEnv: null,
    endpointAfterShutdown: null,
  });

  const on = await runFixture("sdk_disabled.ts", {
    ...base,
    OTEL_SDK_DISABLED: "false",
    LLMTRACE_TEST_ENDPOINT: rx.url,
    LLMTRACE_TEST_PREFIX: "sdk_on",
  });
  assert.equal(on.code, 0, on.stderr);
  assert.deepEqual(lastJson(on), {
    enabled: true,
    endpointEnv: rx.url,
    endpointAfterShutdown: null,
  });
  const names = [
    "sdk_on_tracer_span",
    "sdk_on_api_span",
    "sdk_on_instrument_span",
  ];
  const spans = await rx.waitForSpans(
    (s) => names.every((n) => s.some((x) => x.name === n)),
    { timeoutMs: 10_000, message: "spans of the enabled child" },
  );
  for (const n of names) {
    const mine = spans.filter((s) => s.name === n);
    assert.equal(mine.length, 1, n);
    assert.equal(mine[0].resource["process.pid"], on.pid);
  }
  // The disabled child, which ran first, sent nothing at all.
  await sleep(100);
  assert.equal(
    rx.spans().filter((s) => s.name.startsWith("sdk_off")).length,
    0,
  );
});

// ---------------------------------------------------------------------------
// A failed SDK load
// ---------------------------------------------------------------------------

test("failed SDK load: isOtelAvailable false, initTracer rejects with the cause, the rest are no-ops", async () => {
  assert.equal(isTracingEnabled(), false, "precondition");
  const boom = new Error("boom");
  let loads = 0;
  _setSdkLoader(() => {
    loads++;
    return Promise.reject(boom);
  });
  try {
    await withEnv(clean(), async () => {
      assert.equal(await isOtelAvailable(), false);
      assert.equal(otelImportError(), boom);
      // A failed load is not cached: the next call tries again.
      assert.equal(await isOtelAvailable(), false);
      assert.equal(loads, 2);

      await assert.rejects(initTracer("test.noload", rx.url), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.equal((e as Error).cause, boom);
        assert.match((e as Error).message, /OpenTelemetry is not available/);
        assert.match((e as Error).message, /boom/);
        return true;
      });
      await assert.rejects(getSpanExporter(rx.url), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.equal((e as Error).cause, boom);
        return true;
      });
      assert.equal(otelImportError(), boom);
      assert.equal(isTracingEnabled(), false);
      assert.equal(process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, undefined);

      // Everything else still works, as no-ops.
      const sync = instrument((a: number) => a * 2, {
        spanName: "noload_sync",
      });
      assert.equal(sync(21), 42);
      const asyncFn = instrument(async () => {
        await sleep(1);
        return "ok";
      }, { spanName: "noload_async" });
      assert.equal(await asyncFn(), "ok");
      const gen = instrument(async function* () {
        yield 1;
        yield 2;
      });
      const got: number[] = [];
      for await (const v of gen()) got.push(v);
      assert.deepEqual(got, [1, 2]);
      assert.throws(
        () =>
          instrument(() => {
            throw new Error("still rethrown");
          })(),
        /still rethrown/,
      );
      const parent = extractTraceContext({
        Traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      });
      assert.equal(trace.getSpanContext(parent!)?.spanId, "00f067aa0ba902b7");
      const sc = manualInstrument({
        spanName: "noload_manual",
        startTime: Date.now() - 10,
        endTime: Date.now(),
        context: parent,
      });
      assert.equal(typeof sc.spanId, "string");
      assert.throws(
        () => manualInstrument({ spanName: "x", startTime: "bad" as never }),
        TypeError,
      );
      assert.deepEqual(traceEnv(parent), {
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      });
      assert.deepEqual(traceEnv(ROOT_CONTEXT), {});
      const seen = propagateTraceToEnv(() => process.env.traceparent, parent);
      assert.equal(
        seen,
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      );
      assert.equal(process.env.traceparent, undefined);
    });
  } finally {
    _setSdkLoader(undefined);
  }
  assert.equal(otelImportError(), undefined);
  assert.equal(await isOtelAvailable(), true);
  await sleep(50);
  assert.equal(rx.spans().filter((s) => s.name.startsWith("noload")).length, 0);
});

// ---------------------------------------------------------------------------
// logTracingDisabledWarning
// ---------------------------------------------------------------------------

test("logTracingDisabledWarning warns once per process", async () => {
  const result = await runFixture("warn_once.ts", undefined);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(lastJson(result), { calls: 3 });
  const lines = result.stderr.split("\n").filter((l) =>
    l.includes("received a request with trace context but tracing is disabled")
  );
  assert.equal(lines.length, 1, result.stderr);
});
