// createTraceExporter end to end: real spans through the official fetch
// transport (with llmtrace's writer) into the loopback test receiver; the
// official retrying transport retries 503/429; only public entry points of
// the OpenTelemetry packages are imported.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { createTraceExporter } from "../../src/otlp/trace_exporter.ts";
import {
  type ReceiverOptions,
  startOtlpReceiver,
} from "../support/otlp_receiver.ts";
import { bigBatch } from "./span_fixtures.ts";

function exportOnce(
  spans: ReadableSpan[],
  url: string,
  headers?: Record<string, string>,
): Promise<ExportResult> {
  const exporter = createTraceExporter({ url, headers, timeoutMillis: 5000 });
  return new Promise<ExportResult>((resolve) => exporter.export(spans, resolve))
    .finally(() => exporter.shutdown());
}

async function withReceiver<T>(
  options: ReceiverOptions,
  fn: (rx: Awaited<ReturnType<typeof startOtlpReceiver>>) => Promise<T>,
): Promise<T> {
  const rx = await startOtlpReceiver(options);
  try {
    return await fn(rx);
  } finally {
    await rx.close();
  }
}

test("exports real spans to the receiver as application/x-protobuf", async () => {
  await withReceiver({}, async (rx) => {
    const spans = bigBatch(3, {
      "gen_ai.request.temperature": 1,
      "gen_ai.request.model": "m/opt",
      "gen_ai.response.finish_reasons": ["stop"],
      "http.response.status_code": 200,
    }, "POST /v1/chat/completions");
    const result = await exportOnce(spans, rx.url, { "x-tenant": "t1" });
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
    const got = await rx.waitForSpanCount(3);
    const [req] = rx.requests();
    assert.equal(req.contentType, "application/x-protobuf");
    assert.equal(req.headers.get("x-tenant"), "t1");
    assert.deepEqual(
      got.map((s) => s.spanId).sort(),
      spans.map((s) => s.spanContext().spanId).sort(),
    );
    for (const s of got) {
      assert.equal(s.name, "POST /v1/chat/completions");
      assert.equal(s.kind, 2);
      assert.equal(s.scope.name, "llmtrace");
      assert.equal(s.resource["service.name"], "fixture");
      assert.equal(s.attributeTypes["gen_ai.request.temperature"], "double");
      assert.equal(s.attributes["gen_ai.request.temperature"], 1);
      assert.deepEqual(s.attributes["gen_ai.response.finish_reasons"], [
        "stop",
      ]);
      assert.equal(s.attributeTypes["http.response.status_code"], "int");
      assert.equal(s.events[0].name, "first_token");
      assert.equal(s.flags, 0x101); // sampled, has_is_remote, local parent
    }
  });
});

for (const status of [503, 429]) {
  test(`a ${status} is retried by the official retrying transport`, async () => {
    await withReceiver({
      // Retry-After: 1 s instead of the jittered backoff (0 would make the
      // official transport call setTimeout(-1)).
      respond: ({ index }) =>
        index === 0 ? { status, headers: { "retry-after": "1" } } : undefined,
    }, async (rx) => {
      const result = await exportOnce(bigBatch(2, { n: 1 }), rx.url);
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assert.deepEqual(rx.requests().map((r) => r.status), [status, 200]);
      assert.equal(rx.spans().length, 2);
    });
  });
}

test("a 500 is not retried (the official transport retries 429/502/503/504 only)", async () => {
  await withReceiver({ respond: () => ({ status: 500 }) }, async (rx) => {
    const result = await exportOnce(bigBatch(1, {}), rx.url);
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.match(String(result.error), /non-retryable status 500/);
    assert.equal(rx.requests().length, 1);
  });
});

test("src/sdk and src/otlp import only entry points the packages export", () => {
  const root = new URL("../../node_modules/", import.meta.url);
  for (const folder of ["sdk", "otlp"]) {
    const dir = new URL(`../../src/${folder}/`, import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(new URL(file, dir), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, ""); // doc examples are not imports
      for (const [, spec] of text.matchAll(/from\s+"([^".][^"]*)"/g)) {
        const parts = spec.split("/");
        const name = spec.startsWith("@")
          ? parts.slice(0, 2).join("/")
          : parts[0];
        const sub = "." + spec.slice(name.length);
        const pkg = JSON.parse(
          readFileSync(new URL(`${name}/package.json`, root), "utf8"),
        );
        const ok = pkg.exports ? Object.hasOwn(pkg.exports, sub) : sub === ".";
        assert.ok(ok, `${file}: "${spec}" is not an entry point of ${name}`);
      }
    }
  }
});

test("the writer imports no package as a value, so mod.ts can export it", () => {
  const dir = new URL("../../src/otlp/", import.meta.url);
  const todo = ["writer.ts"];
  const seen = new Set<string>();
  while (todo.length && seen.size < 50) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(new URL(file, dir), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "");
    for (
      const m of text.matchAll(
        /^(import|export)\s+([^;]*?)\s*from\s*"([^"]+)"/gm,
      )
    ) {
      const typeOnly = m[2].startsWith("type ") ||
        /^\{[^}]*\}$/.test(m[2]) &&
          m[2].slice(1, -1).split(",").map((s) => s.trim()).filter(Boolean)
            .every((n) => n.startsWith("type "));
      if (m[3].startsWith("./")) todo.push(m[3].slice(2));
      else assert.ok(typeOnly, `${file} imports ${m[3]} as a value`);
    }
  }
  assert.ok(seen.has("proto_writer.ts") && seen.size >= 6, [...seen].join());
});
