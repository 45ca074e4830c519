/**
 * The GenAI conventions' message-parts schema (`gen-ai-input-messages.json`,
 * `gen-ai-output-messages.json`): the small builders the wire readers share
 * to turn their own content shapes into it. Only called when content capture
 * is on.
 *
 * @module
 */
import { isObject, type JsonObject } from "./json.ts";

/** One part of a message. */
export type Part = Record<string, unknown>;
/** One message: a role and its parts. */
export interface ChatMessage {
  role: string;
  parts: Part[];
}

/** A text part. */
export function textPart(content: string): Part {
  return { type: "text", content };
}

/** A reasoning (thinking) part. */
export function reasoningPart(content: string): Part {
  return { type: "reasoning", content };
}

/** A tool call part; `id` omitted when unknown. */
export function toolCallPart(
  id: unknown,
  name: unknown,
  args: unknown,
): Part {
  const p: Part = {
    type: "tool_call",
    name: typeof name === "string" ? name : "",
  };
  if (typeof id === "string") p.id = id;
  if (args !== undefined) p.arguments = args;
  return p;
}

/** A tool call's result part (`result`, as the current schema names it). */
export function toolResponsePart(id: unknown, result: unknown): Part {
  const p: Part = { type: "tool_call_response", result };
  if (typeof id === "string") p.id = id;
  return p;
}

/** Inline data (`blob`) or a reference (`uri`) of a modality. */
export function mediaPart(
  mime: unknown,
  data: { content?: unknown; uri?: unknown },
): Part {
  const m = typeof mime === "string" ? mime : undefined;
  const modality = m?.startsWith("image/")
    ? "image"
    : m?.startsWith("audio/")
    ? "audio"
    : m?.startsWith("video/")
    ? "video"
    : "image";
  const p: Part = typeof data.uri === "string"
    ? { type: "uri", modality, uri: data.uri }
    : { type: "blob", modality, content: data.content };
  if (m !== undefined) p.mime_type = m;
  return p;
}

/** A part of a type the schema has no shape for: its type alone. */
export function genericPart(type: unknown): Part {
  return { type: typeof type === "string" ? type : "unknown" };
}

/** Parts of a value that is a string (one text part) or an array of blocks. */
export function partsOf(
  value: unknown,
  block: (b: JsonObject) => Part | undefined,
): Part[] {
  if (typeof value === "string") return [textPart(value)];
  const parts: Part[] = [];
  if (Array.isArray(value)) {
    for (const b of value) {
      if (!isObject(b)) continue;
      const p = block(b);
      if (p) parts.push(p);
    }
  }
  return parts;
}

/** Adds a streamed part, joining its text to a last part of the same type. */
export function appendPart(parts: Part[], p: Part): void {
  const last = parts[parts.length - 1];
  if (
    last && last.type === p.type && typeof last.content === "string" &&
    typeof p.content === "string"
  ) {
    last.content += p.content;
  } else {
    parts.push(p);
  }
}
