// Chat Completions and Completions content in the GenAI message-parts schema
// (src/genai/openai_content.ts): requests, JSON answers and streams, from the
// shapes of OpenAI's API reference (messages with content parts, tool calls
// and tool results; n > 1; streamed tool-call deltas). What the spans carry
// is checked at the receiver in tests/http/content_capture_test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  chatInputMessages,
  promptMessages,
} from "../../src/genai/openai_content.ts";
import { parseResponseJson } from "../../src/genai/openai_response.ts";
import { OpenAIStreamReader } from "../../src/genai/openai_stream.ts";
import { requestAttributes } from "../../src/genai/attributes.ts";
import { parseRequestJson } from "../../src/genai/openai_request.ts";
import { chatChunk, delta, encoder } from "./chat_stream_fixtures.ts";

const text = (content: string) => ({ type: "text", content });

test("chat messages: system stays in the history with its role; content parts, tool calls and tool results", () => {
  const messages = [
    { role: "system", content: "You are a helpful assistant." },
    { role: "developer", content: [{ type: "text", text: "Be brief." }] },
    {
      role: "user",
      content: [
        { type: "text", text: "What's in this image?" },
        {
          type: "image_url",
          image_url: { url: "https://example.com/cat.png", detail: "low" },
        },
        {
          type: "input_audio",
          input_audio: { data: "UklGRg==", format: "wav" },
        },
      ],
    },
    {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: "call_abc123",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      }],
    },
    { role: "tool", tool_call_id: "call_abc123", content: "15C, sunny" },
    { role: "assistant", content: "It is 15C and sunny in Paris." },
    "not a message",
  ];
  assert.deepEqual(chatInputMessages(messages), [
    { role: "system", parts: [text("You are a helpful assistant.")] },
    { role: "system", parts: [text("Be brief.")] }, // developer
    {
      role: "user",
      parts: [
        text("What's in this image?"),
        { type: "uri", modality: "image", uri: "https://example.com/cat.png" },
        {
          type: "blob",
          modality: "audio",
          content: "UklGRg==",
          mime_type: "audio/wav",
        },
      ],
    },
    {
      role: "assistant",
      parts: [{
        type: "tool_call",
        id: "call_abc123",
        name: "get_weather",
        arguments: '{"city":"Paris"}',
      }],
    },
    {
      role: "tool",
      parts: [{
        type: "tool_call_response",
        id: "call_abc123",
        result: "15C, sunny",
      }],
    },
    { role: "assistant", parts: [text("It is 15C and sunny in Paris.")] },
  ]);
  assert.deepEqual(chatInputMessages("nope"), []);
});

test("completions prompt: one user message, a text part per prompt string", () => {
  assert.deepEqual(promptMessages("Say this is a test"), [
    { role: "user", parts: [text("Say this is a test")] },
  ]);
  assert.deepEqual(promptMessages(["a", "b", 3]), [
    { role: "user", parts: [text("a"), text("b")] },
  ]);
  assert.deepEqual(promptMessages([1212, 318]), [], "token ids: no text");
});

test("request attributes: gen_ai.input.messages in the parts schema, only with capture", () => {
  const info = parseRequestJson({
    model: "gpt-4o",
    messages: [
      { role: "system", content: "S" },
      { role: "user", content: "U" },
    ],
  }, "chat");
  assert.equal(
    requestAttributes(info, "latest", false)["gen_ai.input.messages"],
    undefined,
  );
  const a = requestAttributes(info, "latest", true);
  assert.deepEqual(JSON.parse(a["gen_ai.input.messages"] as string), [
    { role: "system", parts: [text("S")] },
    { role: "user", parts: [text("U")] },
  ]);
  assert.equal(a["gen_ai.system_instructions"], undefined, "not given apart");
  const prompt = parseRequestJson(
    { model: "m", prompt: "P" },
    "text_completion",
  );
  assert.deepEqual(
    JSON.parse(
      requestAttributes(
        prompt,
        "dual",
        true,
      )["gen_ai.input.messages"] as string,
    ),
    [{ role: "user", parts: [text("P")] }],
  );
});

test("JSON answer with n=2: one assistant message per choice, in index order, finish reasons apart", () => {
  const answer = {
    id: "chatcmpl-123",
    object: "chat.completion",
    model: "gpt-4o-2024-08-06",
    choices: [
      {
        index: 1,
        message: {
          role: "assistant",
          content: null,
          tool_calls: [{
            id: "call_1",
            type: "function",
            function: { name: "get_weather", arguments: "{}" },
          }],
        },
        finish_reason: "tool_calls",
      },
      {
        index: 0,
        message: { role: "assistant", content: "Hello there!", refusal: null },
        finish_reason: "stop",
      },
    ],
    usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 },
  };
  const info = parseResponseJson(answer, true);
  assert.deepEqual(info.finishReasons, ["stop", "tool_calls"]);
  assert.deepEqual(info.outputMessages, [
    { role: "assistant", parts: [text("Hello there!")] },
    {
      role: "assistant",
      parts: [{
        type: "tool_call",
        id: "call_1",
        name: "get_weather",
        arguments: "{}",
      }],
    },
  ]);
  assert.equal(parseResponseJson(answer).outputMessages, undefined);
  // Completions: each choice's text.
  assert.deepEqual(
    parseResponseJson({
      choices: [{ index: 0, text: "This is a test.", finish_reason: "length" }],
    }, true).outputMessages,
    [{ role: "assistant", parts: [text("This is a test.")] }],
  );
});

test("a stream: reasoning and text joined, a tool call's arguments grow delta by delta", () => {
  const call = (d: Record<string, unknown>) =>
    delta({ tool_calls: [{ index: 0, ...d }] });
  const stream = chatChunk([delta({ role: "assistant", content: null })]) +
    chatChunk([delta({ reasoning_content: "Think" })]) +
    chatChunk([delta({ reasoning_content: "ing" })]) +
    chatChunk([delta({ content: "Let me check." })]) +
    chatChunk([call({
      id: "call_9",
      type: "function",
      function: { name: "get_weather", arguments: "" },
    })]) +
    chatChunk([call({ function: { arguments: '{"city":' } })]) +
    chatChunk([call({ function: { arguments: '"Paris"}' } })]) +
    chatChunk([delta({}, "tool_calls")]) +
    "data: [DONE]\n\n";
  const reader = new OpenAIStreamReader({ captureContent: true });
  reader.push(encoder.encode(stream));
  reader.end();
  assert.deepEqual(reader.info.outputMessages, [{
    role: "assistant",
    parts: [
      { type: "reasoning", content: "Thinking" },
      text("Let me check."),
      {
        type: "tool_call",
        id: "call_9",
        name: "get_weather",
        arguments: '{"city":"Paris"}',
      },
    ],
  }]);
  const quiet = new OpenAIStreamReader();
  quiet.push(encoder.encode(stream));
  assert.equal(
    quiet.info.outputMessages,
    undefined,
    "nothing kept without capture",
  );
});

test("response_format gives gen_ai.output.type (json_schema, json_object: json; text: text)", () => {
  for (
    const [format, type] of [
      [{ type: "json_schema", json_schema: { name: "x", schema: {} } }, "json"],
      [{ type: "json_object" }, "json"],
      [{ type: "text" }, "text"],
      [{ type: "other" }, undefined],
      ["json", undefined],
    ] as const
  ) {
    const info = parseRequestJson(
      { model: "m", response_format: format },
      "chat",
    );
    assert.equal(info.outputType, type, JSON.stringify(format));
    assert.equal(
      requestAttributes(info, "dual", false)["gen_ai.output.type"],
      type,
    );
  }
});
