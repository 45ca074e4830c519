/**
 * From a {@link GenAIMeasurement} to data points: which measurement feeds
 * which instrument, with which attributes, and the rule that counts a
 * request once in the `gen_ai.server.*` instruments.
 *
 * | measurement | instruments |
 * | --- | --- |
 * | server (`traceHandler`) | `gen_ai.server.request.duration`, `.time_to_first_token`, `.time_per_output_token` |
 * | engine (`recordRequestSpan`) | the same three, and `vllm.request.{queue,prefill,decode,inference}_time`, `vllm.e2e_request_latency` |
 * | client (`tracedFetch`) | `gen_ai.client.operation.duration`, `.token.usage`, `.operation.time_to_first_chunk` (latest: `gen_ai.client.inference.*`, with `.time_per_output_chunk` for streams) |
 *
 * @module
 */
import type { Attributes } from "@opentelemetry/api";
import type { GenAIMeasurement } from "../core/measurement_sink.ts";
import type { Instruments } from "./instruments.ts";

/** Operations the latest conventions call inference (`gen_ai.client.inference.*`). */
const INFERENCE = new Set(["chat", "text_completion", "generate_content"]);

/** What the mapping needs besides the instruments. */
export interface RecordOptions {
  /** `gen_ai.provider.name` when a measurement names none (it is required). */
  defaultProvider: string;
  /** The latest client conventions (`gen_ai_latest_experimental`). */
  latest: boolean;
}

const ok = (v: number | undefined): v is number =>
  typeof v === "number" && v >= 0 && v < Infinity;

/**
 * The attributes every GenAI metric carries: operation and provider
 * (required), request model, response model, server address and port (only
 * with an address, as the conventions condition it).
 */
function baseAttributes(
  m: GenAIMeasurement,
  defaultProvider: string,
): Attributes {
  const a: Attributes = {
    "gen_ai.operation.name": m.operation || "_OTHER",
    "gen_ai.provider.name": m.provider || defaultProvider,
  };
  if (m.requestModel) a["gen_ai.request.model"] = m.requestModel;
  if (m.responseModel) a["gen_ai.response.model"] = m.responseModel;
  if (m.serverAddress) {
    a["server.address"] = m.serverAddress;
    if (m.serverPort !== undefined && m.serverPort > 0) {
      a["server.port"] = m.serverPort;
    }
  }
  return a;
}

const withError = (base: Attributes, m: GenAIMeasurement): Attributes =>
  m.errorType ? { ...base, "error.type": m.errorType } : base;

/**
 * Time per output token after the first: the measurement's own, else
 * `(duration − TTFT) / (output tokens − 1)` when more than one token came out.
 */
function timePerOutputToken(m: GenAIMeasurement): number | undefined {
  if (ok(m.tpotS)) return m.tpotS;
  const n = m.outputTokens;
  if (!ok(m.ttftS) || n === undefined || !(n > 1)) return undefined;
  const t = (m.durationS - m.ttftS) / (n - 1);
  return ok(t) ? t : undefined;
}

/**
 * Returns a function that records measurements into `inst`.
 *
 * Counting one request once: `gen_ai.server.*` receives exactly one data
 * point per request. A measurement with a `requestKey` the mapping has seen
 * in a server or engine measurement before feeds no `gen_ai.server.*`
 * instrument; so when `traceHandler` and `recordRequestSpan` both report a
 * request, the first one counts (the engine's in the usual order, where it
 * finishes before the response body ends). The engine's breakdown
 * (`vllm.*`) is always recorded. Measurements without a key always count.
 *
 * @param inst The instruments (of one mode).
 * @param options Default provider and mode.
 * @returns The recording function; it never throws.
 */
export function createRecorder(
  inst: Instruments,
  options: RecordOptions,
): (m: GenAIMeasurement) => void {
  const counted = new WeakSet<object>();
  const { defaultProvider, latest } = options;

  function server(m: GenAIMeasurement, base: Attributes): void {
    const key = m.requestKey;
    if (key !== undefined && key !== null) {
      if (counted.has(key)) return;
      counted.add(key);
    }
    if (ok(m.durationS)) {
      inst.serverDuration?.record(m.durationS, withError(base, m));
    }
    if (m.errorType) return; // TTFT and TPOT: successful responses only
    if (ok(m.ttftS)) inst.serverTtft?.record(m.ttftS, base);
    const tpot = timePerOutputToken(m);
    if (tpot !== undefined) inst.serverTpot?.record(tpot, base);
  }

  function engine(m: GenAIMeasurement, base: Attributes): void {
    const a = withError(base, m);
    if (ok(m.queueS)) inst.vllmQueue?.record(m.queueS, a);
    if (ok(m.prefillS)) inst.vllmPrefill?.record(m.prefillS, a);
    if (ok(m.decodeS)) inst.vllmDecode?.record(m.decodeS, a);
    if (ok(m.inferenceS)) inst.vllmInference?.record(m.inferenceS, a);
    if (ok(m.durationS)) inst.vllmE2e?.record(m.durationS, a);
  }

  function legacyClient(m: GenAIMeasurement, base: Attributes): void {
    if (ok(m.durationS)) {
      inst.clientDuration?.record(m.durationS, withError(base, m));
    }
    if (ok(m.ttftS)) inst.clientTtfc?.record(m.ttftS, base);
    const usage = inst.clientTokenUsage;
    if (!usage) return;
    if (ok(m.inputTokens)) {
      usage.record(m.inputTokens, { ...base, "gen_ai.token.type": "input" });
    }
    if (ok(m.outputTokens)) {
      usage.record(m.outputTokens, { ...base, "gen_ai.token.type": "output" });
    }
  }

  function latestClient(m: GenAIMeasurement, base: Attributes): void {
    const a = withError(base, m);
    if (!INFERENCE.has(m.operation)) {
      if (ok(m.durationS)) inst.clientDuration?.record(m.durationS, a);
      return;
    }
    if (ok(m.durationS)) inst.inferenceDuration?.record(m.durationS, a);
    if (ok(m.ttftS)) inst.inferenceTtfc?.record(m.ttftS, base);
    const tpoc = inst.inferenceTpoc;
    if (tpoc && m.chunkGaps) m.chunkGaps.replay((s) => tpoc.record(s, base));
    // Every inference operation, failed ones too: 0 when no usage came back.
    const input = ok(m.inputTokens) ? m.inputTokens : 0;
    const output = ok(m.outputTokens) ? m.outputTokens : 0;
    const cached = ok(m.cacheReadInputTokens) ? m.cacheReadInputTokens : 0;
    const written = ok(m.cacheWriteInputTokens) ? m.cacheWriteInputTokens : 0;
    const reasoning = ok(m.reasoningOutputTokens) ? m.reasoningOutputTokens : 0;
    inst.inferenceInputTokens?.record(input, a);
    inst.inferenceOutputTokens?.record(output, a);
    // The provider's usage has no per-modality breakdown here.
    const u = { ...base, "gen_ai.token.modality": "unknown" };
    inst.usageInputTokens?.add(input, u);
    inst.usageOutputTokens?.add(output, u);
    inst.usageCacheReadTokens?.add(cached, u);
    inst.usageCacheWriteTokens?.add(written, u);
    inst.usageReasoningTokens?.add(reasoning, u);
  }

  return (m) => {
    try {
      const base = baseAttributes(m, defaultProvider);
      switch (m.kind) {
        case "server":
          server(m, base);
          break;
        case "engine":
          server(m, base);
          engine(m, base);
          break;
        case "client":
          if (latest) latestClient(m, base);
          else legacyClient(m, base);
          break;
      }
    } catch {
      // a malformed measurement must never become the request's error
    }
  };
}
