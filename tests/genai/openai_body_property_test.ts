// Property (fast-check, bounded runs): the OpenAI request and response
// body parsers (src/genai/openai_request.ts, openai_response.ts) never throw
// on random bytes, JSON or OpenAI-ish objects, and give their documented
// fallbacks: `undefined` for a body that is not a JSON object, the bare
// operation (request) or `{}` (response) for a value that is not an object,
// and only well-typed fields otherwise.
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

const dec = new TextDecoder();

/** The JSON object a body holds, read by the spec (UTF-8, BOM dropped). */
function jsonObject(body: Uint8Array | string): object | undefined {
  try {
    const v: unknown = JSON.parse(
      typeof body === "string" ? body : dec.decode(body),
    );
    return typeof v === "object" && v !== null && !Array.isArray(v)
      ? v
      : undefined;
  } catch {
    return undefined;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Every field parseRequestJson set has the documented type. */
function assertRequestTypes(info: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(info)) {
    const ok = k === "model"
      ? typeof v === "string" && v.length > 0
      : ["maxTokens", "n", "seed", "topK"].includes(k)
      ? Number.isInteger(v)
      : ["temperature", "topP", "frequencyPenalty", "presencePenalty"]
          .includes(k)
      ? Number.isFinite(v)
      : ["stream", "includeUsage"].includes(k)
      ? typeof v === "boolean"
      : k === "stop"
      ? Array.isArray(v) && v.every((x) => typeof x === "string")
      : ["operation", "messages", "prompt"].includes(k);
    assert.ok(ok, `${k}: ${JSON.stringify(v)}`);
  }
}

test("parseRequestBody/parseResponseBody never throw on random bytes or JSON; not-an-object gives undefined", () => {
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
        const value = jsonObject(body);
        const req = parseRequestBody(body, operation);
        const res = parseResponseBody(body);
        if (value === undefined) {
          assert.equal(req, undefined);
          assert.equal(res, undefined);
          return;
        }
        // A JSON object body reads exactly like the parsed value.
        assert.deepEqual(req, parseRequestJson(value, operation));
        assert.deepEqual(res, parseResponseJson(value));
        assert.equal(req!.operation, operation);
        const { model } = value as { model?: unknown };
        if (typeof model === "string" && model.length > 0) {
          assert.equal(req!.model, model);
        } else assert.equal(req!.model, undefined);
        assertRequestTypes(req as Record<string, unknown>);
      },
    ),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(fc.oneof(fc.anything(), openAiish), (v) => {
      const req = parseRequestJson(v, "chat");
      const res = parseResponseJson(v);
      if (!isObj(v)) {
        assert.deepEqual(req, { operation: "chat" });
        assert.deepEqual(res, {});
        return;
      }
      assert.equal(req.operation, "chat");
      assertRequestTypes(req as Record<string, unknown>);
      if (res.model !== undefined) assert.equal(res.model, v.model);
      if (res.id !== undefined) assert.equal(res.id, v.id);
    }),
    { numRuns: RUNS },
  );
});
