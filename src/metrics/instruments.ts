/**
 * The instruments llmtrace records: names, units, descriptions and explicit
 * bucket boundaries as the GenAI metric conventions give them, plus vLLM's
 * request-phase breakdown. One table; {@link createInstruments} turns it into
 * instruments of a meter. Imports the API as types only.
 *
 * @module
 */
import type { Counter, Histogram, Meter, ValueType } from "@opentelemetry/api";
import type { SemconvMode } from "../core/attributes.ts";
import { DURATION_BUCKETS } from "../core/chunk_gaps.ts";

/** `ValueType.DOUBLE`: Deno's built-in meter accepts no other value type. */
const DOUBLE = 1 as ValueType;

// deno-fmt-ignore
/** Explicit bucket boundaries (`ExplicitBucketBoundaries` advice). */
export const BUCKETS = {
  /** `gen_ai.server.request.duration`, `gen_ai.client.operation.duration`, time to first chunk, time per output chunk. */
  duration: DURATION_BUCKETS,
  /** `gen_ai.server.time_to_first_token`. */
  ttft: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0],
  /** `gen_ai.server.time_per_output_token`. */
  tpot: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5],
  /** Token histograms: powers of 4 from 1 to 4^13. */
  tokens: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
  /** vLLM's `request_latency_buckets` (e2e, queue, prefill, decode, inference). */
  vllmLatency: [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0],
} as const;

/** One instrument of the table. */
export interface InstrumentDef {
  /** The OpenTelemetry name. */
  name: string;
  /** UCUM unit. */
  unit: string;
  /** What it measures. */
  description: string;
  /** `histogram` (with `buckets`) or monotonic `counter`. */
  type: "histogram" | "counter";
  /** Explicit bucket boundaries of a histogram. */
  buckets?: readonly number[];
}

const h = (
  name: string,
  unit: string,
  buckets: readonly number[],
  description: string,
): InstrumentDef & { type: "histogram" } => ({
  name,
  unit,
  description,
  type: "histogram",
  buckets,
});
const c = (
  name: string,
  description: string,
): InstrumentDef & { type: "counter" } => ({
  name,
  unit: "{token}",
  description,
  type: "counter",
});

/**
 * Every instrument llmtrace can record. `client*` come in two generations:
 * the GenAI conventions up to semantic-conventions v1.41.0 (the default) and
 * the latest `semantic-conventions-genai` names
 * (`OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`).
 */
const INSTRUMENTS = {
  serverDuration: h(
    "gen_ai.server.request.duration",
    "s",
    BUCKETS.duration,
    "Generative AI server request duration such as time-to-last byte or last output token.",
  ),
  serverTtft: h(
    "gen_ai.server.time_to_first_token",
    "s",
    BUCKETS.ttft,
    "Time to generate first token for successful responses.",
  ),
  serverTpot: h(
    "gen_ai.server.time_per_output_token",
    "s",
    BUCKETS.tpot,
    "Time per output token generated after the first token for successful responses.",
  ),
  // Conventions up to v1.41.0.
  clientDuration: h(
    "gen_ai.client.operation.duration",
    "s",
    BUCKETS.duration,
    "GenAI operation duration.",
  ),
  clientTokenUsage: h(
    "gen_ai.client.token.usage",
    "{token}",
    BUCKETS.tokens,
    "Number of input and output tokens used.",
  ),
  clientTtfc: h(
    "gen_ai.client.operation.time_to_first_chunk",
    "s",
    BUCKETS.duration,
    "Time to receive the first chunk, measured from when the client issues the generation request to when the first chunk is received in the response stream.",
  ),
  // Latest semantic-conventions-genai (#374, #521).
  inferenceDuration: h(
    "gen_ai.client.inference.duration",
    "s",
    BUCKETS.duration,
    "GenAI inference operation duration.",
  ),
  inferenceTtfc: h(
    "gen_ai.client.inference.time_to_first_chunk",
    "s",
    BUCKETS.duration,
    "Time to receive the first chunk, measured from when the client issues the generation request to when the first chunk is received in the response stream.",
  ),
  inferenceTpoc: h(
    "gen_ai.client.inference.time_per_output_chunk",
    "s",
    BUCKETS.duration,
    "Time per output chunk, recorded for each chunk received after the first one, measured from the end of the previous chunk to the end of the current chunk.",
  ),
  inferenceInputTokens: h(
    "gen_ai.client.inference.operation.input_tokens",
    "{token}",
    BUCKETS.tokens,
    "The number of input (prompt) tokens used per inference operation.",
  ),
  inferenceOutputTokens: h(
    "gen_ai.client.inference.operation.output_tokens",
    "{token}",
    BUCKETS.tokens,
    "The number of output (completion) tokens used per inference operation.",
  ),
  usageInputTokens: c(
    "gen_ai.client.inference.usage.input_tokens",
    "The number of input (prompt) tokens used, including cached tokens.",
  ),
  usageOutputTokens: c(
    "gen_ai.client.inference.usage.output_tokens",
    "The number of output (completion) tokens used, including reasoning tokens.",
  ),
  usageCacheReadTokens: c(
    "gen_ai.client.inference.usage.cache_read.input_tokens",
    "The number of input tokens served from a provider-managed cache.",
  ),
  usageCacheWriteTokens: c(
    "gen_ai.client.inference.usage.cache_write.input_tokens",
    "The number of input tokens written to a provider-managed cache.",
  ),
  usageReasoningTokens: c(
    "gen_ai.client.inference.usage.reasoning.output_tokens",
    "The number of output tokens used for reasoning.",
  ),
  // vLLM's Prometheus histograms, in OpenTelemetry naming: the Prometheus
  // names these export under are vLLM's with `vllm_` for `vllm:`.
  vllmQueue: h(
    "vllm.request.queue_time",
    "s",
    BUCKETS.vllmLatency,
    "Time spent in WAITING phase for request.",
  ),
  vllmPrefill: h(
    "vllm.request.prefill_time",
    "s",
    BUCKETS.vllmLatency,
    "Time spent in PREFILL phase for request.",
  ),
  vllmDecode: h(
    "vllm.request.decode_time",
    "s",
    BUCKETS.vllmLatency,
    "Time spent in DECODE phase for request.",
  ),
  vllmInference: h(
    "vllm.request.inference_time",
    "s",
    BUCKETS.vllmLatency,
    "Time spent in RUNNING phase for request.",
  ),
  vllmE2e: h(
    "vllm.e2e_request_latency",
    "s",
    BUCKETS.vllmLatency,
    "End-to-end request latency.",
  ),
} as const satisfies Record<string, InstrumentDef>;

/** A key of {@link INSTRUMENTS}. */
export type InstrumentKey = keyof typeof INSTRUMENTS;

const COMMON: readonly InstrumentKey[] = [
  "serverDuration",
  "serverTtft",
  "serverTpot",
  "vllmQueue",
  "vllmPrefill",
  "vllmDecode",
  "vllmInference",
  "vllmE2e",
];
const LEGACY_CLIENT: readonly InstrumentKey[] = [
  "clientDuration",
  "clientTokenUsage",
  "clientTtfc",
];
const LATEST_CLIENT: readonly InstrumentKey[] = [
  "clientDuration", // still the name for operations other than inference
  "inferenceDuration",
  "inferenceTtfc",
  "inferenceTpoc",
  "inferenceInputTokens",
  "inferenceOutputTokens",
  "usageInputTokens",
  "usageOutputTokens",
  "usageCacheReadTokens",
  "usageCacheWriteTokens",
  "usageReasoningTokens",
];

/**
 * The instruments of one semconv mode, by key (absent keys belong to the
 * other mode).
 */
export type Instruments = {
  [K in InstrumentKey]?: (typeof INSTRUMENTS)[K]["type"] extends "counter"
    ? Counter
    : Histogram;
};

/**
 * The keys of the instruments a mode records.
 *
 * @param mode `"dual"` (the default: conventions up to v1.41.0) or `"latest"`.
 * @returns The instrument keys, server and vLLM ones included.
 */
function instrumentKeys(mode: SemconvMode): InstrumentKey[] {
  return [...COMMON, ...(mode === "latest" ? LATEST_CLIENT : LEGACY_CLIENT)];
}

/**
 * Creates the instruments of a mode on `meter`: every one with value type
 * DOUBLE, histograms with their explicit bucket boundaries as advice.
 *
 * @param meter The meter (the SDK's, or a runtime's built-in one).
 * @param mode Which client instrument names to use.
 * @returns The instruments by key.
 */
export function createInstruments(
  meter: Meter,
  mode: SemconvMode,
): Instruments {
  const out: Record<string, Counter | Histogram> = {};
  for (const key of instrumentKeys(mode)) {
    const d: InstrumentDef = INSTRUMENTS[key];
    out[key] = d.type === "counter"
      ? meter.createCounter(d.name, {
        unit: d.unit,
        description: d.description,
        valueType: DOUBLE,
      })
      : meter.createHistogram(d.name, {
        unit: d.unit,
        description: d.description,
        valueType: DOUBLE,
        advice: { explicitBucketBoundaries: [...d.buckets!] },
      });
  }
  return out as Instruments;
}
