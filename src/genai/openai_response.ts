/**
 * What an OpenAI-compatible (non-streamed) response says: ids, model,
 * finish reasons, usage and, when content capture is on, the output text.
 * Pure and never throwing.
 *
 * @module
 */
import {
  isObject,
  type JsonObject,
  parseJsonObject,
  tokenCount,
} from "./json.ts";
import { choiceMessage } from "./openai_content.ts";
import type { ChatMessage } from "./parts.ts";

/**
 * What a (non-streamed) response body says about the call.
 *
 * @example
 * ```ts
 * import { type GenAIResponseInfo, parseResponseJson } from "./openai_response.ts";
 *
 * const info: GenAIResponseInfo = parseResponseJson({
 *   id: "chatcmpl-1",
 *   choices: [{ index: 0, finish_reason: "stop", message: { content: "Hi" } }],
 *   usage: { prompt_tokens: 3, completion_tokens: 1 },
 * });
 * console.log(info.finishReasons, info.outputTokens); // ["stop"] 1
 * ```
 */
export interface GenAIResponseInfo {
  /** `id` (string). */
  id?: string;
  /** `model` (non-empty string): the model that actually answered. */
  model?: string;
  /** `finish_reason` of each choice, in choice index order, non-null strings only; omitted when none. */
  finishReasons?: string[];
  /** `usage.prompt_tokens`. */
  inputTokens?: number;
  /** `usage.completion_tokens`. */
  outputTokens?: number;
  /** `usage.prompt_tokens_details.cached_tokens` (or DeepSeek's `usage.prompt_cache_hit_tokens`). */
  cachedInputTokens?: number;
  /** Input tokens written to a provider-managed cache (Anthropic's `cache_creation_input_tokens`). */
  cacheWriteInputTokens?: number;
  /** Output tokens spent on reasoning (a part of `outputTokens`). */
  reasoningOutputTokens?: number;
  /** Number of entries in `choices`. */
  choiceCount?: number;
  /**
   * The answer reports a failure in its body (a streamed `error` event,
   * `response.failed`, a Gemini `error` object): its type, for `error.type`.
   */
  errorType?: string;
  /**
   * The output in the conventions' message-parts schema
   * (`gen_ai.output.messages`); set by the Responses, Messages and Gemini
   * readers when content capture is on.
   */
  outputMessages?: unknown[];
  /**
   * Concatenated `choices[].message.content` (string, or the `text` of
   * content parts) or `choices[].text`, in choice index order. Only meant to
   * be recorded when content capture is on.
   */
  outputText?: string;
}

/** Token counts a `usage` object reports. */
export type UsageInfo = Pick<
  GenAIResponseInfo,
  | "inputTokens"
  | "outputTokens"
  | "cachedInputTokens"
  | "cacheWriteInputTokens"
  | "reasoningOutputTokens"
>;

/**
 * Copies the token counts of an OpenAI `usage` object into `into`:
 * `prompt_tokens`, `completion_tokens`, and the cached prompt tokens
 * (`prompt_tokens_details.cached_tokens`, or DeepSeek's
 * `prompt_cache_hit_tokens`). Counts that are not non-negative safe
 * integers are left out; a non-object `usage` changes nothing. @internal
 */
export function readUsage(usage: unknown, into: UsageInfo): void {
  if (!isObject(usage)) return;
  const input = tokenCount(usage.prompt_tokens);
  if (input !== undefined) into.inputTokens = input;
  const output = tokenCount(usage.completion_tokens);
  if (output !== undefined) into.outputTokens = output;
  const details = usage.prompt_tokens_details;
  const cached =
    (isObject(details) ? tokenCount(details.cached_tokens) : undefined) ??
      tokenCount(usage.prompt_cache_hit_tokens);
  if (cached !== undefined) into.cachedInputTokens = cached;
  const out = usage.completion_tokens_details;
  const reasoning = isObject(out)
    ? tokenCount(out.reasoning_tokens)
    : undefined;
  if (reasoning !== undefined) into.reasoningOutputTokens = reasoning;
}

/** A choice's `index`, or its position when the index is unusable. @internal */
export function choiceIndex(choice: JsonObject, position: number): number {
  const index = choice.index;
  return typeof index === "number" && Number.isSafeInteger(index) && index >= 0
    ? index
    : position;
}

function messageText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return undefined;
  let text: string | undefined;
  for (const part of content) {
    if (isObject(part) && typeof part.text === "string") {
      text = text === undefined ? part.text : text + part.text;
    }
  }
  return text;
}

/**
 * Reads the response fields OpenTelemetry GenAI cares about from an
 * already-parsed JSON body of a chat completion, completion or embeddings
 * response. Never throws; fields of the wrong type are omitted.
 */
export function parseResponseJson(
  value: unknown,
  capture = false,
): GenAIResponseInfo {
  const info: GenAIResponseInfo = {};
  if (!isObject(value)) return info;
  try {
    if (typeof value.id === "string") info.id = value.id;
    if (typeof value.model === "string" && value.model.length > 0) {
      info.model = value.model;
    }
    const choices = value.choices;
    if (Array.isArray(choices)) {
      info.choiceCount = choices.length;
      type Entry = {
        index: number;
        finish?: string;
        text?: string;
        message?: ChatMessage;
      };
      const entries: Entry[] = [];
      for (let i = 0; i < choices.length; i++) {
        const choice = choices[i];
        if (!isObject(choice)) continue;
        const entry: Entry = { index: choiceIndex(choice, i) };
        if (capture) entry.message = choiceMessage(choice);
        if (typeof choice.finish_reason === "string") {
          entry.finish = choice.finish_reason;
        }
        const message = choice.message;
        const text = isObject(message)
          ? messageText(message.content)
          : typeof choice.text === "string"
          ? choice.text
          : undefined;
        if (text !== undefined) entry.text = text;
        entries.push(entry);
      }
      entries.sort((a, b) => a.index - b.index);
      let finishReasons: string[] | undefined;
      let outputText: string | undefined;
      for (const entry of entries) {
        if (entry.finish !== undefined) {
          (finishReasons ??= []).push(entry.finish);
        }
        if (entry.text !== undefined) {
          outputText = outputText === undefined
            ? entry.text
            : outputText + entry.text;
        }
      }
      if (finishReasons !== undefined) info.finishReasons = finishReasons;
      // One output message per choice, in index order.
      if (capture && entries.length) {
        info.outputMessages = entries.map((e) => e.message);
      }
      if (outputText !== undefined) info.outputText = outputText;
    }
    readUsage(value.usage, info);
  } catch {
    // Only reachable for exotic objects (getters, proxies); keep what we have.
  }
  return info;
}

/**
 * Decodes (UTF-8, invalid bytes replaced) and parses a raw response body,
 * then reads it like {@link parseResponseJson}. Returns `undefined` when the
 * body is not JSON or not a JSON object. Never throws.
 */
export function parseResponseBody(
  bytes: Uint8Array | string,
  capture = false,
): GenAIResponseInfo | undefined {
  const value = parseJsonObject(bytes);
  return value === undefined ? undefined : parseResponseJson(value, capture);
}
