/**
 * Google's Gemini API (`/v1|v1beta|v1alpha/models/{model}:generateContent`
 * and `:streamGenerateContent?alt=sse`, Vertex AI's
 * `…/publishers/google/models/{model}:…` too): the model from the path, the
 * request's `generationConfig`, the JSON `GenerateContentResponse`, and the
 * streamed chunks. Pure and never throwing.
 *
 * Token counts follow the GenAI conventions: `promptTokenCount` already
 * includes the cached content, and the input count adds the tool-use prompt
 * tokens; the output count is `candidatesTokenCount + thoughtsTokenCount`
 * (Gemini counts the thoughts apart), with the thoughts also recorded as
 * reasoning tokens. Finish reasons are Gemini's own (`STOP`, `MAX_TOKENS`,
 * `SAFETY`, …).
 *
 * @module
 */
import {
  isObject,
  type JsonObject,
  parseObjectAt,
  tokenCount,
} from "./json.ts";
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
  reasoningPart,
  textPart,
  toolCallPart,
  toolResponsePart,
} from "./parts.ts";
import {
  CONTENT,
  COUNT,
  keyFlags,
  PARSE,
  WireStreamReader,
} from "./wire_stream.ts";

/** One `Part` of Gemini content, in the conventions' schema. */
function partOf(p: JsonObject): Part | undefined {
  if (typeof p.text === "string") {
    return p.thought === true ? reasoningPart(p.text) : textPart(p.text);
  }
  const call = p.functionCall ?? p.function_call;
  if (isObject(call)) return toolCallPart(call.id, call.name, call.args);
  const res = p.functionResponse ?? p.function_response;
  if (isObject(res)) return toolResponsePart(res.id, res.response);
  const inline = p.inlineData ?? p.inline_data;
  if (isObject(inline)) {
    return mediaPart(inline.mimeType ?? inline.mime_type, {
      content: inline.data,
    });
  }
  const file = p.fileData ?? p.file_data;
  if (isObject(file)) {
    return mediaPart(file.mimeType ?? file.mime_type, {
      uri: file.fileUri ?? file.file_uri,
    });
  }
  return genericPart(Object.keys(p)[0]);
}

/** The parts of a `Content` (`{role, parts}`), or of a bare string. */
function contentParts(c: unknown): Part[] {
  if (typeof c === "string") return [textPart(c)];
  const parts: Part[] = [];
  const list = isObject(c) ? c.parts : undefined;
  if (Array.isArray(list)) {
    for (const p of list) {
      if (!isObject(p)) continue;
      const part = partOf(p);
      if (part) parts.push(part);
    }
  }
  return parts;
}

/** `model` is the conventions' `assistant`. */
function role(r: unknown): string {
  return r === "model" ? "assistant" : typeof r === "string" ? r : "user";
}

/** The request's `contents` and `systemInstruction` as parts. */
function requestContent(
  this: { contents?: unknown; system?: unknown },
): { input?: unknown[]; system?: unknown[] } {
  const out: { input?: unknown[]; system?: unknown[] } = {};
  const contents = this.contents;
  if (Array.isArray(contents)) {
    const input: ChatMessage[] = [];
    for (const c of contents) {
      if (isObject(c)) {
        input.push({ role: role(c.role), parts: contentParts(c) });
      }
    }
    out.input = input;
  }
  if (this.system !== undefined) out.system = contentParts(this.system);
  return out;
}

// `generationConfig`: camelCase on the wire, snake_case from some clients.
const GENERATION_CONFIG_SAMPLING: SamplingFields = {
  maxTokens: ["maxOutputTokens", "max_output_tokens"],
  temperature: "temperature",
  topP: ["topP", "top_p"],
  topK: ["topK", "top_k"],
  stop: ["stopSequences", "stop_sequences"],
  n: ["candidateCount", "candidate_count"],
  seed: "seed",
  frequencyPenalty: ["frequencyPenalty", "frequency_penalty"],
  presencePenalty: ["presencePenalty", "presence_penalty"],
};

/**
 * Reads a Gemini request body (the model and streaming come from the path):
 * `generationConfig`'s maxOutputTokens, temperature, topP, topK,
 * stopSequences, candidateCount, seed, penalties and output type, and (for
 * capture) `contents` and `systemInstruction`. Never throws.
 */
export function readGeminiRequest(
  value: unknown,
  model: string | undefined,
  stream: boolean,
): GenAIRequestInfo {
  const info: GenAIRequestInfo = { operation: "generate_content", stream };
  if (model) info.model = model;
  if (!isObject(value)) return info;
  try {
    const config = value.generationConfig ?? value.generation_config;
    if (isObject(config)) {
      const c = config;
      readSampling(c, GENERATION_CONFIG_SAMPLING, info);
      const thinking = c.thinkingConfig ?? c.thinking_config;
      const level = isObject(thinking)
        ? thinking.thinkingLevel ?? thinking.thinking_level
        : undefined;
      if (typeof level === "string" && level) info.reasoningLevel = level;
      const mime = c.responseMimeType ?? c.response_mime_type;
      if (mime === "application/json") info.outputType = "json";
      else if (mime === "text/plain") info.outputType = "text";
    }
    const system = value.systemInstruction ?? value.system_instruction;
    if (value.contents !== undefined || system !== undefined) {
      const raw = { contents: value.contents, system };
      info.content = requestContent.bind(raw);
    }
  } catch {
    // exotic objects only
  }
  return info;
}

/** Copies `usageMetadata` (cumulative in a stream) into `into`. */
function readGeminiUsage(usage: unknown, into: UsageInfo): void {
  if (!isObject(usage)) return;
  const prompt = tokenCount(usage.promptTokenCount);
  const tools = tokenCount(usage.toolUsePromptTokenCount);
  if (prompt !== undefined || tools !== undefined) {
    into.inputTokens = (prompt ?? 0) + (tools ?? 0);
  }
  const candidates = tokenCount(usage.candidatesTokenCount);
  const thoughts = tokenCount(usage.thoughtsTokenCount);
  if (candidates !== undefined || thoughts !== undefined) {
    into.outputTokens = (candidates ?? 0) + (thoughts ?? 0);
  }
  if (thoughts !== undefined) into.reasoningOutputTokens = thoughts;
  const cached = tokenCount(usage.cachedContentTokenCount);
  if (cached !== undefined) into.cachedInputTokens = cached;
}

/** `error.type` of a Gemini error object: its `status`, else its `code`. */
function errorType(e: unknown): string {
  if (!isObject(e)) return "error";
  if (typeof e.status === "string" && e.status) return e.status;
  return typeof e.code === "number" ? String(e.code) : "error";
}

/** A candidate's index, or its position. */
function candidateIndex(c: JsonObject, position: number): number {
  const i = c.index;
  return typeof i === "number" && Number.isSafeInteger(i) && i >= 0
    ? i
    : position;
}

/**
 * Reads one response (or streamed chunk) into `info`; calls `onParts` with
 * each candidate's parts when given. Returns whether some candidate had
 * parts.
 */
function readChunk(
  r: JsonObject,
  info: GenAIResponseInfo,
  finish: Map<number, string>,
  onParts?: (index: number, parts: Part[]) => void,
): boolean {
  if (r.error !== undefined) {
    info.errorType = errorType(r.error);
    return false;
  }
  if (typeof r.responseId === "string") info.id = r.responseId;
  if (typeof r.modelVersion === "string" && r.modelVersion) {
    info.model = r.modelVersion;
  }
  let content = false;
  const candidates = r.candidates;
  if (Array.isArray(candidates)) {
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i];
      if (!isObject(c)) continue;
      const index = candidateIndex(c, i);
      if (typeof c.finishReason === "string") finish.set(index, c.finishReason);
      const body = c.content;
      if (isObject(body) && Array.isArray(body.parts) && body.parts.length) {
        content = true;
        onParts?.(index, contentParts(body));
      }
    }
  }
  readGeminiUsage(r.usageMetadata, info);
  return content;
}

/** The values of a map by key order. */
function byIndex<T>(map: Map<number, T>): T[] {
  return [...map.keys()].sort((a, b) => a - b).map((k) => map.get(k)!);
}

/**
 * Reads a `GenerateContentResponse` (or the JSON array a
 * `streamGenerateContent` call without `alt=sse` returns): id, model
 * version, each candidate's finish reason, usage, an `error` object, and
 * with `capture` each candidate's content. Never throws.
 */
export function readGeminiResponse(
  value: unknown,
  capture: boolean,
): GenAIResponseInfo {
  const info: GenAIResponseInfo = {};
  try {
    const chunks = Array.isArray(value) ? value : [value];
    const finish = new Map<number, string>();
    const out = new Map<number, Part[]>();
    const onParts = capture
      ? (i: number, parts: Part[]) =>
        out.set(i, [...(out.get(i) ?? []), ...parts])
      : undefined;
    for (const c of chunks) {
      if (isObject(c)) readChunk(c, info, finish, onParts);
    }
    if (finish.size) info.finishReasons = byIndex(finish);
    if (capture && out.size) {
      info.outputMessages = byIndex(out).map((parts) => ({
        role: "assistant",
        parts,
      }));
    }
  } catch {
    // exotic objects only
  }
  return info;
}

const enc = new TextEncoder();
/** The keys that decide a chunk: bits 1 and 2 mean parse, 4 and 8 content. */
const KEYS = ["finishReason", "error", "text", "functionCall"].map((k) =>
  enc.encode(k)
);

/** Whether some candidate of a chunk has a finish reason. */
function hasFinishReason(r: JsonObject): boolean {
  const candidates = r.candidates;
  return Array.isArray(candidates) &&
    candidates.some((c) => isObject(c) && typeof c.finishReason === "string");
}

function isLineEnd(c: number): boolean {
  return c === 0x0a || c === 0x0d;
}

/**
 * Where the first line of `chunk` that starts with `{` begins (no SSE field
 * does), or -1; the chunk's first byte counts as a line start. A chunk that
 * ends an event (a blank line) is not searched: the error object ends the
 * stream, so it is last in its chunk, and most chunks are whole events.
 */
function lineStartingWithBrace(chunk: Uint8Array): number {
  if (chunk[0] === 0x7b) return 0;
  const n = chunk.length;
  if (n >= 2 && isLineEnd(chunk[n - 1]) && isLineEnd(chunk[n - 2])) return -1;
  // Line ends are few (two an event), braces many: look after each.
  for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) {
    if (chunk[i + 1] === 0x7b) return i + 1;
  }
  for (let i = chunk.indexOf(0x0d); i >= 0; i = chunk.indexOf(0x0d, i + 1)) {
    if (chunk[i + 1] === 0x7b) return i + 1;
  }
  return -1;
}

/** The most bytes of an unframed error object held (it is a few hundred). */
const MAX_UNFRAMED_BYTES = 64 * 1024;

/**
 * Reads a streamed Gemini answer (`alt=sse`): every chunk carries the
 * cumulative usage, so only the first (id, model version, first content),
 * those with a `finishReason` (the last, with the final usage) and error
 * objects are parsed; the others are counted from their bytes.
 *
 * The answer is complete while the last chunk has a finish reason: with
 * server-side tools the function call's chunk has one too, and the answer
 * goes on. An error in the middle of the stream comes as the bare error
 * object, without `data:` framing (as the js-genai client expects it):
 * bytes starting with `{` between events are held (bounded) and read as
 * one event's data.
 */
export class GeminiStreamReader extends WireStreamReader {
  readonly #finish = new Map<number, string>();
  #out: Map<number, Part[]> | undefined;
  #unframed: Uint8Array | undefined;
  #unframedLength = 0;

  override push(chunk: Uint8Array): boolean {
    if (!(chunk instanceof Uint8Array) || chunk.length === 0) {
      return super.push(chunk);
    }
    if (this.#unframed !== undefined) {
      this.#hold(chunk);
      return false;
    }
    const at = lineStartingWithBrace(chunk);
    if (at < 0) return super.push(chunk);
    const first = at > 0 && super.push(chunk.subarray(0, at));
    if (!this.betweenEvents) return super.push(chunk.subarray(at)) || first;
    this.#hold(chunk.subarray(at));
    return first;
  }

  override end(): boolean {
    if (this.#unframed !== undefined) this.#readHeld();
    return super.end();
  }

  override get bufferedBytes(): number {
    return super.bufferedBytes + this.#unframedLength;
  }

  /** Holds unframed bytes; reads them once they end like a JSON object. */
  #hold(chunk: Uint8Array): void {
    const used = this.#unframedLength;
    const needed = used + chunk.length;
    if (needed > MAX_UNFRAMED_BYTES) {
      // Not an error object: too big to hold, read what there is.
      this.#readHeld();
      return;
    }
    let buf = this.#unframed;
    if (buf === undefined || buf.length < needed) {
      const grown = new Uint8Array(Math.min(MAX_UNFRAMED_BYTES, needed * 2));
      if (buf !== undefined) grown.set(buf.subarray(0, used));
      buf = this.#unframed = grown;
    }
    buf.set(chunk, used);
    this.#unframedLength = needed;
    let last = needed - 1;
    while (last > 0 && (buf[last] <= 0x20)) last--;
    if (buf[last] === 0x7d && parseObjectAt(buf, 0, last + 1) !== undefined) {
      this.#readHeld();
    }
  }

  #readHeld(): void {
    const buf = this.#unframed!;
    let end = this.#unframedLength;
    while (end > 0 && buf[end - 1] <= 0x20) end--;
    this.#unframed = undefined;
    this.#unframedLength = 0;
    this.readUnframed(buf, end);
  }

  protected classify(buf: Uint8Array, start: number, end: number): number {
    // A chunk after one with a finish reason: the answer went on.
    this.done = false;
    if (this.capture || !this.identified) return PARSE;
    const flags = keyFlags(buf, start, end, KEYS);
    return flags & 3 ? PARSE : flags ? CONTENT : COUNT;
  }

  protected read(event: JsonObject): boolean {
    const s = this.summary;
    const out = this.capture ? (this.#out ??= new Map()) : undefined;
    const content = readChunk(
      event,
      s,
      this.#finish,
      out &&
        ((i, parts) => {
          const have = out.get(i);
          if (have === undefined) out.set(i, parts);
          else for (const p of parts) appendPart(have, p);
        }),
    );
    if (this.#finish.size) s.finishReasons = byIndex(this.#finish);
    this.done = s.errorType !== undefined || hasFinishReason(event);
    return content;
  }

  protected output(): unknown[] | undefined {
    return this.#out &&
      byIndex(this.#out).map((parts) => ({ role: "assistant", parts }));
  }
}
