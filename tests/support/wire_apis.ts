/**
 * What the OpenAI Responses, Anthropic Messages and Gemini APIs look like on
 * the wire, for the unit tests of src/genai and for a fake upstream the
 * official clients (`openai`, `@anthropic-ai/sdk`, `@google/genai`) accept.
 *
 * The events are the providers' own (`wire_fixtures.ts`: their API
 * references and the official SDKs' test data, most of it recorded from
 * the live APIs), kept byte for byte as strings; the few event sequences
 * put together from them say so below.
 *
 * @module
 */
import {
  GEMINI_LIVE_JSON,
  GEMINI_STREAM_CHUNKS,
  GEMINI_STREAM_ERROR_TEXT,
  MESSAGES_ERROR_EVENT,
  MESSAGES_LIVE_JSON,
  MESSAGES_STREAM_BODY,
  RESPONSES_COMPLETED_EVENT,
  RESPONSES_ERROR_EVENT,
  RESPONSES_STREAM_BODY,
} from "./wire_fixtures.ts";

/**
 * One server-sent event: its `event:` name (or none) and its data (a
 * string is written as it is, anything else as JSON). An event named
 * `null` is raw text, written without SSE framing.
 */
export type WireEvent = [event: string | undefined | null, data: unknown];

/** The bytes of events, each `event: …` (when named), `data: …`, blank line. */
export function sseText(events: readonly WireEvent[]): string {
  let out = "";
  for (const [name, data] of events) {
    if (name === null) {
      out += String(data);
      continue;
    }
    if (name !== undefined) out += `event: ${name}\n`;
    out += `data: ${
      typeof data === "string" ? data : JSON.stringify(data)
    }\n\n`;
  }
  return out;
}

/**
 * Splits SSE text (one `data:` line per event, as in the fixtures) into
 * events, each data kept as its exact string.
 */
export function parseSse(text: string): WireEvent[] {
  const out: WireEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    let name: string | undefined;
    let data: string | undefined;
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) {
        data = line.slice(line.startsWith("data: ") ? 6 : 5);
      }
    }
    if (data !== undefined) out.push([name, data]);
  }
  return out;
}

/** An event's data as a value (fixtures keep it as a string). */
export function eventData(e: WireEvent): Record<string, unknown> {
  const d = e[1];
  return (typeof d === "string" ? JSON.parse(d) : d) as Record<
    string,
    unknown
  >;
}

// --- OpenAI Responses -------------------------------------------------------

const RESPONSES_COMPLETED = JSON.parse(RESPONSES_COMPLETED_EVENT) as {
  response: Record<string, unknown>;
};

/** The non-streamed answer of `POST /v1/responses`: the reference's `Response`. */
export const RESPONSES_JSON: Record<string, unknown> =
  RESPONSES_COMPLETED.response;

/** The usage of that `Response`. */
export const RESPONSES_USAGE = RESPONSES_JSON.usage;

/** The text of the Responses examples. */
export const RESPONSES_TEXT = "Hi there! How can I assist you today?";

/**
 * The streamed answer of `POST /v1/responses` with `stream: true`: the API
 * reference's example, ending in `response.completed`, or (put together
 * from it) in `response.incomplete` (the `Response` at status `incomplete`
 * with `incomplete_details.reason: "max_output_tokens"`, as in
 * openai-python tests/lib/responses/test_stream_incomplete.py), in
 * `response.failed` after `response.in_progress` (status `failed`, the
 * `error` of openai-python tests/lib/responses/fixtures/websocket_scenarios.json
 * `failed_then_completed`), or in the reference's `error` event.
 */
export function responsesEvents(
  terminal: "completed" | "incomplete" | "failed" | "error" = "completed",
): WireEvent[] {
  const events = parseSse(RESPONSES_STREAM_BODY);
  if (terminal === "completed") {
    return [...events, ["response.completed", RESPONSES_COMPLETED_EVENT]];
  }
  if (terminal === "incomplete") {
    return [...events, ["response.incomplete", {
      type: "response.incomplete",
      response: {
        ...RESPONSES_JSON,
        status: "incomplete",
        incomplete_details: { reason: "max_output_tokens" },
      },
    }]];
  }
  const preamble = events.slice(0, 2);
  if (terminal === "error") {
    return [
      ...preamble,
      ["error", JSON.stringify(JSON.parse(RESPONSES_ERROR_EVENT))],
    ];
  }
  return [...preamble, ["response.failed", {
    type: "response.failed",
    response: {
      ...RESPONSES_JSON,
      status: "failed",
      output: [],
      usage: null,
      error: { code: "server_error", message: "Synthetic failure" },
    },
  }]];
}

// --- Anthropic Messages ------------------------------------------------------

/** The model of the Anthropic recordings. */
export const ANTHROPIC_MODEL = "claude-sonnet-4-5-20250929";

/** The non-streamed answer of `POST /v1/messages` (recorded from the API). */
export const MESSAGES_JSON = MESSAGES_LIVE_JSON;

/** The text of the streamed Messages recording. */
export const MESSAGES_STREAM_TEXT = "[12345,67890]";

/**
 * The streamed answer of `POST /v1/messages` with `stream: true` (recorded
 * from the API), or its first five events followed by the streaming page's
 * `overloaded_error` event.
 */
export function messagesEvents(
  end: "stop" | "error" = "stop",
): WireEvent[] {
  const events = parseSse(MESSAGES_STREAM_BODY);
  if (end === "stop") return events;
  return [...events.slice(0, 5), ...parseSse(MESSAGES_ERROR_EVENT)];
}

// --- Gemini ---------------------------------------------------------------------

/** The model of the Gemini recordings. */
export const GEMINI_MODEL = "gemini-2.5-flash";

/** The non-streamed answer of `models/{model}:generateContent` (recorded). */
export const GEMINI_JSON = GEMINI_LIVE_JSON;

/** The text of a Gemini answer (its first candidate's parts). */
export function geminiText(chunks: readonly unknown[]): string {
  let text = "";
  for (const c of chunks) {
    const parts = (c as {
      candidates: { content: { parts: { text?: string }[] } }[];
    }).candidates[0].content.parts;
    for (const p of parts) text += p.text ?? "";
  }
  return text;
}

/**
 * The streamed answer of `:streamGenerateContent?alt=sse` (recorded), or its
 * first chunk followed by the bare error object a stream ends with when it
 * fails (js-genai's unit test data).
 */
export function geminiEvents(end: "stop" | "error" = "stop"): WireEvent[] {
  const events: WireEvent[] = GEMINI_STREAM_CHUNKS.map((c) => [
    undefined,
    JSON.stringify(c),
  ]);
  if (end === "stop") return events;
  return [events[0], [null, GEMINI_STREAM_ERROR_TEXT]];
}

// --- A fake upstream speaking all three ----------------------------------------

const SSE = {
  // As api.anthropic.com sends it (the recording above); the others send
  // `text/event-stream` alone.
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
};

/** Options of {@link wireUpstream}. */
export interface WireUpstreamOptions {
  /** Milliseconds before the first content event (after the preamble). */
  firstContentDelayMs?: number;
  /** Milliseconds between the other events. */
  delayMs?: number;
}

/** Whether an event carries content (for the delay before the first one). */
function isContent(e: WireEvent): boolean {
  return e[0] === "content_block_delta" ||
    e[0] === "response.output_text.delta" ||
    (e[0] === undefined && Array.isArray(eventData(e).candidates));
}

/** A streamed body of `events`, with the delays asked for. */
function streamOf(events: WireEvent[], o: WireUpstreamOptions): Response {
  const enc = new TextEncoder();
  let i = 0;
  let sawContent = false;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  return new Response(
    new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i >= events.length) {
          c.close();
          return;
        }
        const e = events[i++];
        if (!sawContent && isContent(e)) {
          sawContent = true;
          if (o.firstContentDelayMs) await sleep(o.firstContentDelayMs);
        } else if (o.delayMs) await sleep(o.delayMs);
        c.enqueue(enc.encode(sseText([e])));
      },
    }),
    { headers: SSE },
  );
}

/**
 * A fake upstream for the three APIs: `POST …/responses`, `POST …/messages`,
 * `POST …/models/{model}:generateContent` and `:streamGenerateContent`,
 * answering with the examples above (streamed when the body or path asks).
 * It records the request bodies it received.
 */
export function wireUpstream(o: WireUpstreamOptions = {}): {
  handler: (req: Request) => Promise<Response>;
  bodies: unknown[];
} {
  const bodies: unknown[] = [];
  const handler = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    const body = await req.json().catch(() => ({})) as { stream?: boolean };
    bodies.push(body);
    if (path.endsWith("/responses")) {
      return body.stream
        ? streamOf(responsesEvents(), o)
        : Response.json(RESPONSES_JSON);
    }
    if (path.endsWith("/messages")) {
      return body.stream
        ? streamOf(messagesEvents(), o)
        : Response.json(MESSAGES_JSON);
    }
    if (path.endsWith(":streamGenerateContent")) {
      return streamOf(geminiEvents(), o);
    }
    if (path.endsWith(":generateContent")) return Response.json(GEMINI_JSON);
    return new Response("not found", { status: 404 });
  };
  return { handler, bodies };
}
