// The request side of the OpenAI-compatible API: which operation a path is,
// and what a request body says (src/genai/openai_request.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  operationForPath,
  parseRequestBody,
  parseRequestJson,
} from "../../src/genai/openai_request.ts";

const encoder = new TextEncoder();

test("openai: operationForPath maps the three endpoints under any prefix", () => {
  const cases: [string, string | undefined][] = [
    ["/v1/chat/completions", "chat"],
    ["/v1/completions", "text_completion"],
    ["/v1/embeddings", "embeddings"],
    ["/chat/completions", "chat"],
    ["/completions", "text_completion"],
    ["/embeddings", "embeddings"],
    ["chat/completions", "chat"],
    ["/openai/v1/chat/completions", "chat"],
    ["/openai/deployments/gpt-4o/chat/completions", "chat"],
    ["/api/v1/embeddings/", "embeddings"],
    ["/v1/chat/completions//", "chat"],
    ["/v1/completions?api-version=2024-10-21", "text_completion"],
    ["/v1/chat/completions#x", "chat"],
    ["/v1/models", undefined],
    ["/v1/chat/completionsx", undefined],
    ["/v1/xchat/completions", "text_completion"], // ".../completions" segment
    ["/v1/mycompletions", undefined],
    ["/v1/embeddings/x", undefined],
    ["/v1/responses", undefined],
    ["/", undefined],
    ["", undefined],
    ["/V1/CHAT/COMPLETIONS", undefined],
  ];
  for (const [path, expected] of cases) {
    assert.equal(operationForPath(path), expected, path);
  }
  assert.equal(operationForPath(undefined as unknown as string), undefined);
  assert.equal(operationForPath(42 as unknown as string), undefined);
});

test("openai: parseRequestJson reads every field", () => {
  const messages = [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hi" },
  ];
  const info = parseRequestJson({
    model: "gpt-4o-mini",
    messages,
    max_tokens: 256,
    temperature: 0.7,
    top_p: 0.9,
    n: 2,
    stream: true,
    stream_options: { include_usage: true },
    seed: -42,
    stop: ["\n\n", "END"],
    frequency_penalty: 0.5,
    presence_penalty: -0.25,
    top_k: 40,
    user: "ignored",
  }, "chat");
  assert.deepEqual(info, {
    operation: "chat",
    model: "gpt-4o-mini",
    maxTokens: 256,
    temperature: 0.7,
    topP: 0.9,
    n: 2,
    stream: true,
    includeUsage: true,
    seed: -42,
    stop: ["\n\n", "END"],
    frequencyPenalty: 0.5,
    presencePenalty: -0.25,
    topK: 40,
    messages,
  });
  assert.equal(info.messages, messages); // kept as is, not copied
});

test("openai: temperature 0, false flags and a string stop are kept", () => {
  const info = parseRequestJson({
    model: "m",
    temperature: 0,
    top_p: 0,
    stream: false,
    stream_options: { include_usage: false },
    stop: "###",
    seed: 0,
  });
  assert.deepEqual(info, {
    model: "m",
    temperature: 0,
    topP: 0,
    stream: false,
    includeUsage: false,
    stop: ["###"],
    seed: 0,
  });
  assert.equal("operation" in info, false);
});

test("openai: max_completion_tokens wins over max_tokens", () => {
  assert.equal(
    parseRequestJson({ max_tokens: 100, max_completion_tokens: 50 }).maxTokens,
    50,
  );
  assert.equal(
    parseRequestJson({ max_completion_tokens: 50, max_tokens: 100 }).maxTokens,
    50,
  );
  assert.equal(parseRequestJson({ max_tokens: 100 }).maxTokens, 100);
  // An invalid max_completion_tokens falls back to a valid max_tokens.
  assert.equal(
    parseRequestJson({ max_completion_tokens: "50", max_tokens: 100 })
      .maxTokens,
    100,
  );
  assert.equal(
    parseRequestJson({ max_completion_tokens: null, max_tokens: 7 }).maxTokens,
    7,
  );
});

test("openai: wrong types are skipped field by field", () => {
  const info = parseRequestJson({
    model: 42,
    max_tokens: "100",
    max_completion_tokens: 1.5,
    temperature: NaN,
    top_p: Infinity,
    n: [2],
    stream: "true",
    stream_options: { include_usage: 1 },
    seed: 1e400, // Infinity
    stop: [1, 2],
    frequency_penalty: "0.5",
    presence_penalty: -Infinity,
    top_k: 4.2,
  }, "chat");
  assert.deepEqual(info, { operation: "chat" });
  assert.deepEqual(parseRequestJson({ model: "" }), {});
  assert.deepEqual(parseRequestJson({ stream_options: "x" }), {});
  assert.deepEqual(parseRequestJson({ stop: ["a", 1, null, "b"] }).stop, [
    "a",
    "b",
  ]);
  assert.equal(parseRequestJson({ stop: [] }).stop, undefined);
  assert.equal(parseRequestJson({ stop: null }).stop, undefined);
  // Values that are not objects give only the operation.
  for (const value of [null, undefined, 1, "x", true, [], [{ model: "m" }]]) {
    assert.deepEqual(parseRequestJson(value), {});
    assert.deepEqual(parseRequestJson(value, "embeddings"), {
      operation: "embeddings",
    });
  }
});

test("openai: parseRequestJson does not throw on exotic objects", () => {
  const hostile = {
    model: "m",
    get temperature(): number {
      throw new Error("boom");
    },
  };
  assert.deepEqual(parseRequestJson(hostile), { model: "m" });
});

test("openai: parseRequestBody decodes bytes and strings", () => {
  const body = JSON.stringify({
    model: "gpt-3.5-turbo-instruct",
    prompt: ["Say this", "and that"],
    max_tokens: 7,
    temperature: 0,
  });
  const expected = {
    operation: "text_completion",
    model: "gpt-3.5-turbo-instruct",
    prompt: ["Say this", "and that"],
    maxTokens: 7,
    temperature: 0,
  };
  assert.deepEqual(
    parseRequestBody(encoder.encode(body), "text_completion"),
    expected,
  );
  assert.deepEqual(parseRequestBody(body, "text_completion"), expected);
  // A UTF-8 BOM is tolerated.
  assert.deepEqual(
    parseRequestBody(encoder.encode("\uFEFF" + body), "text_completion"),
    expected,
  );
});

test("openai: parseRequestBody for embeddings", () => {
  const body = encoder.encode(JSON.stringify({
    model: "text-embedding-3-small",
    input: ["first", "second"],
    encoding_format: "float",
    dimensions: 256,
  }));
  assert.deepEqual(parseRequestBody(body, "embeddings"), {
    operation: "embeddings",
    model: "text-embedding-3-small",
  });
});

test("openai: parseRequestBody with invalid UTF-8 and malformed input", () => {
  const head = encoder.encode('{"model":"m\u00e9');
  const invalid = new Uint8Array([
    ...head,
    0xff,
    0xc3,
    ...encoder.encode('","n":1}'),
  ]);
  assert.deepEqual(parseRequestBody(invalid), {
    model: "m\u00e9\uFFFD\uFFFD",
    n: 1,
  });
  // Invalid UTF-8 outside strings is just malformed JSON.
  assert.equal(parseRequestBody(new Uint8Array([0x7b, 0xff, 0x7d])), undefined);
  for (
    const body of [
      "",
      "{",
      "not json",
      "null",
      "42",
      '"s"',
      "[]",
      "[{}]",
      "{}x",
    ]
  ) {
    assert.equal(parseRequestBody(body), undefined, body);
    assert.equal(parseRequestBody(encoder.encode(body)), undefined, body);
  }
  assert.deepEqual(parseRequestBody("{}"), {});
  assert.deepEqual(parseRequestBody(new Uint8Array(0), "chat"), undefined);
  assert.equal(parseRequestBody(undefined as unknown as string), undefined);
  assert.equal(parseRequestBody(42 as unknown as string), undefined);
});
