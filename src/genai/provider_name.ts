/**
 * `gen_ai.provider.name` of an upstream, from its host where the host makes
 * it clear (the GenAI conventions' well-known values), else `"openai"`: the
 * call speaks OpenAI's API, which is what OpenTelemetry's OpenAI client
 * instrumentations report for any base URL. Pass `providerName` to name a
 * self-hosted engine (`"vllm"`).
 *
 * @module
 */

/** What a call to an OpenAI-compatible upstream reports without a better clue. */
export const DEFAULT_PROVIDER_NAME = "openai";

/** Hosts of well-known providers (whole host names), most specific first. */
const BY_HOST: readonly [host: RegExp, provider: string][] = [
  [/\.openai\.azure\.com$/, "azure.ai.openai"],
  [/\.(?:services|models)\.ai\.azure\.com$/, "azure.ai.inference"],
  [/^api\.openai\.com$/, "openai"],
  [/^api\.anthropic\.com$/, "anthropic"],
  [/^generativelanguage\.googleapis\.com$/, "gcp.gemini"],
  [/^(?:[a-z0-9-]+-)?aiplatform\.googleapis\.com$/, "gcp.vertex_ai"],
  [
    /^bedrock(?:-runtime)?(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com$/,
    "aws.bedrock",
  ],
  [/^api\.deepseek\.com$/, "deepseek"],
  [/^api\.groq\.com$/, "groq"],
  [/^api\.mistral\.ai$/, "mistral_ai"],
  [/^api\.x\.ai$/, "x_ai"],
  [/^api\.perplexity\.ai$/, "perplexity"],
  [/^api\.cohere\.(?:com|ai)$/, "cohere"],
];

/**
 * The provider a host belongs to, or `fallback` (the wire API's provider:
 * `anthropic` for Messages, `gcp.gemini` for Gemini, else
 * {@link DEFAULT_PROVIDER_NAME}).
 *
 * @param host The upstream's host name (lower case).
 * @param fallback The name when the host is not a known provider's.
 */
export function providerForHost(
  host: string,
  fallback: string = DEFAULT_PROVIDER_NAME,
): string {
  for (const [pattern, provider] of BY_HOST) {
    if (pattern.test(host)) return provider;
  }
  return fallback;
}
