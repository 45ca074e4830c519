/**
 * The wire APIs llmtrace reads, behind one small shape each (read the
 * request, read the JSON answer, read the stream), and the choice of one per
 * request, made once, from the path or from the caller's `api` option:
 *
 * | API | path (under any prefix) | module |
 * | --- | --- | --- |
 * | OpenAI Chat Completions, Completions, Embeddings | `/chat/completions`, `/completions`, `/embeddings` | `openai_request.ts`, `openai_response.ts`, `openai_stream.ts` |
 * | OpenAI Responses | `/responses` | `openai_responses.ts` |
 * | Anthropic Messages | `/messages` | `anthropic_messages.ts` |
 * | Gemini | `/models/{model}:generateContent`, `:streamGenerateContent` | `gemini.ts` |
 *
 * @module
 */
import {
  barePath,
  type GenAIOperation,
  type GenAIRequestInfo,
  operationForPath,
  parseRequestJson,
} from "./openai_request.ts";
import {
  type GenAIResponseInfo,
  parseResponseJson,
} from "./openai_response.ts";
import { OpenAIStreamReader } from "./openai_stream.ts";
import { parseJsonObject } from "./json.ts";
import {
  isResponsesPath,
  readResponsesRequest,
  readResponsesResponse,
  ResponsesStreamReader,
} from "./openai_responses.ts";
import {
  isMessagesPath,
  MessagesStreamReader,
  readMessagesRequest,
  readMessagesResponse,
} from "./anthropic_messages.ts";
import {
  geminiPath,
  GeminiStreamReader,
  readGeminiRequest,
  readGeminiResponse,
} from "./gemini.ts";
import type { GenAIStreamReader, StreamReaderOptions } from "./wire_stream.ts";
import { describe } from "../core/validate.ts";

/**
 * The wire API a request speaks: `"openai"` (Chat Completions, Completions,
 * Embeddings), `"openai_responses"` (Responses), `"anthropic"` (Messages) or
 * `"gemini"` (`generateContent`, `streamGenerateContent`).
 *
 * @example
 * ```ts
 * import type { WireApiName } from "@llmtrace/otel";
 *
 * const api: WireApiName = "anthropic";
 * ```
 */
export type WireApiName =
  | "openai"
  | "openai_responses"
  | "anthropic"
  | "gemini";

/** One wire API's readers. */
export interface WireApi {
  readonly name: WireApiName;
  /** `gen_ai.provider.name` when the upstream's host tells nothing. */
  readonly provider: string;
  /** Reads a parsed JSON answer (any JSON value). */
  readResponse(value: unknown, capture: boolean): GenAIResponseInfo;
  /** A reader of a streamed answer. */
  streamReader(options: StreamReaderOptions): GenAIStreamReader;
}

/** One request's API and operation, chosen once. */
export interface WireCall {
  readonly api: WireApi;
  readonly operation: GenAIOperation;
  /** The model, when the path names it (Gemini). */
  readonly model?: string;
  /** Reads the parsed request body. */
  readRequest(value: unknown): GenAIRequestInfo;
}

const OPENAI: WireApi = {
  name: "openai",
  provider: "openai",
  readResponse: (value) => parseResponseJson(value),
  streamReader: (o) => new OpenAIStreamReader(o),
};
const RESPONSES: WireApi = {
  name: "openai_responses",
  provider: "openai",
  readResponse: readResponsesResponse,
  streamReader: (o) => new ResponsesStreamReader(o),
};
const MESSAGES: WireApi = {
  name: "anthropic",
  provider: "anthropic",
  readResponse: readMessagesResponse,
  streamReader: (o) => new MessagesStreamReader(o),
};
const GEMINI: WireApi = {
  name: "gemini",
  provider: "gcp.gemini",
  readResponse: readGeminiResponse,
  streamReader: (o) => new GeminiStreamReader(o),
};

/** The OpenAI calls, one per operation (made once: no object per request). */
const OPENAI_CALLS = new Map<GenAIOperation, WireCall>();
function openaiCall(operation: GenAIOperation): WireCall {
  let call = OPENAI_CALLS.get(operation);
  if (call === undefined) {
    call = {
      api: OPENAI,
      operation,
      readRequest: (v) => parseRequestJson(v, operation),
    };
    OPENAI_CALLS.set(operation, call);
  }
  return call;
}
const RESPONSES_CALL: WireCall = {
  api: RESPONSES,
  operation: "chat",
  readRequest: readResponsesRequest,
};
const MESSAGES_CALL: WireCall = {
  api: MESSAGES,
  operation: "chat",
  readRequest: readMessagesRequest,
};

function geminiCall(model: string | undefined, stream: boolean): WireCall {
  return {
    api: GEMINI,
    operation: "generate_content",
    model,
    readRequest: (v) => readGeminiRequest(v, model, stream),
  };
}

/**
 * The wire API and operation of a request path, or `undefined` when it is
 * none of the paths above. With `name`, that API is taken for any path (its
 * default operation when the path is not one of its own).
 *
 * @param path The request path (a query string is ignored, except Gemini's
 * `alt=sse`, which changes nothing).
 * @param name The API the caller named (`api` option).
 */
export function wireCall(
  path: string,
  name?: WireApiName,
): WireCall | undefined {
  if (name === undefined || name === "openai") {
    const operation = operationForPath(path);
    if (operation !== undefined) return openaiCall(operation);
    if (name === "openai") return openaiCall("chat");
  }
  const p = barePath(path) ?? "/";
  if (name === undefined || name === "openai_responses") {
    if (name !== undefined || isResponsesPath(p)) return RESPONSES_CALL;
  }
  if (name === undefined || name === "anthropic") {
    if (name !== undefined || isMessagesPath(p)) return MESSAGES_CALL;
  }
  const gemini = geminiPath(p);
  if (gemini) return geminiCall(gemini.model, gemini.stream);
  return name === "gemini" ? geminiCall(undefined, false) : undefined;
}

/**
 * The call for an operation the caller decided (`operation` option): the
 * path's API when it is not OpenAI's, with that operation; else OpenAI's.
 */
export function withOperation(
  call: WireCall | undefined,
  operation: GenAIOperation,
): WireCall {
  if (call === undefined || call.api === OPENAI) return openaiCall(operation);
  return call.operation === operation ? call : { ...call, operation };
}

/** The readers of a response when no call was chosen: OpenAI's, as ever. */
export const DEFAULT_WIRE_API: WireApi = OPENAI;

/**
 * Decodes and parses a request body, then reads it as `call` says;
 * `undefined` when it is not a JSON object. Never throws.
 */
export function readRequestBytes(
  call: WireCall,
  bytes: Uint8Array | string,
): GenAIRequestInfo | undefined {
  const value = parseJsonObject(bytes);
  return value === undefined ? undefined : call.readRequest(value);
}

const NAMES: ReadonlySet<string> = new Set([
  "openai",
  "openai_responses",
  "anthropic",
  "gemini",
]);

/**
 * Checks an `api` option: `undefined` or one of the {@link WireApiName}s.
 *
 * @throws {TypeError} naming the option, the value and the names expected.
 */
export function expectWireApi(
  value: unknown,
  where: string,
): WireApiName | undefined {
  if (value === undefined || (typeof value === "string" && NAMES.has(value))) {
    return value as WireApiName | undefined;
  }
  throw new TypeError(
    `${where} must be one of ${
      [...NAMES].map((n) => `"${n}"`).join(", ")
    }, got ${describe(value)}`,
  );
}
