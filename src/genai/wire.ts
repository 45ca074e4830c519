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
 * The OpenAI readers load with this module; the other three load together
 * (`wire_readers.ts`) when tracing or metrics start, or at the first request
 * of one of them, so a program that never traces never evaluates them. A
 * request read before they have loaded gets its operation, model (Gemini)
 * and HTTP attributes, not the rest.
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
import type {
  GenAIStreamReader,
  StreamReaderOptions,
  StreamSummary,
} from "./wire_stream.ts";
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
  readResponse: (value, capture) => parseResponseJson(value, capture),
  streamReader: (o) => new OpenAIStreamReader(o),
};
type Readers = typeof import("./wire_readers.ts");
let readers: Readers | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads the Responses, Messages and Gemini readers (once); resolves when
 * they are in place. Never rejects: without them those APIs get the
 * attributes of their path only.
 */
export function loadWireReaders(): Promise<void> {
  return loading ??= import("./wire_readers.ts").then(
    (m) => {
      readers = m;
    },
    () => {},
  );
}

/** A stream that came before the readers: counted as nothing. */
const UNREAD: GenAIStreamReader = {
  push: () => false,
  end: () => false,
  complete: false,
  bufferedBytes: 0,
  get info(): StreamSummary {
    return { chunks: 0, contentChunks: 0, errors: 0 };
  },
};

const RESPONSES: WireApi = {
  name: "openai_responses",
  provider: "openai",
  readResponse: (v, c) => readers ? readers.readResponsesResponse(v, c) : {},
  streamReader: (o) => readers ? new readers.ResponsesStreamReader(o) : UNREAD,
};
const MESSAGES: WireApi = {
  name: "anthropic",
  provider: "anthropic",
  readResponse: (v, c) => readers ? readers.readMessagesResponse(v, c) : {},
  streamReader: (o) => readers ? new readers.MessagesStreamReader(o) : UNREAD,
};
const GEMINI: WireApi = {
  name: "gemini",
  provider: "gcp.gemini",
  readResponse: (v, c) => readers ? readers.readGeminiResponse(v, c) : {},
  streamReader: (o) => readers ? new readers.GeminiStreamReader(o) : UNREAD,
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
  readRequest: (v) =>
    readers ? readers.readResponsesRequest(v) : { operation: "chat" },
};
const MESSAGES_CALL: WireCall = {
  api: MESSAGES,
  operation: "chat",
  readRequest: (v) =>
    readers ? readers.readMessagesRequest(v) : { operation: "chat" },
};

function geminiCall(model: string | undefined, stream: boolean): WireCall {
  return {
    api: GEMINI,
    operation: "generate_content",
    model,
    readRequest: (v) =>
      readers
        ? readers.readGeminiRequest(v, model, stream)
        : { operation: "generate_content", stream, ...(model && { model }) },
  };
}

/** Whether a (bare) path is a Responses call: `…/responses`. */
function isResponsesPath(p: string): boolean {
  return p.endsWith("/responses");
}

/** Whether a (bare) path is a Messages call: `…/messages`, not an Assistants thread's. */
function isMessagesPath(p: string): boolean {
  return p.endsWith("/messages") && !p.includes("/threads/");
}

const GENERATE = ":generateContent";
const STREAM = ":streamGenerateContent";

/**
 * The model and streaming of a (bare) Gemini path, or `undefined` when it
 * is not a `models/{model}:generateContent` or `:streamGenerateContent` call.
 */
function geminiPath(p: string): { model: string; stream: boolean } | undefined {
  const stream = p.endsWith(STREAM);
  if (!stream && !p.endsWith(GENERATE)) return undefined;
  const colon = p.length - (stream ? STREAM.length : GENERATE.length);
  const slash = p.lastIndexOf("/", colon);
  if (slash < 7 || p.slice(slash - 7, slash + 1) !== "/models/") {
    return undefined;
  }
  const model = p.slice(slash + 1, colon);
  return model ? { model, stream } : undefined;
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
  const call = otherCall(barePath(path) ?? "/", name);
  // Tracing started some other way (a tracer of the caller's own, the
  // runtime's telemetry): the readers are needed from now on.
  if (call !== undefined && readers === undefined) loadWireReaders();
  return call;
}

/** The Responses, Messages or Gemini call of a bare path. */
function otherCall(p: string, name?: WireApiName): WireCall | undefined {
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
