/**
 * The readers of the OpenAI Responses, Anthropic Messages and Gemini APIs,
 * loaded together the first time they may be needed (`loadWireReaders` in
 * `wire.ts`: when tracing or metrics start, or a request of one of them is
 * seen), so that a program that never traces never evaluates them.
 *
 * @module
 */
export {
  readResponsesRequest,
  readResponsesResponse,
  ResponsesStreamReader,
} from "./openai_responses.ts";
export {
  MessagesStreamReader,
  readMessagesRequest,
  readMessagesResponse,
} from "./anthropic_messages.ts";
export {
  GeminiStreamReader,
  readGeminiRequest,
  readGeminiResponse,
} from "./gemini.ts";
