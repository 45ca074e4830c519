// Deno's built-in OpenTelemetry (OTEL_DENO=true) owns the global API: llmtrace
// detects it, registers no provider of its own, and its spans nest under
// Deno's Deno.serve span in the same trace, exported once, by Deno. The test
// spawns the pinned deno binary, so it runs under both test runners.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  type OtlpReceiver,
  startOtlpReceiver,
} from "../support/otlp_receiver.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = `${root}node_modules/.bin/deno`;
let rx: OtlpReceiver;

before(async () => {
  rx = await startOtlpReceiver();
});
after(async () => {
  await rx.close();
});

function run(
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      deno,
      ["run", "-A", "--unstable-otel", "tests/fixtures/deno_native.ts"],
      {
        cwd: root,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test("OTEL_DENO=true: no second provider, our spans nest under Deno.serve's span, exported once", async () => {
  const { code, out } = await run({
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint,
    OTEL_SERVICE_NAME: "deno-native-test",
    OTEL_DENO_CONSOLE: "ignore",
  });
  assert.equal(code, 0, out);
  const line = out.split("\n").find((l) => l.startsWith("{"));
  assert.ok(line, out);
  const result = JSON.parse(line);
  assert.equal(result.status, 200);
  assert.equal(
    result.enabled,
    false,
    "llmtrace must not start its own provider",
  );
  const spans = await rx.waitForSpans(
    (s) => s.some((x) => x.name === "native_child"),
    { timeoutMs: 15_000 },
  );
  const ours = spans.filter((s) => s.name === "GET /native");
  assert.equal(ours.length, 1, "exported exactly once");
  const child = spans.filter((s) => s.name === "native_child");
  assert.equal(child.length, 1);
  const server = ours[0];
  assert.equal(child[0].parentSpanId, server.spanId);
  assert.equal(child[0].traceId, server.traceId);
  // Deno's own server span for the same request is the parent of ours.
  const denoServe = spans.find((s) => s.spanId === server.parentSpanId);
  assert.ok(
    denoServe,
    `no parent span for ours: ${spans.map((s) => s.name).join(", ")}`,
  );
  assert.equal(denoServe.traceId, server.traceId);
  assert.equal(denoServe.kind, 2, "Deno's span is a SERVER span");
  assert.equal(server.resource["service.name"], "deno-native-test");
});
