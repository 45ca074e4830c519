/**
 * What an OpenAI-compatible request says (chat completions, completions,
 * embeddings): its operation, from the path, and the fields of its body the
 * GenAI conventions record. Pure and never throwing.
 *
 * @module
 */
import {
  finiteNumber,
  integer,
  isObject,
  type JsonObject,
  parseJsonObject,
  stringArray,
} from "./json.ts";

/**
 * The operation, as `gen_ai.operation.name`.
 *
 * @example
 * ```ts
 * import type { GenAIOperation } from "./openai_request.ts";
 *
 * const operation: GenAIOperation = "chat";
 * ```
 */
export type GenAIOperation =
  | "chat"
  | "text_completion"
  | "embeddings"
  | "generate_content";

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
 */
export function operationForPath(path: string): GenAIOperation | undefined {
  const p = barePath(path);
  if (p === undefined) return undefined;
  if (p.endsWith(COMPLETIONS_SUFFIX)) {
    return p.endsWith(CHAT_SUFFIX) ? "chat" : "text_completion";
  }
  if (p.endsWith(EMBEDDINGS_SUFFIX)) return "embeddings";
  return undefined;
}

/**
 * A request path without its query, fragment and trailing slashes, with a
 * leading slash; `undefined` when nothing is left (or not a string).
 */
export function barePath(path: string): string | undefined {
  if (typeof path !== "string") return undefined;
  let end = path.length;
  const query = path.indexOf("?");
  if (query !== -1) end = query;
  const hash = path.indexOf("#");
  if (hash !== -1 && hash < end) end = hash;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f /* / */) end--;
  if (end === 0) return undefined;
  const p = end === path.length ? path : path.slice(0, end);
  return p.charCodeAt(0) !== 0x2f ? "/" + p : p;
}

/**
 * The fixed endpoint paths of the OpenAI-compatible API (and vLLM's own
 * server) that are their own route templates: a span may be named after them
 * without a declared route, since they are a small, bounded set.
 */
const KNOWN_ROUTES: ReadonlySet<string> = new Set([
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/embeddings",
  "/v1/responses",
  "/v1/messages",
  "/v1/models",
  "/v1/audio/transcriptions",
  "/v1/audio/translations",
  "/v1/rerank",
  "/v1/score",
  "/health",
  "/ping",
  "/metrics",
  "/version",
  "/tokenize",
  "/detokenize",
  "/pooling",
  "/classify",
]);

/**
 * The route template of a request path when it is exactly one of the
 * OpenAI-compatible / vLLM fixed endpoints (`/v1/chat/completions`,
 * `/v1/embeddings`, `/health`, ...), else `undefined`: any other path may
 * carry ids and must not name a span.
 */
export function knownRoute(path: string): string | undefined {
  return KNOWN_ROUTES.has(path) ? path : undefined;
}

/**
 * What a request body says about the call, in OpenTelemetry GenAI terms.
 *
 * Fields that are absent or of the wrong type in the body are omitted.
 *
 * @example
 * ```ts
 * import { type GenAIRequestInfo, parseRequestJson } from "./openai_request.ts";
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
  /**
   * `gen_ai.output.type` the request asks for (`"text"`, `"json"`), where
   * the wire API says it (Chat Completions `response_format`, Responses
   * `text.format`, Gemini
   * `responseMimeType`, Anthropic `output_config.format`).
   */
  outputType?: string;
  /** `gen_ai.request.reasoning.level`: the reasoning effort, as sent. */
  reasoningLevel?: string;
  /** The Responses API's `previous_response_id`. */
  previousResponseId?: string;
  /**
   * The request's content in the conventions' message-parts schema
   * (`input`: `gen_ai.input.messages`, `system`: `gen_ai.system_instructions`),
   * made on demand: set by the readers of the Responses, Messages and Gemini
   * APIs, only read when the user opts in to content capture.
   */
  content?: () => { input?: unknown[]; system?: unknown[] };
}

/** The sampling settings every wire API has, each under its own field name. */
type SamplingKey =
  | "maxTokens"
  | "temperature"
  | "topP"
  | "topK"
  | "n"
  | "seed"
  | "stop"
  | "frequencyPenalty"
  | "presencePenalty";

/**
 * Where one wire API keeps each sampling setting: a field name, or names
 * tried in order (the first that reads as a value wins).
 */
export type SamplingFields = Readonly<
  Partial<Record<SamplingKey, string | readonly string[]>>
>;

// Each setting's type is the conventions' (top_k, n, seed, max tokens: int).
const SAMPLING_READERS: Readonly<
  Record<SamplingKey, (v: unknown) => number | string[] | undefined>
> = {
  maxTokens: integer,
  temperature: finiteNumber,
  topP: finiteNumber,
  topK: integer,
  n: integer,
  seed: integer,
  stop: stringArray,
  frequencyPenalty: finiteNumber,
  presencePenalty: finiteNumber,
};

/**
 * Reads the sampling settings named by `fields` from `src` into `info`: the
 * one mechanism every wire API's request reader uses, so a setting is read
 * (and typed) the same way whatever API carries it.
 */
export function readSampling(
  src: JsonObject,
  fields: SamplingFields,
  info: GenAIRequestInfo,
): void {
  for (const key in fields) {
    const names = fields[key as SamplingKey]!;
    const read = SAMPLING_READERS[key as SamplingKey];
    let value: number | string[] | undefined;
    if (typeof names === "string") value = read(src[names]);
    else {
      for (const name of names) {
        value = read(src[name]);
        if (value !== undefined) break;
      }
    }
    if (value !== undefined) {
      (info as Record<SamplingKey, unknown>)[key as SamplingKey] = value;
    }
  }
}

// Chat Completions and Completions (`stop` may also be one string: below).
const OPENAI_SAMPLING: SamplingFields = {
  maxTokens: ["max_completion_tokens", "max_tokens"],
  temperature: "temperature",
  topP: "top_p",
  topK: "top_k",
  n: "n",
  seed: "seed",
  frequencyPenalty: "frequency_penalty",
  presencePenalty: "presence_penalty",
};

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
    readSampling(value, OPENAI_SAMPLING, info);
    if (typeof value.stream === "boolean") info.stream = value.stream;
    const streamOptions = value.stream_options;
    if (
      isObject(streamOptions) &&
      typeof streamOptions.include_usage === "boolean"
    ) {
      info.includeUsage = streamOptions.include_usage;
    }
    const stop = stopSequences(value.stop);
    if (stop !== undefined) info.stop = stop;
    const effort = value.reasoning_effort;
    if (typeof effort === "string" && effort) info.reasoningLevel = effort;
    // `gen_ai.output.type`: what `response_format` asks for.
    const format = value.response_format;
    if (isObject(format) && typeof format.type === "string") {
      if (format.type === "text") info.outputType = "text";
      else if (format.type.startsWith("json")) info.outputType = "json";
    }
    if (value.messages !== undefined) info.messages = value.messages;
    if (value.prompt !== undefined) info.prompt = value.prompt;
  } catch {
    // Only reachable for exotic objects (getters, proxies); keep what we have.
  }
  return info;
}

/**
 * Decodes (UTF-8, invalid bytes replaced) and parses a raw request body,
 * then reads it like {@link parseRequestJson}. Returns `undefined` when the
 * body is not JSON or not a JSON object. Never throws.
 */
export function parseRequestBody(
  bytes: Uint8Array | string,
  operation?: GenAIOperation,
): GenAIRequestInfo | undefined {
  const value = parseJsonObject(bytes);
  return value === undefined ? undefined : parseRequestJson(value, operation);
}
