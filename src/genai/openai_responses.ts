/**
 * The OpenAI Responses API (`POST /v1/responses`), as OpenAI, Azure and vLLM
 * serve it: the request's fields, the JSON `Response`, and the streamed
 * events (`response.created`, `response.*.delta`, `response.completed`,
 * `response.incomplete`, `response.failed`, `error`). Pure and never
 * throwing.
 *
 * A `Response` has a `status`, not finish reasons; they are mapped to Chat
 * Completions' values: `completed` → `stop` (`tool_calls` when the output
 * holds a function call), `incomplete` → `length` for `max_output_tokens`,
 * `content_filter` for `content_filter`, else the reason as given;
 * `failed` and `cancelled` → none (a failure is recorded as an error).
 * `usage.input_tokens` includes the cached tokens and `output_tokens` the
 * reasoning tokens, as the conventions ask.
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

/** One content item of an input message, as a part. */
function inputPart(b: JsonObject): Part | undefined {
  switch (b.type) {
    case "input_text":
    case "output_text":
      return typeof b.text === "string" ? textPart(b.text) : undefined;
    case "refusal":
      return typeof b.refusal === "string" ? textPart(b.refusal) : undefined;
    case "input_image":
      return typeof b.image_url === "string"
        ? mediaPart("image/*", { uri: b.image_url })
        : genericPart("image");
    default:
      return genericPart(b.type);
  }
}

/** The request's `input` and `instructions` as parts. */
function requestContent(
  this: { input?: unknown; instructions?: unknown },
): { input?: unknown[]; system?: unknown[] } {
  const out: { input?: unknown[]; system?: unknown[] } = {};
  const input = this.input;
  if (typeof input === "string") {
    out.input = [{ role: "user", parts: [textPart(input)] }];
  } else if (Array.isArray(input)) {
    const messages: ChatMessage[] = [];
    for (const item of input) {
      if (!isObject(item)) continue;
      if (item.type === "function_call") {
        messages.push({
          role: "assistant",
          parts: [toolCallPart(item.call_id, item.name, item.arguments)],
        });
      } else if (item.type === "function_call_output") {
        messages.push({
          role: "tool",
          parts: [toolResponsePart(item.call_id, item.output)],
        });
      } else if (item.role !== undefined) {
        const role = item.role === "developer" ? "system" : item.role;
        messages.push({
          role: typeof role === "string" ? role : "user",
          parts: partsOf(item.content, inputPart),
        });
      }
    }
    out.input = messages;
  }
  if (typeof this.instructions === "string") {
    out.system = [textPart(this.instructions)];
  }
  return out;
}

const RESPONSES_SAMPLING: SamplingFields = {
  maxTokens: "max_output_tokens",
  temperature: "temperature",
  topP: "top_p",
};

/**
 * Reads a Responses request body: model, `max_output_tokens`, temperature,
 * top_p, stream, the output format (`text.format`), and (for capture)
 * `input` and `instructions`. Never throws.
 */
export function readResponsesRequest(value: unknown): GenAIRequestInfo {
  const info: GenAIRequestInfo = { operation: "chat" };
  if (!isObject(value)) return info;
  try {
    if (typeof value.model === "string" && value.model) {
      info.model = value.model;
    }
    readSampling(value, RESPONSES_SAMPLING, info);
    if (typeof value.stream === "boolean") info.stream = value.stream;
    const reasoning = value.reasoning;
    const effort = isObject(reasoning) ? reasoning.effort : undefined;
    if (typeof effort === "string" && effort) info.reasoningLevel = effort;
    const previous = value.previous_response_id;
    if (typeof previous === "string" && previous) {
      info.previousResponseId = previous;
    }
    const text = value.text;
    const format = isObject(text) ? text.format : undefined;
    if (isObject(format) && typeof format.type === "string") {
      info.outputType = format.type === "text" ? "text" : "json";
    }
    if (value.input !== undefined || value.instructions !== undefined) {
      const raw = { input: value.input, instructions: value.instructions };
      info.content = requestContent.bind(raw);
    }
  } catch {
    // exotic objects only
  }
  return info;
}

/** Copies a Responses `usage` into `into`. */
function readResponsesUsage(usage: unknown, into: UsageInfo): void {
  if (!isObject(usage)) return;
  const input = tokenCount(usage.input_tokens);
  if (input !== undefined) into.inputTokens = input;
  const output = tokenCount(usage.output_tokens);
  if (output !== undefined) into.outputTokens = output;
  const inDetails = usage.input_tokens_details;
  if (isObject(inDetails)) {
    const cached = tokenCount(inDetails.cached_tokens);
    if (cached !== undefined) into.cachedInputTokens = cached;
    const written = tokenCount(inDetails.cache_write_tokens);
    if (written !== undefined) into.cacheWriteInputTokens = written;
  }
  const outDetails = usage.output_tokens_details;
  if (isObject(outDetails)) {
    const reasoning = tokenCount(outDetails.reasoning_tokens);
    if (reasoning !== undefined) into.reasoningOutputTokens = reasoning;
  }
}

/** The finish reason a `Response`'s status stands for (see the module doc). */
function finishReason(r: JsonObject): string | undefined {
  if (r.status === "completed") {
    const output = r.output;
    if (Array.isArray(output)) {
      for (const item of output) {
        if (isObject(item) && item.type === "function_call") {
          return "tool_calls";
        }
      }
    }
    return "stop";
  }
  if (r.status !== "incomplete") return undefined;
  const details = r.incomplete_details;
  const reason = isObject(details) ? details.reason : undefined;
  if (reason === "max_output_tokens") return "length";
  return typeof reason === "string" && reason ? reason : "incomplete";
}

/** The `output` items as one assistant message. */
function outputMessages(output: unknown): unknown[] | undefined {
  if (!Array.isArray(output)) return undefined;
  const parts: Part[] = [];
  for (const item of output) {
    if (!isObject(item)) continue;
    if (item.type === "message") {
      parts.push(...partsOf(item.content, inputPart));
    } else if (item.type === "function_call") {
      parts.push(toolCallPart(item.call_id, item.name, item.arguments));
    } else if (item.type === "reasoning" && Array.isArray(item.summary)) {
      for (const s of item.summary) {
        if (isObject(s) && typeof s.text === "string") {
          parts.push(reasoningPart(s.text));
        }
      }
    }
  }
  return [{ role: "assistant", parts }];
}

/** Reads a `Response` object into `info`. */
function readResponse(
  r: JsonObject,
  info: GenAIResponseInfo,
  capture: boolean,
) {
  if (typeof r.id === "string") info.id = r.id;
  if (typeof r.model === "string" && r.model) info.model = r.model;
  const finish = finishReason(r);
  if (finish !== undefined) info.finishReasons = [finish];
  readResponsesUsage(r.usage, info);
  if (r.status === "failed") {
    const e = r.error;
    info.errorType = isObject(e) && typeof e.code === "string" && e.code
      ? e.code
      : "failed";
  }
  if (capture) {
    const out = outputMessages(r.output);
    if (out !== undefined) info.outputMessages = out;
  }
}

/**
 * Reads a `Response` (the JSON answer): id, model, the finish reason its
 * status stands for, usage, a failure, and with `capture` the output.
 * Never throws.
 */
export function readResponsesResponse(
  value: unknown,
  capture: boolean,
): GenAIResponseInfo {
  const info: GenAIResponseInfo = {};
  if (!isObject(value)) return info;
  try {
    readResponse(value, info, capture);
  } catch {
    // exotic objects only
  }
  return info;
}

const TERMINAL = new Set([
  "response.completed",
  "response.incomplete",
  "response.failed",
]);
/** Events that carry the `Response` (ids, model, usage, status). */
const CARRIES_RESPONSE = new Set([
  "response.created",
  "response.queued",
  "response.in_progress",
  ...TERMINAL,
]);

/**
 * Reads a streamed Responses answer as it passes: `response.created` (id,
 * model), the terminal `response.completed` / `response.incomplete` /
 * `response.failed` (status, usage; failed is an error) and `error` are
 * parsed; the first `response.*.delta` (text, reasoning, tool arguments,
 * refusal) is the first content; every other event is counted from its
 * bytes.
 */
export class ResponsesStreamReader extends WireStreamReader {
  #parts: Part[] | undefined;
  #final = false;

  protected classify(buf: Uint8Array, start: number, end: number): number {
    if (!topLevelType(buf, start, end)) return PARSE;
    const e = typeSpan.end;
    // `….delta`: content.
    if (
      buf[e - 1] === 0x61 && buf[e - 2] === 0x74 && buf[e - 3] === 0x6c &&
      buf[e - 4] === 0x65 && buf[e - 5] === 0x64 && buf[e - 6] === 0x2e
    ) return CONTENT;
    const type = typeString(buf);
    if (type === "error" || TERMINAL.has(type)) return PARSE;
    // Once identified, `response.in_progress` has nothing new.
    if (CARRIES_RESPONSE.has(type)) return this.identified ? COUNT : PARSE;
    return COUNT;
  }

  protected read(event: JsonObject, content: boolean): boolean {
    const type = event.type;
    if (content) {
      if (typeof event.delta === "string" && !this.#final) {
        const parts = this.#parts ??= [];
        if (type === "response.output_text.delta") {
          appendPart(parts, textPart(event.delta));
        } else if (
          typeof type === "string" && type.startsWith("response.reasoning")
        ) {
          appendPart(parts, reasoningPart(event.delta));
        }
      }
      return true;
    }
    if (type === "error" || (type === undefined && isObject(event.error))) {
      // `{"type":"error","code":…}`, or an error body (`{"error":{…}}`).
      const e = isObject(event.error) ? event.error : event;
      const code = [e.code, e.type].find((v) => typeof v === "string" && v);
      this.summary.errorType = (code as string | undefined) ?? "error";
      this.done = true;
      return false;
    }
    const r = event.response;
    if (!isObject(r)) return false;
    const terminal = typeof type === "string" && TERMINAL.has(type);
    readResponse(r, this.summary, false);
    if (terminal) {
      this.done = true;
      // The final Response has the whole output: it replaces the deltas.
      if (this.capture) {
        const out = outputMessages(r.output);
        if (out !== undefined) {
          this.#final = true;
          this.#parts = (out[0] as { parts: Part[] }).parts;
        }
      }
    }
    return false;
  }

  protected output(): unknown[] | undefined {
    return this.#parts && [{ role: "assistant", parts: this.#parts }];
  }
}
