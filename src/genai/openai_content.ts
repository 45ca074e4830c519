/**
 * Chat Completions and Completions content in the conventions' message-parts
 * schema, with the builders of `parts.ts` the other wire readers use:
 * `messages` as chat history (a `system` message stays in it, with its
 * role), `prompt` as one user message, and each choice of an answer as one
 * assistant message (finish reasons are `gen_ai.response.finish_reasons`,
 * not part of the message). Only called when content capture is on.
 *
 * @module
 */
import { isObject, type JsonObject } from "./json.ts";
import * as P from "./parts.ts";
import type { ChatMessage, Part } from "./parts.ts";

/** One content part of a chat message (`text`, `image_url`, `input_audio`, ...). */
function contentPart(b: JsonObject): Part | undefined {
  switch (b.type) {
    case "text":
      return typeof b.text === "string" ? P.textPart(b.text) : undefined;
    case "refusal":
      return typeof b.refusal === "string" ? P.textPart(b.refusal) : undefined;
    case "image_url": {
      const image = b.image_url;
      const url = isObject(image) ? image.url : image;
      return P.mediaPart(undefined, { uri: url });
    }
    case "input_audio": {
      const audio = b.input_audio;
      if (!isObject(audio)) return P.genericPart(b.type);
      return P.mediaPart(
        typeof audio.format === "string" ? `audio/${audio.format}` : undefined,
        { content: audio.data },
      );
    }
    default:
      return P.genericPart(b.type);
  }
}

/** The tool calls an assistant message (or a choice's message) carries. */
function toolCallParts(message: JsonObject, parts: Part[]): void {
  const calls = message.tool_calls;
  if (Array.isArray(calls)) {
    for (const call of calls) {
      if (!isObject(call)) continue;
      const fn = isObject(call.function) ? call.function : {};
      parts.push(P.toolCallPart(call.id, fn.name, fn.arguments));
    }
  }
  const legacy = message.function_call; // the pre-tools API
  if (isObject(legacy)) {
    parts.push(P.toolCallPart(undefined, legacy.name, legacy.arguments));
  }
}

/** One chat message in the parts schema. */
function chatMessage(m: JsonObject): ChatMessage {
  // `developer` is OpenAI's name for the system role of newer models.
  const role = m.role === "developer"
    ? "system"
    : typeof m.role === "string"
    ? m.role
    : "user";
  if (role === "tool" || role === "function") {
    // A tool's answer: its result goes with the call it answers.
    return {
      role: "tool",
      parts: [P.toolResponsePart(m.tool_call_id ?? m.name, m.content)],
    };
  }
  const parts = P.partsOf(m.content, contentPart);
  if (typeof m.reasoning_content === "string") {
    parts.unshift(P.reasoningPart(m.reasoning_content));
  }
  toolCallParts(m, parts);
  return { role, parts };
}

/**
 * Chat Completions `messages` as `gen_ai.input.messages` (chat history:
 * `system` messages included, with their role; `developer` is `system`).
 */
export function chatInputMessages(messages: unknown): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (!Array.isArray(messages)) return out;
  for (const m of messages) if (isObject(m)) out.push(chatMessage(m));
  return out;
}

/**
 * Completions `prompt` as `gen_ai.input.messages`: one user message, one
 * text part per prompt string (token-id prompts have no text to record).
 */
export function promptMessages(prompt: unknown): ChatMessage[] {
  const texts = typeof prompt === "string"
    ? [prompt]
    : Array.isArray(prompt)
    ? prompt.filter((p): p is string => typeof p === "string")
    : [];
  return texts.length ? [{ role: "user", parts: texts.map(P.textPart) }] : [];
}

/**
 * One choice of a JSON answer as an output message: the message's content,
 * reasoning and tool calls (chat), or its `text` (completions).
 */
export function choiceMessage(choice: JsonObject): ChatMessage {
  const message = choice.message;
  if (isObject(message)) return chatMessage({ ...message, role: "assistant" });
  return {
    role: "assistant",
    parts: typeof choice.text === "string" ? [P.textPart(choice.text)] : [],
  };
}

/**
 * A streamed choice's output, delta by delta: text and reasoning joined,
 * each tool call one part whose arguments grow as they arrive.
 */
export class StreamedChoice {
  readonly parts: Part[] = [];
  /** Tool call parts by their `index` in the deltas. */
  #tools: Map<number, Part> | undefined;

  /** Adds one `delta` (chat) or a choice's `text` (completions). */
  add(delta: JsonObject | undefined, text: unknown): void {
    if (delta) {
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === "string" && reasoning) {
        P.appendPart(this.parts, P.reasoningPart(reasoning));
      }
      if (typeof delta.content === "string" && delta.content) {
        P.appendPart(this.parts, P.textPart(delta.content));
      }
      const calls = delta.tool_calls;
      if (Array.isArray(calls)) {
        for (const call of calls) if (isObject(call)) this.#toolDelta(call);
      }
    }
    if (typeof text === "string" && text) {
      P.appendPart(this.parts, P.textPart(text));
    }
  }

  #toolDelta(call: JsonObject): void {
    const index = typeof call.index === "number" ? call.index : 0;
    const fn = isObject(call.function) ? call.function : {};
    const tools = this.#tools ??= new Map();
    let part = tools.get(index);
    if (!part) {
      part = P.toolCallPart(call.id, fn.name, "");
      tools.set(index, part);
      this.parts.push(part);
    }
    if (typeof call.id === "string" && part.id === undefined) part.id = call.id;
    if (typeof fn.name === "string" && !part.name) part.name = fn.name;
    if (typeof fn.arguments === "string") {
      part.arguments = (part.arguments as string) + fn.arguments;
    }
  }

  /** The choice as an output message. */
  message(): ChatMessage {
    return { role: "assistant", parts: this.parts };
  }
}
