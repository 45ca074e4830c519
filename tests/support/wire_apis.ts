/**
 * What the OpenAI Responses, Anthropic Messages and Gemini APIs look like on
 * the wire, for the unit tests of src/genai and for a fake upstream the
 * official clients (`openai`, `@anthropic-ai/sdk`, `@google/genai`) accept.
 *
 * The events are the providers' own examples: the Responses streaming guide
 * and API reference (`response.created` … `response.completed`, ids and
 * counts as there), Anthropic's streaming-messages page ("Basic streaming
 * request", the `error` event) and Messages API reference, and Gemini's
 * `streamGenerateContent` REST example; checked field by field against the
 * SDKs' types (`openai/resources/responses`, `@anthropic-ai/sdk`
 * `RawMessageStreamEvent`, `@google/genai` `GenerateContentResponse`).
 *
 * @module
 */

/** One server-sent event: its `event:` name (or none) and its data. */
export type WireEvent = [event: string | undefined, data: unknown];

/** The bytes of events, each `event: …` (when named), `data: …`, blank line. */
export function sseText(events: readonly WireEvent[]): string {
  let out = "";
  for (const [name, data] of events) {
    if (name !== undefined) out += `event: ${name}\n`;
    out += `data: ${
      typeof data === "string" ? data : JSON.stringify(data)
    }\n\n`;
  }
  return out;
}

// --- OpenAI Responses -------------------------------------------------------

const RESP_ID = "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654";
const MSG_ID = "msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654";
const RESP_MODEL = "gpt-4.1-2025-04-14";
const RESP_TEXT = "Hi there! How can I assist you today?";

/** A `Response` object at a status, with the usage and output given. */
function responseObject(
  status: string,
  output: unknown[],
  usage: unknown,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: RESP_ID,
    object: "response",
    created_at: 1741290958,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: "You are a helpful assistant.",
    max_output_tokens: null,
    model: RESP_MODEL,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1.0,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 1.0,
    truncation: "disabled",
    usage,
    user: null,
    metadata: {},
    ...extra,
  };
}

const RESP_MESSAGE = {
  id: MSG_ID,
  type: "message",
  status: "completed",
  role: "assistant",
  content: [{ type: "output_text", text: RESP_TEXT, annotations: [] }],
};

/** The usage of the Responses example. */
export const RESPONSES_USAGE = {
  input_tokens: 37,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 11,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 48,
};

/** The non-streamed answer of `POST /v1/responses`. */
export const RESPONSES_JSON = responseObject(
  "completed",
  [RESP_MESSAGE],
  RESPONSES_USAGE,
);

/** The text deltas of the streamed example. */
const RESP_DELTAS = [
  "Hi",
  " there",
  "!",
  " How",
  " can",
  " I",
  " assist",
  " you",
  " today",
  "?",
];

/** The streamed answer of `POST /v1/responses` with `stream: true`. */
export function responsesEvents(
  terminal: "completed" | "incomplete" | "failed" = "completed",
): WireEvent[] {
  let seq = 0;
  const e = (type: string, body: Record<string, unknown>): WireEvent => [
    type,
    { type, sequence_number: seq++, ...body },
  ];
  const inProgress = responseObject("in_progress", [], null);
  const out: WireEvent[] = [
    e("response.created", { response: inProgress }),
    e("response.in_progress", { response: inProgress }),
    e("response.output_item.added", {
      output_index: 0,
      item: { ...RESP_MESSAGE, status: "in_progress", content: [] },
    }),
    e("response.content_part.added", {
      item_id: MSG_ID,
      output_index: 0,
      content_index: 0,
      part: { type: "output_text", text: "", annotations: [] },
    }),
  ];
  for (const delta of RESP_DELTAS) {
    out.push(e("response.output_text.delta", {
      item_id: MSG_ID,
      output_index: 0,
      content_index: 0,
      delta,
      logprobs: [],
    }));
  }
  out.push(
    e("response.output_text.done", {
      item_id: MSG_ID,
      output_index: 0,
      content_index: 0,
      text: RESP_TEXT,
      logprobs: [],
    }),
    e("response.content_part.done", {
      item_id: MSG_ID,
      output_index: 0,
      content_index: 0,
      part: { type: "output_text", text: RESP_TEXT, annotations: [] },
    }),
    e("response.output_item.done", { output_index: 0, item: RESP_MESSAGE }),
  );
  if (terminal === "completed") {
    out.push(e("response.completed", { response: RESPONSES_JSON }));
  } else if (terminal === "incomplete") {
    out.push(e("response.incomplete", {
      response: responseObject("incomplete", [RESP_MESSAGE], RESPONSES_USAGE, {
        incomplete_details: { reason: "max_output_tokens" },
      }),
    }));
  } else {
    out.push(e("response.failed", {
      response: responseObject("failed", [], null, {
        error: {
          code: "server_error",
          message: "The model failed to generate a response.",
        },
      }),
    }));
  }
  return out;
}

// --- Anthropic Messages ------------------------------------------------------

const ANT_ID = "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY";
/** The model of the Anthropic examples. */
export const ANTHROPIC_MODEL = "claude-sonnet-4-5-20250929";

/** The non-streamed answer of `POST /v1/messages` (with prompt caching). */
export const MESSAGES_JSON = {
  id: "msg_013Zva2CMHLNnXjNJJKqJ2EF",
  type: "message",
  role: "assistant",
  model: ANTHROPIC_MODEL,
  content: [{ type: "text", text: "Hi! My name is Claude." }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: {
    input_tokens: 21,
    cache_creation_input_tokens: 188086,
    cache_read_input_tokens: 0,
    output_tokens: 393,
  },
};

/** The streamed answer of `POST /v1/messages` with `stream: true`. */
export function messagesEvents(
  end: "stop" | "error" = "stop",
): WireEvent[] {
  const out: WireEvent[] = [
    ["message_start", {
      type: "message_start",
      message: {
        id: ANT_ID,
        type: "message",
        role: "assistant",
        content: [],
        model: ANTHROPIC_MODEL,
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 25, output_tokens: 1 },
      },
    }],
    ["content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" },
    }],
    ["ping", { type: "ping" }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: "Hello" },
    }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: "!" },
    }],
  ];
  if (end === "error") {
    out.push(["error", {
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    }]);
    return out;
  }
  out.push(
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["message_delta", {
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: 15 },
    }],
    ["message_stop", { type: "message_stop" }],
  );
  return out;
}

// --- Gemini ---------------------------------------------------------------------

/** The model of the Gemini examples. */
export const GEMINI_MODEL = "gemini-2.5-flash";
const GEMINI_ID = "mKM8aPDzI4Gbz7IP3NjK2Aw";

/** The non-streamed answer of `models/{model}:generateContent`. */
export const GEMINI_JSON = {
  candidates: [{
    content: {
      parts: [{ text: "AI learns patterns from data to make predictions." }],
      role: "model",
    },
    finishReason: "STOP",
    index: 0,
  }],
  usageMetadata: {
    promptTokenCount: 8,
    candidatesTokenCount: 9,
    totalTokenCount: 1012,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: 8 }],
    thoughtsTokenCount: 995,
  },
  modelVersion: GEMINI_MODEL,
  responseId: GEMINI_ID,
};

/** The streamed answer of `:streamGenerateContent?alt=sse`. */
export function geminiEvents(end: "stop" | "error" = "stop"): WireEvent[] {
  const chunk = (
    text: string,
    usage: Record<string, unknown>,
    finish?: string,
  ) => ({
    candidates: [{
      content: { parts: [{ text }], role: "model" },
      ...(finish ? { finishReason: finish } : {}),
      index: 0,
    }],
    usageMetadata: {
      promptTokenCount: 8,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: 8 }],
      ...usage,
    },
    modelVersion: GEMINI_MODEL,
    responseId: GEMINI_ID,
  });
  const out: WireEvent[] = [
    [
      undefined,
      chunk("AI learns", {
        totalTokenCount: 1005,
        thoughtsTokenCount: 995,
        candidatesTokenCount: 2,
      }),
    ],
    [
      undefined,
      chunk(" patterns from data", {
        totalTokenCount: 1008,
        thoughtsTokenCount: 995,
        candidatesTokenCount: 5,
      }),
    ],
  ];
  if (end === "error") {
    out.push([undefined, {
      error: {
        code: 503,
        message: "The model is overloaded. Please try again later.",
        status: "UNAVAILABLE",
      },
    }]);
    return out;
  }
  out.push([
    undefined,
    chunk(" to make predictions.", {
      candidatesTokenCount: 9,
      totalTokenCount: 1012,
      thoughtsTokenCount: 995,
    }, "STOP"),
  ]);
  return out;
}

// --- A fake upstream speaking all three ----------------------------------------

const SSE = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
};

/** Options of {@link wireUpstream}. */
export interface WireUpstreamOptions {
  /** Milliseconds before the first content event (after the preamble). */
  firstContentDelayMs?: number;
  /** Milliseconds between the other events. */
  delayMs?: number;
}

/** Whether an event carries content (for the delay before the first one). */
function isContent(e: WireEvent): boolean {
  const d = e[1] as Record<string, unknown>;
  return e[0] === "content_block_delta" ||
    e[0] === "response.output_text.delta" ||
    (e[0] === undefined && Array.isArray(d.candidates));
}

/** A streamed body of `events`, with the delays asked for. */
function streamOf(events: WireEvent[], o: WireUpstreamOptions): Response {
  const enc = new TextEncoder();
  let i = 0;
  let sawContent = false;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  return new Response(
    new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i >= events.length) {
          c.close();
          return;
        }
        const e = events[i++];
        if (!sawContent && isContent(e)) {
          sawContent = true;
          if (o.firstContentDelayMs) await sleep(o.firstContentDelayMs);
        } else if (o.delayMs) await sleep(o.delayMs);
        c.enqueue(enc.encode(sseText([e])));
      },
    }),
    { headers: SSE },
  );
}

/**
 * A fake upstream for the three APIs: `POST …/responses`, `POST …/messages`,
 * `POST …/models/{model}:generateContent` and `:streamGenerateContent`,
 * answering with the examples above (streamed when the body or path asks).
 * It records the request bodies it received.
 */
export function wireUpstream(o: WireUpstreamOptions = {}): {
  handler: (req: Request) => Promise<Response>;
  bodies: unknown[];
} {
  const bodies: unknown[] = [];
  const handler = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    const body = await req.json().catch(() => ({})) as { stream?: boolean };
    bodies.push(body);
    if (path.endsWith("/responses")) {
      return body.stream
        ? streamOf(responsesEvents(), o)
        : Response.json(RESPONSES_JSON);
    }
    if (path.endsWith("/messages")) {
      return body.stream
        ? streamOf(messagesEvents(), o)
        : Response.json(MESSAGES_JSON);
    }
    if (path.endsWith(":streamGenerateContent")) {
      return streamOf(geminiEvents(), o);
    }
    if (path.endsWith(":generateContent")) return Response.json(GEMINI_JSON);
    return new Response("not found", { status: 404 });
  };
  return { handler, bodies };
}
