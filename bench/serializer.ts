// Serializer micro-benchmark: one 512-span batch of GenAI-shaped SERVER spans
// (27 attributes each, like llmtrace's: http.*, url.*, gen_ai.*,
// gen_ai.latency.*) serialized by the official `ProtobufTraceSerializer` and
// by llmtrace's one-pass writer (as official, and with its default double
// keys), alternating, bounded iterations. Prints µs per batch, ns per span,
// bytes per span, the speed-up over the official serializer, and whether the
// "as official" output is byte-identical.
// Run: `deno run -A bench/serializer.ts` or `bun bench/serializer.ts`.
// Knobs: ROUNDS (default 40, at most 1000), PER_ROUND (default 10, at most
// 1000), BATCH (default 512; 128 is llmtrace's default export batch). Single-threaded; the machine's other load shows up as noise, so
// compare the ratios of one run rather than absolute numbers across runs.
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { createOtlpSpanWriter } from "../src/otlp/writer.ts";

const env = (k: string): string | undefined =>
  // deno-lint-ignore no-explicit-any
  (globalThis as any).Deno?.env.get(k) ?? (globalThis as any).process?.env[k];
const ROUNDS = Math.min(Number(env("ROUNDS") ?? 40), 1000);
const PER_ROUND = Math.min(Number(env("PER_ROUND") ?? 10), 1000);
// BATCH=128: the batch llmtrace exports by default (one export step).
const BATCH = Math.min(Math.max(Number(env("BATCH") ?? 512), 1), 512);

/** BATCH ended SERVER spans from a real provider, llmtrace-shaped. */
function makeBatch(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      "service.name": "bench.router",
      "vllm.instrumenting_module_name": "bench.router",
      "process.runtime.name": "deno",
      "process.runtime.version": "2.9.6",
      "process.pid": 4242,
      "vllm.process_id": "4242",
      "telemetry.sdk.language": "webjs",
      "telemetry.sdk.name": "opentelemetry",
      "telemetry.sdk.version": "2.12.0",
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer("llmtrace", "0.1.0");
  for (let i = 0; i < BATCH; i++) {
    const span = tracer.startSpan("POST /v1/chat/completions", {
      kind: SpanKind.SERVER,
      attributes: {
        "http.request.method": "POST",
        "url.scheme": "http",
        "url.path": "/v1/chat/completions",
        "http.route": "/v1/chat/completions",
        "server.address": "127.0.0.1",
        "server.port": 8000,
        "client.address": "127.0.0.1",
        "user_agent.original": "OpenAI/JS 4.104.0",
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "facebook/opt-125m",
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.temperature": i % 2 ? 0.7 : 1,
        "gen_ai.request.top_p": 0.95,
        "gen_ai.request.stream": true,
      },
    });
    span.setAttributes({
      "gen_ai.response.id": `chatcmpl-${(i * 2654435761) >>> 0}`,
      "gen_ai.response.model": "facebook/opt-125m",
      "gen_ai.response.finish_reasons": ["stop"],
      "gen_ai.usage.input_tokens": 12 + (i % 50),
      "gen_ai.usage.output_tokens": 64 + (i % 200),
      "gen_ai.usage.prompt_tokens": 12 + (i % 50),
      "gen_ai.usage.completion_tokens": 64 + (i % 200),
      "gen_ai.response.time_to_first_chunk": 0.0345 + i / 1e5,
      "gen_ai.latency.time_to_first_token": 0.0345 + i / 1e5,
      "gen_ai.latency.e2e": 0.118 + i / 1e4,
      "gen_ai.latency.time_in_queue": 0.001 + i / 1e6,
      "http.response.status_code": 200,
    });
    span.setStatus({ code: SpanStatusCode.UNSET });
    span.end();
  }
  return exporter.getFinishedSpans();
}

const spans = makeBatch();
const contenders = [
  ["official (otlp-transformer)", ProtobufTraceSerializer],
  ["ours, as official", createOtlpSpanWriter({ doubleKeys: new Set() })],
  ["ours, DOUBLE_ATTRIBUTE_KEYS", createOtlpSpanWriter()],
] as const;

function time(s: (typeof contenders)[number][1], n: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) s.serializeRequest(spans);
  return (performance.now() - t0) / n; // ms per batch
}

// Warm-up (JIT), then rounds that alternate the contenders.
for (const [, s] of contenders) time(s, 50);
const samples: number[][] = contenders.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  contenders.forEach(([, s], i) => samples[i].push(time(s, PER_ROUND)));
}
const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};
const g = globalThis as unknown as {
  Bun?: { version: string };
  Deno?: { version: { deno: string } };
  process?: { versions: { node: string } };
};
const rt = g.Bun
  ? `bun ${g.Bun.version}`
  : g.Deno
  ? `deno ${g.Deno.version.deno}`
  : `node ${g.process?.versions.node}`;
const official = contenders[0][1].serializeRequest(spans)!;
const same = contenders[1][1].serializeRequest(spans);
const identical = same.length === official.length &&
  same.every((b, i) => b === official[i]);
console.log(
  `${rt}: ${BATCH} spans, ${ROUNDS} rounds x ${PER_ROUND} batches, median`,
);
const base = median(samples[0]);
contenders.forEach(([name, s], i) => {
  const ms = median(samples[i]);
  const bytes = s.serializeRequest(spans)!.length;
  const max = Math.max(...samples[i]);
  console.log(
    `${name.padEnd(28)} ${
      (ms * 1000).toFixed(0).padStart(7)
    } µs/batch (worst round ${(max * 1000).toFixed(0)}) ${
      (ms * 1e6 / BATCH).toFixed(0).padStart(6)
    } ns/span ${(bytes / BATCH).toFixed(1).padStart(7)} B/span ${
      (base / ms).toFixed(2).padStart(5)
    }x`,
  );
});
console.log(`ours (as official) byte-identical to official: ${identical}`);
