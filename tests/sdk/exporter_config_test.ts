// Exporter configuration from the environment and its errors: endpoint
// resolution, protocol, headers, timeouts; initTracer refusing a malformed
// endpoint or bad arguments. No provider runs in this process here.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import {
  DEFAULT_TRACES_ENDPOINT,
  resolveExporterConfig,
  resolveTracesEndpoint,
} from "../../src/sdk/exporter_config.ts";
import { checkProtocol, parseHeaderList } from "../../src/core/env_config.ts";
import { initTracer, isTracingEnabled } from "../../src/sdk/tracer_provider.ts";
import { getSpanExporter } from "../../src/sdk/exporter.ts";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { captureWarnings, withEnv } from "../support/helpers.ts";
import { clean, useConfigEnv } from "../support/config_env.ts";

let rx: OtlpReceiver;
useConfigEnv((r) => (rx = r));

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
          otlp: true,
          console: false,
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
      otlp: true,
      console: false,
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

test("protocol console and OTEL_TRACES_EXPORTER pick OTLP, the console, both or none (the endpoint unchecked when unused)", async () => {
  const cases: [Record<string, string>, boolean, boolean][] = [
    [{}, true, false],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: "console" }, false, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "CONSOLE" }, false, true],
    [
      {
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf",
        OTEL_EXPORTER_OTLP_PROTOCOL: "console",
      },
      true,
      false,
    ],
    [{ OTEL_TRACES_EXPORTER: "console" }, false, true],
    [{ OTEL_TRACES_EXPORTER: "otlp, console" }, true, true],
    [{ OTEL_TRACES_EXPORTER: "none" }, false, false],
    // grpc would be an error, but nothing goes over OTLP
    [
      { OTEL_TRACES_EXPORTER: "console", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
      false,
      true,
    ],
    [
      {
        OTEL_EXPORTER_OTLP_PROTOCOL: "console",
        OTEL_EXPORTER_OTLP_ENDPOINT: "nope",
      },
      false,
      true,
    ],
  ];
  for (const [vars, otlp, console] of cases) {
    await withEnv(clean(vars), () => {
      const c = resolveExporterConfig();
      assert.deepEqual(
        [c.otlp, c.console],
        [otlp, console],
        JSON.stringify(vars),
      );
    });
  }
  await withEnv(clean({ OTEL_TRACES_EXPORTER: "jaeger" }), async () => {
    const { warnings } = await captureWarnings(() => {
      assert.deepEqual(
        [resolveExporterConfig().otlp, resolveExporterConfig().console],
        [true, false],
      );
    });
    assert.ok(
      warnings.some((w) =>
        w.includes("'jaeger' in OTEL_TRACES_EXPORTER='jaeger'")
      ),
      warnings.join("\n"),
    );
  });
});
