/**
 * Pure, never-throwing parsers for OpenAI-compatible request and response
 * bodies (chat completions, completions, embeddings).
 *
 * @example
 * ```ts
 * import { operationForPath, parseRequestBody } from "./openai.ts";
 *
 * const operation = operationForPath("/v1/chat/completions");
 * const info = parseRequestBody('{"model":"gpt-4o","temperature":0}', operation);
 * console.log(info?.model, info?.temperature); // "gpt-4o" 0
 * ```
 *
 * @module
 */

/**
 * The operation, as `gen_ai.operation.name`.
 *
 * @example
 * ```ts
 * import type { GenAIOperation } from "./openai.ts";
 *
 * const operation: GenAIOperation = "chat";
 * ```
 */
export type GenAIOperation = "chat" | "text_completion" | "embeddings";

const CHAT_SUFFIX = "/chat/completions";
const COMPLETIONS_SUFFIX = "/completions";
const EMBEDDINGS_SUFFIX = "/embeddings";

/**
 * Maps a request path to the OpenAI-compatible operation it performs.
 *
 * Matches `/chat/completions`, `/completions` and `/embeddings` as whole
 * trailing path segments under any prefix (`/v1/...`, `/openai/v1/...`,
 * `/openai/deployments/x/...`). A query string, a fragment and trailing
 * slashes are ignored; the comparison is case-sensitive. Returns `undefined`
 * for anything else (including non-string input).
 *
 * @example
 * ```ts
 * import { operationForPath } from "./openai.ts";
 *
 * operationForPath("/v1/chat/completions"); // "chat"
 * operationForPath("/openai/v1/completions/"); // "text_completion"
 * operationForPath("/v1/embeddings?x=1"); // "embeddings"
 * operationForPath("/v1/models"); // undefined
 * ```
 */
export function operationForPath(path: string): GenAIOperation | undefined {
  if (typeof path !== "string") return undefined;
  let end = path.length;
  const query = path.indexOf("?");
  if (query !== -1) end = query;
  const hash = path.indexOf("#");
  if (hash !== -1 && hash < end) end = hash;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f /* / */) end--;
  if (end === 0) return undefined;
  let p = end === path.length ? path : path.slice(0, end);
  if (p.charCodeAt(0) !== 0x2f) p = "/" + p;
  if (p.endsWith(COMPLETIONS_SUFFIX)) {
    return p.endsWith(CHAT_SUFFIX) ? "chat" : "text_completion";
  }
  if (p.endsWith(EMBEDDINGS_SUFFIX)) return "embeddings";
  return undefined;
}

/**
 * What a request body says about the call, in OpenTelemetry GenAI terms.
 *
 * Fields that are absent or of the wrong type in the body are omitted.
 *
 * @example
 * ```ts
 * import { type GenAIRequestInfo, parseRequestJson } from "./openai.ts";
 *
 * const info: GenAIRequestInfo = parseRequestJson({ model: "m", n: 2 }, "chat");
 * console.log(info.operation, info.model, info.n); // "chat" "m" 2
 * ```
 */
export interface GenAIRequestInfo {
  /** The operation, when the caller passed it (usually from {@link operationForPath}). */
  operation?: GenAIOperation;
  /** `model` (non-empty string). */
  model?: string;
  /** `max_completion_tokens`, else `max_tokens` (integer). */
  maxTokens?: number;
  /** `temperature` (finite number; 0 is kept). */
  temperature?: number;
  /** `top_p` (finite number). */
  topP?: number;
  /** `n` (integer). */
  n?: number;
  /** `stream` (boolean). */
  stream?: boolean;
  /** `stream_options.include_usage` (boolean). */
  includeUsage?: boolean;
  /** `seed` (integer). */
  seed?: number;
  /** `stop`: a string becomes a one-element array; non-string elements are dropped; omitted when empty. */
  stop?: string[];
  /** `frequency_penalty` (finite number). */
  frequencyPenalty?: number;
  /** `presence_penalty` (finite number). */
  presencePenalty?: number;
  /** `top_k` (integer; a non-standard extension many servers accept). */
  topK?: number;
  /** `messages`, as is: kept only so the caller may record content when the user opts in. */
  messages?: unknown;
  /** `prompt`, as is: kept only so the caller may record content when the user opts in. */
  prompt?: unknown;
}

/**
 * What a (non-streamed) response body says about the call.
 *
 * @example
 * ```ts
 * import { type GenAIResponseInfo, parseResponseJson } from "./openai.ts";
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
  /** Number of entries in `choices`. */
  choiceCount?: number;
  /**
   * Concatenated `choices[].message.content` (string, or the `text` of
   * content parts) or `choices[].text`, in choice index order. Only meant to
   * be recorded when content capture is on.
   */
  outputText?: string;
}

/** A parsed JSON object. @internal */
export type JsonObject = Record<string, unknown>;

/** Whether a parsed JSON value is an object (not null, not an array). @internal */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value)
    ? value
    : undefined;
}

function integer(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value)
    ? value
    : undefined;
}

function tokenCount(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0
    ? value
    : undefined;
}

/** Token counts a `usage` object reports. */
export type UsageInfo = Pick<
  GenAIResponseInfo,
  "inputTokens" | "outputTokens" | "cachedInputTokens"
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
}

function stopSequences(value: unknown): string[] | undefined {
  if (typeof value === "string") return [value];
  if (!Array.isArray(value)) return undefined;
  const out: string[] = [];
  for (const item of value) if (typeof item === "string") out.push(item);
  return out.length > 0 ? out : undefined;
}

/**
 * Reads the request fields OpenTelemetry GenAI cares about from an
 * already-parsed JSON body. Never throws: non-objects give an object with
 * only `operation` (if passed), and each field of the wrong type is skipped
 * on its own.
 *
 * @example
 * ```ts
 * import { parseRequestJson } from "./openai.ts";
 *
 * const info = parseRequestJson({
 *   model: "gpt-4o-mini",
 *   max_tokens: 100,
 *   max_completion_tokens: 50,
 *   temperature: 0,
 *   stop: "\n",
 *   stream: true,
 *   stream_options: { include_usage: true },
 * }, "chat");
 * console.log(info.maxTokens, info.temperature, info.stop); // 50 0 ["\n"]
 * ```
 */
export function parseRequestJson(
  value: unknown,
  operation?: GenAIOperation,
): GenAIRequestInfo {
  const info: GenAIRequestInfo = {};
  if (operation !== undefined) info.operation = operation;
  if (!isObject(value)) return info;
  try {
    const model = value.model;
    if (typeof model === "string" && model.length > 0) info.model = model;
    const maxTokens = integer(value.max_completion_tokens) ??
      integer(value.max_tokens);
    if (maxTokens !== undefined) info.maxTokens = maxTokens;
    const temperature = finiteNumber(value.temperature);
    if (temperature !== undefined) info.temperature = temperature;
    const topP = finiteNumber(value.top_p);
    if (topP !== undefined) info.topP = topP;
    const n = integer(value.n);
    if (n !== undefined) info.n = n;
    if (typeof value.stream === "boolean") info.stream = value.stream;
    const streamOptions = value.stream_options;
    if (
      isObject(streamOptions) &&
      typeof streamOptions.include_usage === "boolean"
    ) {
      info.includeUsage = streamOptions.include_usage;
    }
    const seed = integer(value.seed);
    if (seed !== undefined) info.seed = seed;
    const stop = stopSequences(value.stop);
    if (stop !== undefined) info.stop = stop;
    const frequencyPenalty = finiteNumber(value.frequency_penalty);
    if (frequencyPenalty !== undefined) {
      info.frequencyPenalty = frequencyPenalty;
    }
    const presencePenalty = finiteNumber(value.presence_penalty);
    if (presencePenalty !== undefined) info.presencePenalty = presencePenalty;
    const topK = integer(value.top_k);
    if (topK !== undefined) info.topK = topK;
    if (value.messages !== undefined) info.messages = value.messages;
    if (value.prompt !== undefined) info.prompt = value.prompt;
  } catch {
    // Only reachable for exotic objects (getters, proxies); keep what we have.
  }
  return info;
}

const decoder = new TextDecoder();

function parseJsonObject(bytes: Uint8Array | string): JsonObject | undefined {
  let text: string;
  if (typeof bytes === "string") text = bytes;
  else if (bytes instanceof Uint8Array) text = decoder.decode(bytes);
  else return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decodes (UTF-8, invalid bytes replaced) and parses a raw request body,
 * then reads it like {@link parseRequestJson}. Returns `undefined` when the
 * body is not JSON or not a JSON object. Never throws.
 *
 * @example
 * ```ts
 * import { parseRequestBody } from "./openai.ts";
 *
 * const body = new TextEncoder().encode('{"model":"text-embedding-3-small","input":"hi"}');
 * parseRequestBody(body, "embeddings"); // { operation: "embeddings", model: "text-embedding-3-small" }
 * parseRequestBody("not json"); // undefined
 * ```
 */
export function parseRequestBody(
  bytes: Uint8Array | string,
  operation?: GenAIOperation,
): GenAIRequestInfo | undefined {
  const value = parseJsonObject(bytes);
  return value === undefined ? undefined : parseRequestJson(value, operation);
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
 *
 * @example
 * ```ts
 * import { parseResponseJson } from "./openai.ts";
 *
 * const info = parseResponseJson({
 *   model: "text-embedding-3-small",
 *   data: [{ embedding: [0.1, 0.2] }],
 *   usage: { prompt_tokens: 5, total_tokens: 5 },
 * });
 * console.log(info.model, info.inputTokens); // "text-embedding-3-small" 5
 * ```
 */
export function parseResponseJson(value: unknown): GenAIResponseInfo {
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
      const entries: { index: number; finish?: string; text?: string }[] = [];
      for (let i = 0; i < choices.length; i++) {
        const choice = choices[i];
        if (!isObject(choice)) continue;
        const entry: { index: number; finish?: string; text?: string } = {
          index: choiceIndex(choice, i),
        };
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
 *
 * @example
 * ```ts
 * import { parseResponseBody } from "./openai.ts";
 *
 * const info = parseResponseBody(
 *   '{"id":"cmpl-1","choices":[{"index":0,"text":"Hi","finish_reason":"length"}]}',
 * );
 * console.log(info?.outputText, info?.finishReasons); // "Hi" ["length"]
 * ```
 */
export function parseResponseBody(
  bytes: Uint8Array | string,
): GenAIResponseInfo | undefined {
  const value = parseJsonObject(bytes);
  return value === undefined ? undefined : parseResponseJson(value);
}
