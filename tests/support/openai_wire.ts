/**
 * What an OpenAI-compatible chat completion looks like on the wire, written
 * once for every fake model of the repository (the tests' fake LLM, the
 * demo's inference server, the bench's streaming server): the JSON answer,
 * one server-sent `chat.completion.chunk` event, and the `[DONE]` event.
 *
 * @module
 */

/** Token counts as the API reports them. */
export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
}

/** The fields every answer of one completion shares. */
export interface WireAnswer {
  id: string;
  created: number;
  model: string;
}

/** One choice of a streamed chunk. */
export interface WireDeltaChoice {
  index: number;
  delta: { role?: string; content?: string };
  finish_reason: string | null;
}

/** Usage for `prompt` tokens in and `completion` out. */
export function wireUsage(
  prompt: number,
  completion: number,
  cached?: number,
): WireUsage {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(cached === undefined
      ? {}
      : { prompt_tokens_details: { cached_tokens: cached } }),
  };
}

/** The body of a non-streamed answer: one choice per `contents` entry. */
export function chatCompletionJson(
  answer: WireAnswer,
  contents: readonly string[],
  finish: string,
  usage: WireUsage,
): Record<string, unknown> {
  return {
    ...answer,
    object: "chat.completion",
    choices: contents.map((content, index) => ({
      index,
      message: { role: "assistant", content },
      logprobs: null,
      finish_reason: finish,
    })),
    usage,
  };
}

/** One `data: {chat.completion.chunk}` event, blank line included. */
export function chunkEvent(
  answer: WireAnswer,
  choices: readonly WireDeltaChoice[],
  usage?: WireUsage,
): string {
  return "data: " + JSON.stringify({
    ...answer,
    object: "chat.completion.chunk",
    choices,
    ...(usage === undefined ? {} : { usage }),
  }) + "\n\n";
}

/** The event that ends a stream. */
export const DONE_EVENT = "data: [DONE]\n\n";

/** The response headers of a streamed answer. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
};
