/**
 * Maps what was read from OpenAI-compatible traffic to span attributes, in
 * the chosen semantic-convention mode: vLLM's legacy names plus the current
 * GenAI names (`"dual"`), or the current names only (`"latest"`).
 *
 * @module
 */
import type { Attributes } from "@opentelemetry/api";
import { type SemconvMode, SpanAttributes as A } from "../core/attributes.ts";
import {
  attributeValueLengthLimit,
  boundAttributes,
  truncate,
} from "../core/limits.ts";
import {
  GEN_AI_OUTPUT_TYPE,
  GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID,
  GEN_AI_REQUEST_REASONING_LEVEL,
  GEN_AI_SYSTEM_INSTRUCTIONS,
  GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
  GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
} from "../core/keys.ts";
import type { GenAIRequestInfo } from "./openai_request.ts";
import { chatInputMessages, promptMessages } from "./openai_content.ts";
import type { GenAIResponseInfo } from "./openai_response.ts";

/** Captured content cut to the attribute value length limit, marked with `…`. */
function content(s: string): string {
  const max = attributeValueLengthLimit();
  return s.length > max ? truncate(s, max - 1) + "…" : s;
}

/** Attributes describing an OpenAI-compatible request. */
export function requestAttributes(
  info: GenAIRequestInfo,
  mode: SemconvMode,
  captureContent: boolean,
): Attributes {
  const out: Attributes = {};
  if (info.operation) out[A.GEN_AI_OPERATION_NAME] = info.operation;
  if (info.model !== undefined) out[A.GEN_AI_REQUEST_MODEL] = info.model;
  if (info.maxTokens !== undefined) {
    out[A.GEN_AI_REQUEST_MAX_TOKENS] = info.maxTokens;
  }
  if (info.temperature !== undefined) {
    out[A.GEN_AI_REQUEST_TEMPERATURE] = info.temperature;
  }
  if (info.topP !== undefined) out[A.GEN_AI_REQUEST_TOP_P] = info.topP;
  if (info.topK !== undefined) out[A.GEN_AI_REQUEST_TOP_K] = info.topK;
  if (info.n !== undefined) setChoiceCount(out, info.n, mode);
  if (info.stream !== undefined) out[A.GEN_AI_REQUEST_STREAM] = info.stream;
  if (info.seed !== undefined) out[A.GEN_AI_REQUEST_SEED] = info.seed;
  if (info.stop !== undefined) out[A.GEN_AI_REQUEST_STOP_SEQUENCES] = info.stop;
  if (info.frequencyPenalty !== undefined) {
    out[A.GEN_AI_REQUEST_FREQUENCY_PENALTY] = info.frequencyPenalty;
  }
  if (info.presencePenalty !== undefined) {
    out[A.GEN_AI_REQUEST_PRESENCE_PENALTY] = info.presencePenalty;
  }
  if (info.outputType !== undefined) out[GEN_AI_OUTPUT_TYPE] = info.outputType;
  if (info.reasoningLevel !== undefined) {
    out[GEN_AI_REQUEST_REASONING_LEVEL] = info.reasoningLevel;
  }
  if (info.previousResponseId !== undefined) {
    out[GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID] = info.previousResponseId;
  }
  if (captureContent) {
    try {
      if (info.content) {
        // The Responses, Messages and Gemini readers: the parts schema,
        // system instructions apart.
        const { input, system } = info.content();
        if (input) {
          out[A.GEN_AI_INPUT_MESSAGES] = content(JSON.stringify(input));
        }
        if (system?.length) {
          out[GEN_AI_SYSTEM_INSTRUCTIONS] = content(JSON.stringify(system));
        }
      } else if (info.messages !== undefined || info.prompt !== undefined) {
        // Chat Completions history (a system message keeps its role in
        // it), or a Completions prompt as one user message.
        const input = info.messages !== undefined
          ? chatInputMessages(info.messages)
          : promptMessages(info.prompt);
        if (input.length) {
          out[A.GEN_AI_INPUT_MESSAGES] = content(JSON.stringify(input));
        }
      }
    } catch {
      // content that cannot be serialised is not recorded
    }
  }
  return boundAttributes(out);
}

/** Usage, ids and finish reasons of a response (JSON or a summarised stream). */
export function responseAttributes(
  info: GenAIResponseInfo,
  mode: SemconvMode,
  captureContent: boolean,
): Attributes {
  const out: Attributes = {};
  if (info.id !== undefined) out[A.GEN_AI_RESPONSE_ID] = info.id;
  if (info.model !== undefined) out[A.GEN_AI_RESPONSE_MODEL] = info.model;
  if (info.finishReasons?.length) {
    out[A.GEN_AI_RESPONSE_FINISH_REASONS] = info.finishReasons;
  }
  setUsage(out, info, mode);
  if (mode === "dual" && info.choiceCount !== undefined) {
    out[A.GEN_AI_USAGE_NUM_SEQUENCES] = info.choiceCount;
  }
  if (captureContent && info.outputMessages !== undefined) {
    try {
      out[A.GEN_AI_OUTPUT_MESSAGES] = content(
        JSON.stringify(info.outputMessages),
      );
    } catch {
      // content that cannot be serialised is not recorded
    }
  }
  return boundAttributes(out);
}

/**
 * Time to first token/chunk, in seconds, under the names of the side that
 * measured it. `gen_ai.response.time_to_first_chunk` is the client's
 * (measured where the answer is received): CLIENT spans carry it, and vLLM's
 * `gen_ai.latency.time_to_first_token` too in `"dual"` mode. A SERVER span
 * (`traceHandler`, vLLM's `llm_request`) measures its own first token: it
 * carries vLLM's server-side name in every mode, since the conventions give
 * a server-side time to first token no span attribute (only the
 * `gen_ai.server.time_to_first_token` metric), as with the rest of the
 * `gen_ai.latency.*` breakdown.
 */
export function ttftAttributes(
  seconds: number,
  mode: SemconvMode,
  side: "server" | "client",
): Attributes {
  if (side === "server") {
    return { [A.GEN_AI_LATENCY_TIME_TO_FIRST_TOKEN]: seconds };
  }
  const out: Attributes = { [A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]: seconds };
  if (mode === "dual") out[A.GEN_AI_LATENCY_TIME_TO_FIRST_TOKEN] = seconds;
  return out;
}

/**
 * Writes token counts into `out`: the current `gen_ai.usage.*` names, and in
 * `"dual"` mode vLLM's `prompt_tokens`/`completion_tokens` and the cache
 * writes' name before the rename (`cache_creation`) too.
 */
export function setUsage(
  out: Attributes,
  usage: {
    inputTokens?: number;
    outputTokens?: number;
    cachedInputTokens?: number;
    cacheWriteInputTokens?: number;
    reasoningOutputTokens?: number;
  },
  mode: SemconvMode,
): void {
  const dual = mode === "dual";
  if (usage.inputTokens !== undefined) {
    out[A.GEN_AI_USAGE_INPUT_TOKENS] = usage.inputTokens;
    if (dual) out[A.GEN_AI_USAGE_PROMPT_TOKENS] = usage.inputTokens;
  }
  if (usage.outputTokens !== undefined) {
    out[A.GEN_AI_USAGE_OUTPUT_TOKENS] = usage.outputTokens;
    if (dual) out[A.GEN_AI_USAGE_COMPLETION_TOKENS] = usage.outputTokens;
  }
  if (usage.cachedInputTokens !== undefined) {
    out[A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cachedInputTokens;
  }
  if (usage.cacheWriteInputTokens !== undefined) {
    out[GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] = usage.cacheWriteInputTokens;
    if (dual) {
      out[GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] =
        usage.cacheWriteInputTokens;
    }
  }
  if (usage.reasoningOutputTokens !== undefined) {
    out[GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoningOutputTokens;
  }
}

/** Writes the requested choice count (and vLLM's `gen_ai.request.n` in `"dual"` mode). */
export function setChoiceCount(
  out: Attributes,
  n: number,
  mode: SemconvMode,
): void {
  out[A.GEN_AI_REQUEST_CHOICE_COUNT] = n;
  if (mode === "dual") out[A.GEN_AI_REQUEST_N] = n;
}
