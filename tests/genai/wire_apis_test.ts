// The readers of the OpenAI Responses, Anthropic Messages and Gemini wire
// APIs (src/genai/openai_responses.ts, anthropic_messages.ts, gemini.ts) and
// the choice of one per request (wire.ts), on the providers' own examples
// and the official SDKs' recordings of the live APIs
// (tests/support/wire_fixtures.ts, wire_apis.ts): request fields, JSON
// answers, and streams read as they pass, split anywhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  MessagesStreamReader,
  readMessagesRequest,
  readMessagesResponse,
} from "../../src/genai/anthropic_messages.ts";
import {
  readResponsesRequest,
  readResponsesResponse,
  ResponsesStreamReader,
} from "../../src/genai/openai_responses.ts";
import {
  GeminiStreamReader,
  readGeminiRequest,
  readGeminiResponse,
} from "../../src/genai/gemini.ts";
import { wireCall, withOperation } from "../../src/genai/wire.ts";
import {
  requestAttributes,
  responseAttributes,
} from "../../src/genai/attributes.ts";
import type { GenAIStreamReader } from "../../src/genai/wire_stream.ts";
import {
  ANTHROPIC_MODEL,
  eventData,
  GEMINI_JSON,
  GEMINI_MODEL,
  geminiEvents,
  geminiText,
  MESSAGES_JSON,
  MESSAGES_STREAM_TEXT,
  messagesEvents,
  parseSse,
  RESPONSES_JSON,
  RESPONSES_TEXT,
  responsesEvents,
  sseText,
  type WireEvent,
} from "../support/wire_apis.ts";
import {
  GEMINI_STREAM_CHUNKS,
  GEMINI_STREAM_ERROR_TEXT,
  GEMINI_THOUGHT_JSON,
  GEMINI_TOOLS_STREAM_CHUNKS,
  MESSAGES_THINKING_BODY,
  MESSAGES_USAGE_FIELDS_BODY,
  RESPONSES_LIVE_JSON,
} from "../support/wire_fixtures.ts";

const enc = new TextEncoder();

/** Feeds `text` in pieces cut at `cuts`; the byte at which content first came. */
function feed(
  reader: GenAIStreamReader,
  bytes: Uint8Array,
  cuts: number[] = [],
): number | undefined {
  let first: number | undefined;
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= at) continue;
    if (reader.push(bytes.subarray(at, cut))) first = cut;
    at = cut;
  }
  if (reader.end()) first = bytes.length;
  return first;
}

/** The byte offset just after event `index`'s blank line. */
function eventEnd(events: WireEvent[], index: number): number {
  return enc.encode(sseText(events.slice(0, index + 1))).length;
}

/**
 * Reads `events` whole and split anywhere: same summary each time; the
 * byte at which the first content came, fed one byte at a time.
 */
function readAllWays(
  make: () => GenAIStreamReader,
  events: WireEvent[],
): { reader: GenAIStreamReader; first: number | undefined } {
  const bytes = enc.encode(sseText(events));
  const reader = make();
  const first = feed(reader, bytes);
  const expected = reader.info;
  for (let cut = 1; cut < bytes.length; cut += 7) {
    const r = make();
    feed(r, bytes, [cut]);
    assert.deepEqual(r.info, expected, `split at ${cut}`);
  }
  assert.equal(first, bytes.length, "content in the one chunk");
  const bytewise = make();
  const each = Array.from({ length: bytes.length }, (_, i) => i);
  const at = feed(bytewise, bytes, each);
  assert.deepEqual(bytewise.info, expected, "one byte at a time");
  return { reader, first: at };
}

// --- which API ----------------------------------------------------------------

test("wireCall: each API from its path, under any prefix; the api option names one for any path", () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ["/v1/chat/completions", "openai", "chat"],
    ["/v1/embeddings", "openai", "embeddings"],
    ["/v1/responses", "openai_responses", "chat"],
    ["/openai/v1/responses/", "openai_responses", "chat"],
    ["/v1/messages", "anthropic", "chat"],
    ["/anthropic/v1/messages?beta=true", "anthropic", "chat"],
    ["/v1/threads/t1/messages", undefined, undefined],
    ["/v1/messages/count_tokens", undefined, undefined],
    ["/v1/responses/resp_1", undefined, undefined],
    [
      `/v1beta/models/${GEMINI_MODEL}:generateContent`,
      "gemini",
      "generate_content",
    ],
    [
      `/v1/models/${GEMINI_MODEL}:streamGenerateContent`,
      "gemini",
      "generate_content",
    ],
    [
      `/v1alpha/models/${GEMINI_MODEL}:generateContent`,
      "gemini",
      "generate_content",
    ],
    [
      `/v1/projects/p/locations/us-central1/publishers/google/models/${GEMINI_MODEL}:generateContent`,
      "gemini",
      "generate_content",
    ],
    ["/v1beta/models/:generateContent", undefined, undefined],
    ["/v1/models", undefined, undefined],
  ];
  for (const [path, api, operation] of cases) {
    const call = wireCall(path);
    assert.equal(call?.api.name, api, path);
    assert.equal(call?.operation, operation, path);
  }
  assert.equal(
    wireCall(`/v1beta/models/${GEMINI_MODEL}:generateContent`)?.model,
    GEMINI_MODEL,
  );
  assert.equal(wireCall("/proxy/claude", "anthropic")?.api.name, "anthropic");
  assert.equal(
    wireCall("/proxy/x", "openai_responses")?.api.name,
    "openai_responses",
  );
  assert.equal(wireCall("/proxy/x", "openai")?.operation, "chat");
  assert.equal(wireCall("/proxy/x", "gemini")?.operation, "generate_content");
  assert.equal(wireCall("/proxy/x"), undefined);
});

test("wireCall: the provider each API names when the host tells nothing", () => {
  assert.equal(wireCall("/v1/messages")?.api.provider, "anthropic");
  assert.equal(wireCall("/v1/responses")?.api.provider, "openai");
  assert.equal(
    wireCall("/v1/models/m:generateContent")?.api.provider,
    "gcp.gemini",
  );
});

// --- Anthropic Messages --------------------------------------------------------

test("messages: the request's fields, top_k an int, system apart from the messages", () => {
  const info = readMessagesRequest({
    model: ANTHROPIC_MODEL,
    max_tokens: 1024,
    temperature: 0,
    top_p: 0.9,
    top_k: 40,
    stop_sequences: ["\n\nHuman:", 7],
    stream: true,
    system: [{ type: "text", text: "You are terse." }],
    output_config: {
      format: { type: "json_schema", schema: {} },
      effort: "low",
    },
    messages: [
      { role: "user", content: "Hello, Claude" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "hm", signature: "s" },
          {
            type: "tool_use",
            id: "toolu_1",
            name: "get_weather",
            input: { city: "Paris" },
          },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: "15C" },
          {
            type: "image",
            source: { type: "base64", media_type: "image/png", data: "iVBOR" },
          },
        ],
      },
    ],
  });
  const { content, ...fields } = info;
  assert.deepEqual(fields, {
    operation: "chat",
    model: ANTHROPIC_MODEL,
    maxTokens: 1024,
    temperature: 0,
    topP: 0.9,
    topK: 40,
    stop: ["\n\nHuman:"],
    stream: true,
    outputType: "json",
    reasoningLevel: "low",
  });
  assert.deepEqual(content!(), {
    input: [
      { role: "user", parts: [{ type: "text", content: "Hello, Claude" }] },
      {
        role: "assistant",
        parts: [
          { type: "reasoning", content: "hm" },
          {
            type: "tool_call",
            id: "toolu_1",
            name: "get_weather",
            arguments: { city: "Paris" },
          },
        ],
      },
      {
        role: "user",
        parts: [
          { type: "tool_call_response", id: "toolu_1", result: "15C" },
          {
            type: "blob",
            modality: "image",
            mime_type: "image/png",
            content: "iVBOR",
          },
        ],
      },
    ],
    system: [{ type: "text", content: "You are terse." }],
  });
});

test("messages: a Message (recorded from the API): id, model, stop_reason, usage; the cache counts even when 0", () => {
  const info = readMessagesResponse(MESSAGES_JSON, true);
  assert.deepEqual(info, {
    id: "msg_01T4jd6NyD9xGGtTPDC4ogy5",
    model: ANTHROPIC_MODEL,
    finishReasons: ["end_turn"],
    inputTokens: 406,
    cachedInputTokens: 0,
    cacheWriteInputTokens: 0,
    outputTokens: 50,
    outputMessages: [{
      role: "assistant",
      parts: [{
        type: "text",
        content: MESSAGES_JSON.content[0].text,
      }],
    }],
  });
  assert.equal(
    readMessagesResponse(MESSAGES_JSON, false).outputMessages,
    undefined,
  );
  assert.deepEqual(
    readMessagesResponse({
      type: "error",
      error: { type: "invalid_request_error", message: "x" },
    }, false),
    { errorType: "invalid_request_error" },
  );
});

test("messages stream: message_delta's cumulative usage replaces message_start's; input includes the cache reads and writes (the conventions' rule); thinking tokens", () => {
  // anthropic-sdk-python's message_delta_fields_response.txt
  const events = parseSse(MESSAGES_USAGE_FIELDS_BODY);
  const { reader } = readAllWays(() => new MessagesStreamReader(), events);
  assert.equal(reader.complete, true);
  assert.deepEqual(reader.info, {
    id: "msg_01MessageDeltaFields00000001",
    model: "claude-sonnet-4-5",
    finishReasons: ["end_turn"],
    inputTokens: 40 + 7 + 12,
    cachedInputTokens: 7,
    cacheWriteInputTokens: 12,
    outputTokens: 8,
    reasoningOutputTokens: 3,
    chunks: 6,
    contentChunks: 1,
    errors: 0,
  });
});

test("messages stream: first content at the first content_block_delta, not message_start or ping; final usage from message_delta", () => {
  const events = messagesEvents();
  const { reader, first } = readAllWays(
    () => new MessagesStreamReader(),
    events,
  );
  assert.equal(first, eventEnd(events, 3), "the first content_block_delta");
  assert.equal(reader.complete, true);
  assert.deepEqual(reader.info, {
    id: "msg_013nnniYDrJDocdy5nrMU7cH",
    model: ANTHROPIC_MODEL,
    inputTokens: 135,
    cachedInputTokens: 0,
    cacheWriteInputTokens: 0,
    outputTokens: 10,
    finishReasons: ["end_turn"],
    chunks: 10,
    contentChunks: 4,
    errors: 0,
  });
});

test("messages stream: extended thinking (the streaming page's example): first content at the first thinking_delta; no usage anywhere, no counts", () => {
  const events = parseSse(MESSAGES_THINKING_BODY);
  const { reader, first } = readAllWays(
    () => new MessagesStreamReader(),
    events,
  );
  assert.equal(first, eventEnd(events, 2), "the first thinking_delta");
  assert.equal(reader.complete, true);
  assert.deepEqual(reader.info, {
    id: "msg_01...",
    model: "claude-opus-4-1-20250805",
    finishReasons: ["end_turn"],
    chunks: events.length,
    contentChunks: 8,
    errors: 0,
  });
  const capture = new MessagesStreamReader({ captureContent: true });
  feed(capture, enc.encode(sseText(events)));
  assert.deepEqual(capture.info.outputMessages, [{
    role: "assistant",
    parts: [
      {
        type: "reasoning",
        content: "Let me solve this step by step:\n\n1. First break down " +
          "27 * 453\n2. 453 = 400 + 50 + 3\n3. 27 * 400 = 10,800\n" +
          "4. 27 * 50 = 1,350\n5. 27 * 3 = 81\n6. 10,800 + 1,350 + 81 = 12,231",
      },
      { type: "text", content: "27 * 453 = 12,231" },
    ],
  }]);
});

test("messages stream: message_start's output_tokens is a placeholder; a cut stream has no output count", () => {
  const reader = new MessagesStreamReader();
  feed(reader, enc.encode(sseText(messagesEvents().slice(0, 4))));
  assert.equal(reader.info.outputTokens, undefined);
  assert.equal(reader.info.inputTokens, 135);
  assert.equal(reader.complete, false);
});

test("messages stream: event: error ends it with the error's type", () => {
  const reader = new MessagesStreamReader();
  feed(reader, enc.encode(sseText(messagesEvents("error"))));
  assert.equal(reader.info.errorType, "overloaded_error");
  assert.equal(reader.complete, true);
});

test("messages stream: keys in any order (type last, after a nested type) are read the same", () => {
  const reorder = (o: unknown): unknown => {
    if (Array.isArray(o)) return o.map(reorder);
    if (o === null || typeof o !== "object") return o;
    const entries = Object.entries(o).map(([k, v]) => [k, reorder(v)] as const);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries);
  };
  const sorted = messagesEvents().map((e) =>
    [e[0], reorder(eventData(e))] as WireEvent
  );
  const a = new MessagesStreamReader();
  const b = new MessagesStreamReader();
  const fa = feed(a, enc.encode(sseText(messagesEvents())));
  const fb = feed(b, enc.encode(sseText(sorted)));
  assert.deepEqual(b.info, a.info);
  assert.ok(fa !== undefined && fb !== undefined);
});

test("messages stream: captured output joins the deltas (text, thinking, tool arguments)", () => {
  const events: WireEvent[] = [
    messagesEvents()[0],
    ["content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "thinking", thinking: "" },
    }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "thinking_delta", thinking: "Let me " },
    }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "thinking_delta", thinking: "think." },
    }],
    ["content_block_start", {
      type: "content_block_start",
      index: 1,
      content_block: {
        type: "tool_use",
        id: "toolu_1",
        name: "get_weather",
        input: {},
      },
    }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 1,
      delta: { type: "input_json_delta", partial_json: '{"city":' },
    }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 1,
      delta: { type: "input_json_delta", partial_json: '"Paris"}' },
    }],
    ...messagesEvents().slice(3),
  ];
  const reader = new MessagesStreamReader({ captureContent: true });
  feed(reader, enc.encode(sseText(events)));
  assert.deepEqual(reader.info.outputMessages, [{
    role: "assistant",
    parts: [
      { type: "reasoning", content: "Let me think." },
      {
        type: "tool_call",
        id: "toolu_1",
        name: "get_weather",
        arguments: '{"city":"Paris"}',
      },
      { type: "text", content: MESSAGES_STREAM_TEXT },
    ],
  }]);
});

// --- OpenAI Responses ------------------------------------------------------------

test("responses: the request's fields; instructions apart, a developer message stays in the input", () => {
  const info = readResponsesRequest({
    model: "gpt-4.1",
    instructions: "You are a helpful assistant.",
    input: [
      { role: "developer", content: "Answer in French." },
      { role: "user", content: [{ type: "input_text", text: "Hello!" }] },
      { type: "function_call", call_id: "call_1", name: "f", arguments: "{}" },
      { type: "function_call_output", call_id: "call_1", output: "42" },
    ],
    max_output_tokens: 256,
    temperature: 0.2,
    top_p: 1,
    stream: true,
    text: { format: { type: "json_schema", name: "x", schema: {} } },
    reasoning: { effort: "low" },
  });
  const { content, ...fields } = info;
  assert.deepEqual(fields, {
    operation: "chat",
    model: "gpt-4.1",
    maxTokens: 256,
    temperature: 0.2,
    topP: 1,
    stream: true,
    outputType: "json",
    reasoningLevel: "low",
  });
  assert.deepEqual(content!(), {
    input: [
      {
        role: "system",
        parts: [{ type: "text", content: "Answer in French." }],
      },
      { role: "user", parts: [{ type: "text", content: "Hello!" }] },
      {
        role: "assistant",
        parts: [{
          type: "tool_call",
          id: "call_1",
          name: "f",
          arguments: "{}",
        }],
      },
      {
        role: "tool",
        parts: [{ type: "tool_call_response", id: "call_1", result: "42" }],
      },
    ],
    system: [{ type: "text", content: "You are a helpful assistant." }],
  });
  assert.deepEqual(readResponsesRequest({ input: "Hi" }).content!().input, [
    { role: "user", parts: [{ type: "text", content: "Hi" }] },
  ]);
});

test("responses: a Response's status is mapped to finish reasons; failed is an error", () => {
  const info = readResponsesResponse(RESPONSES_JSON, true);
  assert.deepEqual(info, {
    id: "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654",
    model: "gpt-4.1-2025-04-14",
    finishReasons: ["stop"],
    inputTokens: 37,
    outputTokens: 11,
    reasoningOutputTokens: 0,
    outputMessages: [{
      role: "assistant",
      parts: [{ type: "text", content: RESPONSES_TEXT }],
    }],
  });
  // Recorded from the live API: input_tokens_details.cached_tokens too.
  const live = readResponsesResponse(JSON.parse(RESPONSES_LIVE_JSON), false);
  assert.deepEqual(live, {
    id: "resp_689a0b2545288193953c892439b42e2800b2e36c65a1fd4b",
    model: "gpt-4o-mini-2024-07-18",
    finishReasons: ["stop"],
    inputTokens: 14,
    cachedInputTokens: 0,
    outputTokens: 50,
    reasoningOutputTokens: 0,
  });
  const status = (extra: Record<string, unknown>) =>
    readResponsesResponse({ ...RESPONSES_JSON, ...extra }, false);
  assert.deepEqual(
    status({
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
    }).finishReasons,
    ["length"],
  );
  assert.deepEqual(
    status({
      status: "incomplete",
      incomplete_details: { reason: "content_filter" },
    }).finishReasons,
    ["content_filter"],
  );
  assert.deepEqual(
    status({
      output: [{
        type: "function_call",
        call_id: "c",
        name: "f",
        arguments: "{}",
      }],
    }).finishReasons,
    ["tool_calls"],
  );
  const failed = status({
    status: "failed",
    error: { code: "server_error", message: "x" },
  });
  assert.equal(failed.errorType, "server_error");
  assert.equal(failed.finishReasons, undefined);
});

test("responses stream: first content at the first output_text.delta, not response.created; usage from response.completed", () => {
  const events = responsesEvents();
  const { reader, first } = readAllWays(
    () => new ResponsesStreamReader(),
    events,
  );
  assert.equal(first, eventEnd(events, 4));
  assert.equal(reader.complete, true);
  assert.deepEqual(reader.info, {
    id: "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654",
    model: "gpt-4.1-2025-04-14",
    finishReasons: ["stop"],
    inputTokens: 37,
    outputTokens: 11,
    reasoningOutputTokens: 0,
    chunks: events.length,
    contentChunks: 2,
    errors: 0,
  });
});

test("responses stream: response.incomplete is a finish reason, response.failed and error are errors", () => {
  const incomplete = new ResponsesStreamReader();
  feed(incomplete, enc.encode(sseText(responsesEvents("incomplete"))));
  assert.deepEqual(incomplete.info.finishReasons, ["length"]);
  assert.equal(incomplete.info.errorType, undefined);
  assert.equal(incomplete.complete, true);
  const failed = new ResponsesStreamReader();
  feed(failed, enc.encode(sseText(responsesEvents("failed"))));
  assert.equal(failed.info.errorType, "server_error");
  assert.equal(failed.complete, true);
  const error = new ResponsesStreamReader();
  feed(error, enc.encode(sseText(responsesEvents("error"))));
  assert.equal(error.info.errorType, "ERR_SOMETHING");
  assert.equal(error.complete, true);
});

test("responses stream: captured output is the final Response's", () => {
  const reader = new ResponsesStreamReader({ captureContent: true });
  feed(reader, enc.encode(sseText(responsesEvents())));
  assert.deepEqual(reader.info.outputMessages, [{
    role: "assistant",
    parts: [{ type: "text", content: RESPONSES_TEXT }],
  }]);
  const cut = new ResponsesStreamReader({ captureContent: true });
  feed(cut, enc.encode(sseText(responsesEvents().slice(0, 5))));
  assert.deepEqual(cut.info.outputMessages, [{
    role: "assistant",
    parts: [{ type: "text", content: "Hi" }],
  }]);
});

// --- Gemini -----------------------------------------------------------------------------

test("gemini: the model and stream from the path, the rest from generationConfig", () => {
  const info = readGeminiRequest(
    {
      contents: [
        { role: "user", parts: [{ text: "Explain how AI works" }] },
        {
          role: "model",
          parts: [{ functionCall: { name: "f", args: { a: 1 } } }],
        },
        {
          role: "user",
          parts: [{ inlineData: { mimeType: "image/jpeg", data: "/9j/" } }],
        },
      ],
      systemInstruction: { parts: [{ text: "You are a cat." }] },
      generationConfig: {
        maxOutputTokens: 800,
        temperature: 1.0,
        topP: 0.8,
        topK: 10,
        stopSequences: ["Title"],
        candidateCount: 2,
        seed: 5,
        responseMimeType: "application/json",
      },
    },
    GEMINI_MODEL,
    true,
  );
  const { content, ...fields } = info;
  assert.deepEqual(fields, {
    operation: "generate_content",
    stream: true,
    model: GEMINI_MODEL,
    maxTokens: 800,
    temperature: 1,
    topP: 0.8,
    topK: 10,
    stop: ["Title"],
    n: 2,
    seed: 5,
    outputType: "json",
  });
  assert.deepEqual(content!(), {
    input: [
      {
        role: "user",
        parts: [{ type: "text", content: "Explain how AI works" }],
      },
      {
        role: "assistant",
        parts: [{ type: "tool_call", name: "f", arguments: { a: 1 } }],
      },
      {
        role: "user",
        parts: [{
          type: "blob",
          modality: "image",
          mime_type: "image/jpeg",
          content: "/9j/",
        }],
      },
    ],
    system: [{ type: "text", content: "You are a cat." }],
  });
});

test("gemini: output tokens include the thoughts (candidatesTokenCount leaves them out), recorded as reasoning too", () => {
  // Recorded: candidates 157 + thoughts 41 + prompt 7 = totalTokenCount 205.
  assert.deepEqual(readGeminiResponse(GEMINI_JSON, true), {
    id: "cS4WaZXcHp7nz7IPjcjT2Ao",
    model: GEMINI_MODEL,
    finishReasons: ["MAX_TOKENS"],
    inputTokens: 7,
    outputTokens: 157 + 41,
    reasoningOutputTokens: 41,
    outputMessages: [{
      role: "assistant",
      parts: [{ type: "text", content: geminiText([GEMINI_JSON]) }],
    }],
  });
  // Thoughts only: no candidatesTokenCount at all; a thought part is reasoning.
  const thought = readGeminiResponse(GEMINI_THOUGHT_JSON, true);
  assert.equal(thought.outputTokens, 19);
  assert.equal(thought.reasoningOutputTokens, 19);
  assert.equal(thought.inputTokens, 17);
  assert.deepEqual(
    (thought.outputMessages as { parts: { type: string }[] }[])[0].parts.map(
      (p) => p.type,
    ),
    ["reasoning"],
  );
  assert.deepEqual(
    readGeminiResponse({
      error: { code: 429, message: "x", status: "RESOURCE_EXHAUSTED" },
    }, false),
    { errorType: "RESOURCE_EXHAUSTED" },
  );
  // streamGenerateContent without alt=sse answers a JSON array of chunks
  const fromArray = readGeminiResponse(GEMINI_STREAM_CHUNKS, false);
  assert.equal(fromArray.outputTokens, 153 + 45);
  assert.deepEqual(fromArray.finishReasons, ["MAX_TOKENS"]);
});

test("gemini stream (recorded): the first chunk is the first content; the one with a finishReason has the final usage", () => {
  const events = geminiEvents();
  const { reader, first } = readAllWays(() => new GeminiStreamReader(), events);
  assert.equal(first, eventEnd(events, 0));
  assert.equal(reader.complete, true);
  assert.deepEqual(reader.info, {
    id: "qS77aMCqBu6mvr0PsJiykAw",
    model: GEMINI_MODEL,
    finishReasons: ["MAX_TOKENS"],
    inputTokens: 7,
    outputTokens: 153 + 45,
    reasoningOutputTokens: 45,
    chunks: 3,
    contentChunks: 3,
    errors: 0,
  });
});

test("gemini stream: an error object between events, without data: framing (as the API sends it), makes it an error", () => {
  for (const capture of [false, true]) {
    const events = geminiEvents("error");
    const bytes = enc.encode(sseText(events));
    // Whole, and in the chunks the API sends (the error object on its own).
    const whole = new GeminiStreamReader({ captureContent: capture });
    feed(whole, bytes);
    const split = new GeminiStreamReader({ captureContent: capture });
    feed(split, bytes, [eventEnd(events, 0), eventEnd(events, 0) + 20]);
    for (const reader of [whole, split]) {
      assert.equal(reader.info.errorType, "INTERNAL");
      assert.equal(reader.complete, true);
      assert.equal(reader.info.id, "qS77aMCqBu6mvr0PsJiykAw");
      assert.equal(reader.info.errors, 0);
    }
    if (capture) {
      assert.deepEqual(whole.info.outputMessages, [{
        role: "assistant",
        parts: [{
          type: "text",
          content: geminiText(GEMINI_STREAM_CHUNKS.slice(0, 1)),
        }],
      }]);
    }
  }
  // The same object as an event's data (js-genai reads that too), and as a
  // whole body (an error status with text/event-stream, pretty-printed).
  const framed = new GeminiStreamReader();
  feed(
    framed,
    enc.encode(
      sseText([geminiEvents()[0], [undefined, GEMINI_STREAM_ERROR_TEXT]]),
    ),
  );
  assert.equal(framed.info.errorType, "INTERNAL");
  const body = new GeminiStreamReader();
  feed(
    body,
    enc.encode(
      JSON.stringify(JSON.parse(GEMINI_STREAM_ERROR_TEXT), null, 2) + "\n",
    ),
    [1, 30],
  );
  assert.equal(body.info.errorType, "INTERNAL");
  assert.equal(body.complete, true);
});

test("gemini stream: with server-side tools the function call's chunk has a finishReason and the answer goes on: complete only at the last chunk; cached and tool-use prompt tokens", () => {
  const events: WireEvent[] = GEMINI_TOOLS_STREAM_CHUNKS.map((c) => [
    undefined,
    JSON.stringify(c),
  ]);
  const reader = new GeminiStreamReader();
  const seen: boolean[] = [];
  for (const e of events) {
    reader.push(enc.encode(sseText([e])));
    seen.push(reader.complete);
  }
  reader.end();
  assert.deepEqual(seen, [true, false, false, true]);
  assert.deepEqual(reader.info, {
    id: "PmuSafLFBeCsjrEPiOG92QU",
    model: GEMINI_MODEL,
    finishReasons: ["STOP"],
    // prompt + tool-use prompt + candidates + thoughts = totalTokenCount
    inputTokens: 1844 + 1934,
    cachedInputTokens: 901,
    outputTokens: 432 + 91,
    reasoningOutputTokens: 91,
    chunks: 4,
    // The tool's response (chunk 2) is not output.
    contentChunks: 3,
    errors: 0,
  });
});

// --- bad input ------------------------------------------------------------------------

test("bad input: unknown events, non-JSON data, a truncated event and a huge one never throw; the rest is read", () => {
  const huge = "x".repeat(2 * 1024 * 1024);
  const cases: [() => GenAIStreamReader, WireEvent[]][] = [
    [() => new MessagesStreamReader(), messagesEvents()],
    [() => new ResponsesStreamReader(), responsesEvents()],
    [() => new GeminiStreamReader(), geminiEvents()],
  ];
  for (const [make, events] of cases) {
    const good = make();
    feed(good, enc.encode(sseText(events)));
    const noisy: WireEvent[] = [
      events[0],
      ["some_future_event", {
        type: "some_future_event",
        x: [1, { type: "text_delta" }],
      }],
      [undefined, "not json {"],
      [undefined, `{"type":"content_block_delta","delta":{"text":"${huge}"}}`],
      [undefined, "[1,2]"],
      ...events.slice(1),
    ];
    const bad = make();
    const text = sseText(noisy) +
      'data: {"type":"message_delta","usage":{"output_tok';
    feed(bad, enc.encode(text), [100, 5000, 1_000_000]);
    const info = bad.info;
    assert.equal(info.id, good.info.id);
    assert.equal(info.model, good.info.model);
    assert.deepEqual(info.finishReasons, good.info.finishReasons);
    assert.equal(info.outputTokens, good.info.outputTokens);
    assert.ok(info.errors >= 3, `errors counted: ${info.errors}`);
    assert.ok(bad.bufferedBytes < 1024 * 1024 + 64, "bounded");
  }
  for (
    const read of [
      readMessagesResponse,
      readResponsesResponse,
      readGeminiResponse,
    ]
  ) {
    for (
      const v of [null, 1, "x", [], [null], {
        usage: "x",
        candidates: 3,
        output: {},
      }]
    ) {
      assert.doesNotThrow(() => read(v, true));
    }
  }
  for (const read of [readMessagesRequest, readResponsesRequest]) {
    for (const v of [null, 1, { messages: 3, input: {}, system: 5 }]) {
      assert.doesNotThrow(() => read(v).content?.());
    }
  }
});

// --- attributes --------------------------------------------------------------------

test("attributes: cache writes under the current name, and the legacy cache_creation in dual mode only; reasoning tokens", () => {
  const info = readMessagesResponse({
    ...MESSAGES_JSON,
    usage: {
      input_tokens: 10,
      cache_read_input_tokens: 20,
      cache_creation_input_tokens: 30,
      output_tokens: 40,
      output_tokens_details: { thinking_tokens: 25 },
    },
  }, false);
  const dual = responseAttributes(info, "dual", false);
  assert.equal(dual["gen_ai.usage.input_tokens"], 60);
  assert.equal(dual["gen_ai.usage.prompt_tokens"], 60);
  assert.equal(dual["gen_ai.usage.cache_read.input_tokens"], 20);
  assert.equal(dual["gen_ai.usage.cache_write.input_tokens"], 30);
  assert.equal(dual["gen_ai.usage.cache_creation.input_tokens"], 30);
  assert.equal(dual["gen_ai.usage.reasoning.output_tokens"], 25);
  const latest = responseAttributes(info, "latest", false);
  assert.equal(latest["gen_ai.usage.cache_write.input_tokens"], 30);
  assert.equal("gen_ai.usage.cache_creation.input_tokens" in latest, false);
  assert.equal("gen_ai.usage.prompt_tokens" in latest, false);
  assert.equal(latest["gen_ai.usage.reasoning.output_tokens"], 25);
});

test("attributes: output type always; content, system instructions apart, only when captured", () => {
  const info = readMessagesRequest({
    model: "m",
    max_tokens: 1,
    system: "Be terse.",
    output_config: { format: { type: "json_schema", schema: {} } },
    messages: [{ role: "user", content: "Hi" }],
  });
  const off = requestAttributes(info, "latest", false);
  assert.equal(off["gen_ai.output.type"], "json");
  assert.equal("gen_ai.input.messages" in off, false);
  assert.equal("gen_ai.system_instructions" in off, false);
  const on = requestAttributes(info, "latest", true);
  assert.deepEqual(JSON.parse(String(on["gen_ai.input.messages"])), [
    { role: "user", parts: [{ type: "text", content: "Hi" }] },
  ]);
  assert.deepEqual(JSON.parse(String(on["gen_ai.system_instructions"])), [
    { type: "text", content: "Be terse." },
  ]);
});

test("withOperation: the operation option keeps the path's API, or picks OpenAI's", () => {
  const messages = withOperation(wireCall("/v1/messages"), "text_completion");
  assert.equal(messages.api.name, "anthropic");
  assert.equal(messages.operation, "text_completion");
  const none = withOperation(undefined, "embeddings");
  assert.equal(none.api.name, "openai");
  assert.equal(none.operation, "embeddings");
  assert.equal(
    withOperation(wireCall("/v1/chat/completions"), "chat"),
    wireCall("/v1/chat/completions"),
    "OpenAI's calls are made once, not per request",
  );
});

test('stream errors without the API\'s envelope ({"error":{…}}, as OpenAI-compatible servers send) are errors too', () => {
  const body = sseText([[undefined, {
    error: { message: "boom", type: "BadRequestError", code: 400 },
  }]]);
  const messages = new MessagesStreamReader();
  feed(messages, enc.encode(sseText(messagesEvents().slice(0, 1)) + body));
  assert.equal(messages.info.errorType, "BadRequestError");
  const responses = new ResponsesStreamReader();
  feed(responses, enc.encode(sseText(responsesEvents().slice(0, 1)) + body));
  assert.equal(responses.info.errorType, "BadRequestError");
});

test("reasoning effort as sent, under gen_ai.request.reasoning.level, from each API's own field; previous_response_id", async () => {
  const { parseRequestJson } = await import(
    "../../src/genai/openai_request.ts"
  );
  const level = (info: Parameters<typeof requestAttributes>[0]) =>
    requestAttributes(info, "dual", false)["gen_ai.request.reasoning.level"];
  assert.equal(
    level(parseRequestJson({ model: "o4", reasoning_effort: "low" }, "chat")),
    "low",
  );
  const responses = readResponsesRequest({
    model: "o4",
    reasoning: { effort: "high", summary: "auto" },
    previous_response_id: "resp_123",
  });
  assert.equal(level(responses), "high");
  assert.equal(
    requestAttributes(responses, "latest", false)[
      "gen_ai.request.previous_response.id"
    ],
    "resp_123",
  );
  assert.equal(
    level(readMessagesRequest({
      model: "claude-opus-4-5",
      max_tokens: 10,
      output_config: { effort: "medium" },
    })),
    "medium",
  );
  assert.equal(
    level(readGeminiRequest(
      {
        generationConfig: { thinkingConfig: { thinkingLevel: "LOW" } },
      },
      "gemini-3-pro",
      false,
    )),
    "LOW",
  );
  // A thinking budget is a number of tokens, not a level: not recorded.
  assert.equal(
    level(readGeminiRequest(
      {
        generationConfig: { thinkingConfig: { thinkingBudget: 1024 } },
      },
      "gemini-2.5-flash",
      false,
    )),
    undefined,
  );
  assert.equal(
    level(readResponsesRequest({ reasoning: { effort: 3 } })),
    undefined,
  );
});
