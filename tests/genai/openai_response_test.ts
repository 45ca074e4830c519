// The response side of the OpenAI-compatible API: what a (non-streamed)
// response body says (src/genai/openai_response.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  parseResponseBody,
  parseResponseJson,
} from "../../src/genai/openai_response.ts";

const encoder = new TextEncoder();

test("openai: parseResponseJson reads a chat completion with usage", () => {
  const info = parseResponseJson({
    id: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    object: "chat.completion",
    created: 1741570283,
    model: "gpt-4o-2024-08-06",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: "The image shows a wooden boardwalk.",
        refusal: null,
        annotations: [],
      },
      logprobs: null,
      finish_reason: "stop",
    }],
    usage: {
      prompt_tokens: 1117,
      completion_tokens: 46,
      total_tokens: 1163,
      prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
    service_tier: "default",
    system_fingerprint: "fp_fc9f1d7035",
  });
  assert.deepEqual(info, {
    id: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    model: "gpt-4o-2024-08-06",
    choiceCount: 1,
    finishReasons: ["stop"],
    outputText: "The image shows a wooden boardwalk.",
    inputTokens: 1117,
    outputTokens: 46,
    cachedInputTokens: 1024,
    reasoningOutputTokens: 0,
  });
});

test("openai: parseResponseJson with several choices, tool calls and text", () => {
  const info = parseResponseJson({
    id: "x",
    model: "m",
    choices: [
      { index: 1, message: { content: "B" }, finish_reason: "length" },
      {
        index: 0,
        message: {
          content: null,
          tool_calls: [{ id: "call_1", type: "function" }],
        },
        finish_reason: "tool_calls",
      },
      { index: 2, message: { content: [{ type: "text", text: "C" }] } },
      "garbage",
    ],
  });
  assert.deepEqual(info, {
    id: "x",
    model: "m",
    choiceCount: 4,
    finishReasons: ["tool_calls", "length"],
    outputText: "BC",
  });
  const completion = parseResponseJson({
    id: "cmpl-1",
    object: "text_completion",
    model: "gpt-3.5-turbo-instruct",
    choices: [
      { text: "Hello", index: 0, logprobs: null, finish_reason: "length" },
      { text: " there", index: 1, logprobs: null, finish_reason: null },
    ],
    usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
  });
  assert.deepEqual(completion, {
    id: "cmpl-1",
    model: "gpt-3.5-turbo-instruct",
    choiceCount: 2,
    finishReasons: ["length"],
    outputText: "Hello there",
    inputTokens: 5,
    outputTokens: 7,
  });
});

test("openai: parseResponseJson for embeddings and odd values", () => {
  assert.deepEqual(
    parseResponseJson({
      object: "list",
      data: [{ object: "embedding", index: 0, embedding: [0.1, -0.2] }],
      model: "text-embedding-3-small",
      usage: { prompt_tokens: 8, total_tokens: 8 },
    }),
    { model: "text-embedding-3-small", inputTokens: 8 },
  );
  assert.deepEqual(
    parseResponseJson({
      id: 1,
      model: "",
      choices: "no",
      usage: {
        prompt_tokens: -1,
        completion_tokens: 1.5,
        prompt_tokens_details: { cached_tokens: "3" },
      },
    }),
    {},
  );
  // DeepSeek reports cache hits at the top level of usage.
  assert.equal(
    parseResponseJson({ usage: { prompt_cache_hit_tokens: 64 } })
      .cachedInputTokens,
    64,
  );
  assert.deepEqual(parseResponseJson({ choices: [] }), { choiceCount: 0 });
  for (const value of [null, undefined, 0, "x", [], [{ id: "a" }]]) {
    assert.deepEqual(parseResponseJson(value), {});
  }
  // An error body has nothing to read but is still an object.
  assert.deepEqual(
    parseResponseJson({
      error: { message: "Rate limit", type: "requests", code: "429" },
    }),
    {},
  );
});

test("openai: parseResponseBody decodes bytes and strings", () => {
  const body = JSON.stringify({
    id: "chatcmpl-1",
    model: "llama-3.1-8b-instruct",
    choices: [{
      index: 0,
      message: { role: "assistant", content: "Grüße 👋" },
      finish_reason: "stop",
    }],
    usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 },
  });
  const expected = {
    id: "chatcmpl-1",
    model: "llama-3.1-8b-instruct",
    choiceCount: 1,
    finishReasons: ["stop"],
    outputText: "Grüße 👋",
    inputTokens: 10,
    outputTokens: 3,
  };
  assert.deepEqual(parseResponseBody(encoder.encode(body)), expected);
  assert.deepEqual(parseResponseBody(body), expected);
  assert.equal(parseResponseBody("<html>502 Bad Gateway</html>"), undefined);
  assert.equal(parseResponseBody(encoder.encode("[1,2]")), undefined);
  assert.equal(parseResponseBody(null as unknown as string), undefined);
});
