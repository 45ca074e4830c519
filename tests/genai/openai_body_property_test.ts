// Property (fast-check, bounded runs): the OpenAI request and response
// body parsers (src/genai/openai_request.ts, openai_response.ts) never throw
// on random bytes, JSON or OpenAI-ish objects.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  parseRequestBody,
  parseRequestJson,
} from "../../src/genai/openai_request.ts";
import {
  parseResponseBody,
  parseResponseJson,
} from "../../src/genai/openai_response.ts";
import {
  openAiish,
  RUNS,
  usePropertyTracing,
} from "../support/property_arbitraries.ts";

usePropertyTracing();

const enc = new TextEncoder();

test("parseRequestBody/parseResponseBody never throw on random bytes or JSON", () => {
  const op = fc.constantFrom(
    undefined,
    "chat",
    "text_completion",
    "embeddings",
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 512 }),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.jsonValue().map((v) => enc.encode(JSON.stringify(v))),
        openAiish.map((v) => JSON.stringify(v) ?? ""),
        fc.string(),
      ),
      op,
      (body, operation) => {
        const req = parseRequestBody(body, operation);
        if (req !== undefined) assert.equal(req.operation, operation);
        parseResponseBody(body);
      },
    ),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(fc.oneof(fc.anything(), openAiish), (v) => {
      parseRequestJson(v, "chat");
      parseResponseJson(v);
    }),
    { numRuns: RUNS },
  );
});
