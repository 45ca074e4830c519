// gen_ai.provider.name from the upstream's host where it is clear (the
// GenAI conventions' well-known values), else the documented default.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_PROVIDER_NAME,
  providerForHost,
} from "../../src/genai/provider_name.ts";

test("providerForHost: well-known hosts, else openai (the API spoken)", () => {
  const cases: [string, string][] = [
    ["api.openai.com", "openai"],
    ["myres.openai.azure.com", "azure.ai.openai"],
    ["x.services.ai.azure.com", "azure.ai.inference"],
    ["api.anthropic.com", "anthropic"],
    ["generativelanguage.googleapis.com", "gcp.gemini"],
    ["us-central1-aiplatform.googleapis.com", "gcp.vertex_ai"],
    ["bedrock-runtime.us-east-1.amazonaws.com", "aws.bedrock"],
    ["s3.amazonaws.com", DEFAULT_PROVIDER_NAME],
    ["api.deepseek.com", "deepseek"],
    ["api.groq.com", "groq"],
    ["api.mistral.ai", "mistral_ai"],
    ["api.x.ai", "x_ai"],
    ["api.perplexity.ai", "perplexity"],
    ["api.cohere.com", "cohere"],
    ["127.0.0.1", DEFAULT_PROVIDER_NAME],
    ["vllm.internal", DEFAULT_PROVIDER_NAME],
    // a look-alike is not the provider
    ["api.openai.com.evil.example", DEFAULT_PROVIDER_NAME],
    ["notapi.anthropic.com", DEFAULT_PROVIDER_NAME],
  ];
  for (const [host, want] of cases) {
    assert.equal(providerForHost(host), want, host);
  }
  assert.equal(DEFAULT_PROVIDER_NAME, "openai");
});
