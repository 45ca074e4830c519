/**
 * The Anthropic Messages API (`POST /v1/messages`), as Anthropic, vLLM,
 * SGLang and llama.cpp serve it: the request's fields, the JSON `Message`,
 * and the streamed events (`message_start`, `content_block_*`,
 * `message_delta`, `message_stop`, `ping`, `error`). Pure and never throwing.
 *
 * Token counts follow the GenAI conventions: `input_tokens` there excludes
 * what was read from or written to the cache, so the input count recorded is
 * `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`;
 * `output_tokens` already includes the thinking tokens.
 *
 * @module
 */
import { isObject, type JsonObject, tokenCount } from "./json.ts";
import {
  type GenAIRequestInfo,
  readSampling,
  type SamplingFields,
} from "./openai_request.ts";
import type { GenAIResponseInfo, UsageInfo } from "./openai_response.ts";
import {
  appendPart,
  type ChatMessage,
  genericPart,
  mediaPart,
  type Part,
  partsOf,
  reasoningPart,
  textPart,
  toolCallPart,
  toolResponsePart,
} from "./parts.ts";
import {
  CONTENT,
  COUNT,
  PARSE,
  topLevelType,
  typeSpan,
  typeString,
  WireStreamReader,
} from "./wire_stream.ts";

/** One content block of a request or a `Message`, as parts. */
function blockPart(b: JsonObject): Part | undefined {
  switch (b.type) {
    case "text":
      return typeof b.text === "string" ? textPart(b.text) : undefined;
    case "thinking":
      return typeof b.thinking === "string"
        ? reasoningPart(b.thinking)
        : undefined;
    case "redacted_thinking":
      return genericPart("reasoning");
    case "tool_use":
    case "server_tool_use":
      return toolCallPart(b.id, b.name, b.input);
    case "tool_result":
      return toolResponsePart(b.tool_use_id, b.content);
    case "image":
    case "document": {
      const src = b.source;
      if (!isObject(src)) return genericPart(b.type);
      return src.type === "url"
        ? mediaPart(src.media_type, { uri: src.url })
        : mediaPart(src.media_type, { content: src.data });
    }
    default:
      return genericPart(b.type);
  }
}

/** The request's content as parts (made only when content is captured). */
function requestContent(
  this: { messages?: unknown; system?: unknown },
): { input?: unknown[]; system?: unknown[] } {
  const out: { input?: unknown[]; system?: unknown[] } = {};
  if (Array.isArray(this.messages)) {
    const input: ChatMessage[] = [];
    for (const m of this.messages) {
      if (!isObject(m)) continue;
      input.push({
        role: typeof m.role === "string" ? m.role : "user",
        parts: partsOf(m.content, blockPart),
      });
    }
    out.input = input;
  }
  if (this.system !== undefined) out.system = partsOf(this.system, blockPart);
  return out;
}

const MESSAGES_SAMPLING: SamplingFields = {
  maxTokens: "max_tokens",
  temperature: "temperature",
  topP: "top_p",
  topK: "top_k",
  stop: "stop_sequences",
};

/**
 * Reads a Messages request body: model, `max_tokens`, temperature, top_p,
 * top_k, `stop_sequences`, stream, the output format, and (for capture) the
 * messages and `system`. Never throws.
 */
export function readMessagesRequest(value: unknown): GenAIRequestInfo {
  const info: GenAIRequestInfo = { operation: "chat" };
  if (!isObject(value)) return info;
  try {
    if (typeof value.model === "string" && value.model) {
      info.model = value.model;
    }
    readSampling(value, MESSAGES_SAMPLING, info);
    if (typeof value.stream === "boolean") info.stream = value.stream;
    const config = value.output_config;
    const format = isObject(config) ? config.format : value.output_format;
    if (isObject(format) && format.type === "json_schema") {
      info.outputType = "json";
    }
    const effort = isObject(config) ? config.effort : undefined;
    if (typeof effort === "string" && effort) info.reasoningLevel = effort;
    if (value.messages !== undefined || value.system !== undefined) {
      const raw = { messages: value.messages, system: value.system };
      info.content = requestContent.bind(raw);
    }
  } catch {
    // exotic objects only; keep what we have
  }
  return info;
}

/** The raw counts of a Messages `usage`, as the last event gave them. */
interface RawUsage {
  input?: number;
  cacheRead?: number;
  cacheWrite?: number;
  output?: number;
  thinking?: number;
}

/** Copies the counts `usage` has (a present count replaces the earlier one). */
function readRawUsage(usage: unknown, raw: RawUsage, output: boolean): void {
  if (!isObject(usage)) return;
  raw.input = tokenCount(usage.input_tokens) ?? raw.input;
  raw.cacheRead = tokenCount(usage.cache_read_input_tokens) ?? raw.cacheRead;
  raw.cacheWrite = tokenCount(usage.cache_creation_input_tokens) ??
    raw.cacheWrite;
  if (!output) return;
  raw.output = tokenCount(usage.output_tokens) ?? raw.output;
  const details = usage.output_tokens_details;
  if (isObject(details)) {
    raw.thinking = tokenCount(details.thinking_tokens) ?? raw.thinking;
  }
}

/** The conventions' counts: input includes the cache reads and writes. */
function applyUsage(raw: RawUsage, into: UsageInfo): void {
  if (raw.input !== undefined) {
    into.inputTokens = raw.input + (raw.cacheRead ?? 0) + (raw.cacheWrite ?? 0);
  }
  if (raw.cacheRead !== undefined) into.cachedInputTokens = raw.cacheRead;
  if (raw.cacheWrite !== undefined) into.cacheWriteInputTokens = raw.cacheWrite;
  if (raw.output !== undefined) into.outputTokens = raw.output;
  if (raw.thinking !== undefined) into.reasoningOutputTokens = raw.thinking;
}

/** `error.type` of an error body: `{"type":"error","error":{"type":…}}`. */
function errorType(event: JsonObject): string {
  const e = event.error;
  return isObject(e) && typeof e.type === "string" && e.type ? e.type : "error";
}

/**
 * Reads a `Message` (the JSON answer): id, model, `stop_reason`, usage and,
 * with `capture`, the content as one assistant message. Never throws.
 */
export function readMessagesResponse(
  value: unknown,
  capture: boolean,
): GenAIResponseInfo {
  const info: GenAIResponseInfo = {};
  if (!isObject(value)) return info;
  try {
    if (value.type === "error") {
      info.errorType = errorType(value);
      return info;
    }
    if (typeof value.id === "string") info.id = value.id;
    if (typeof value.model === "string" && value.model) {
      info.model = value.model;
    }
    if (typeof value.stop_reason === "string") {
      info.finishReasons = [value.stop_reason];
    }
    const raw: RawUsage = {};
    readRawUsage(value.usage, raw, true);
    applyUsage(raw, info);
    if (capture && Array.isArray(value.content)) {
      info.outputMessages = [{
        role: "assistant",
        parts: partsOf(value.content, blockPart),
      }];
    }
  } catch {
    // exotic objects only
  }
  return info;
}

// The event types, by what they may change.
const DELTA = "content_block_delta";
/** Delta types nested in `content_block_delta` (a key order that puts them first). */
const NESTED_DELTAS = new Set([
  "text_delta",
  "thinking_delta",
  "input_json_delta",
  "signature_delta",
  "citations_delta",
]);
const QUIET = new Set(["ping", "content_block_stop"]);

/**
 * Reads a streamed Messages answer as it passes: `message_start` (id, model,
 * input usage), `message_delta` (stop reason, final usage), `message_stop`
 * (the end), `error` (a failure, `error.type` from its `error.type`); the
 * first `content_block_delta` is the first content. `ping`,
 * `content_block_stop` and every later delta are counted from their bytes.
 */
export class MessagesStreamReader extends WireStreamReader {
  readonly #raw: RawUsage = {};
  #parts: Part[] | undefined;

  protected classify(buf: Uint8Array, start: number, end: number): number {
    if (!topLevelType(buf, start, end)) return PARSE;
    const n = typeSpan.end - typeSpan.start;
    // content_block_delta: 19 bytes, "content_block_" then "delta".
    if (n === 19 && buf[typeSpan.start + 14] === 0x64) return CONTENT;
    const type = typeString(buf);
    if (type === DELTA || NESTED_DELTAS.has(type)) return CONTENT;
    if (QUIET.has(type)) return COUNT;
    if (type === "content_block_start") return this.capture ? PARSE : COUNT;
    return PARSE;
  }

  protected read(event: JsonObject, content: boolean): boolean {
    if (content) {
      this.#delta(event.delta);
      return true;
    }
    const s = this.summary;
    switch (event.type) {
      case "message_start": {
        const m = event.message;
        if (!isObject(m)) break;
        if (typeof m.id === "string") s.id = m.id;
        if (typeof m.model === "string" && m.model) s.model = m.model;
        // Only the input counts: output_tokens here is a placeholder.
        readRawUsage(m.usage, this.#raw, false);
        applyUsage(this.#raw, s);
        break;
      }
      case "message_delta": {
        const d = event.delta;
        if (isObject(d) && typeof d.stop_reason === "string") {
          s.finishReasons = [d.stop_reason];
        }
        readRawUsage(event.usage, this.#raw, true);
        applyUsage(this.#raw, s);
        break;
      }
      case "message_stop":
        this.done = true;
        break;
      case "error":
        s.errorType = errorType(event);
        this.done = true;
        break;
      case undefined:
        // An error body without the Messages envelope (`{"error": {…}}`).
        if (isObject(event.error)) {
          s.errorType = errorType(event);
          this.done = true;
        }
        break;
      case "content_block_start": {
        const b = event.content_block;
        if (
          isObject(b) && (b.type === "tool_use" || b.type === "server_tool_use")
        ) {
          (this.#parts ??= []).push(toolCallPart(b.id, b.name, ""));
        }
        break;
      }
    }
    return false;
  }

  /** Captures one delta's text, thinking or tool arguments. */
  #delta(d: unknown): void {
    if (!isObject(d)) return;
    const parts = this.#parts ??= [];
    if (d.type === "text_delta" && typeof d.text === "string") {
      appendPart(parts, textPart(d.text));
    } else if (d.type === "thinking_delta" && typeof d.thinking === "string") {
      appendPart(parts, reasoningPart(d.thinking));
    } else if (
      d.type === "input_json_delta" && typeof d.partial_json === "string"
    ) {
      const last = parts[parts.length - 1];
      if (last?.type === "tool_call") last.arguments += d.partial_json;
    }
  }

  protected output(): unknown[] | undefined {
    return this.#parts && [{ role: "assistant", parts: this.#parts }];
  }
}
