/**
 * A deterministic OpenAI-compatible server handler for tests:
 * `POST .../chat/completions` (JSON, or server-sent events with
 * `stream: true`) and `POST .../embeddings` (any prefix, e.g. `/v1`). Its streams honour cancel and
 * record it, so a test can check that a client's disconnect reached the
 * "model".
 *
 * @module
 */
import {
  chatCompletionJson,
  chunkEvent,
  DONE_EVENT,
  SSE_HEADERS,
  wireUsage,
} from "./openai_wire.ts";

/** Options of {@link createFakeLlm}. */
export interface FakeLlmOptions {
  /** The content pieces of an answer, one per streamed content chunk. */
  pieces?: string[];
  /** Delay in ms before every streamed event after the first. */
  delayMs?: number;
  /** `usage.prompt_tokens`. */
  promptTokens?: number;
  /** `usage.prompt_tokens_details.cached_tokens`. */
  cachedTokens?: number;
}

/** What one streamed answer did. */
export interface StreamRecord {
  /** Events enqueued so far (`[DONE]` included). */
  eventsSent: number;
  /** Whether the stream was read to its end. */
  finished: boolean;
  /** Whether the reader cancelled it. */
  cancelled: boolean;
  /** The reason the cancel carried. */
  cancelReason?: unknown;
  /** The inter-event delays actually scheduled, in ms. */
  delaysMs: number;
  /**
   * When the stream closed after its last event, in epoch ms on the clock
   * spans use (`performance.timeOrigin + performance.now()`).
   */
  closedAt?: number;
}

/** A fake LLM; see {@link createFakeLlm}. */
export interface FakeLlm {
  /** The fetch-style handler. */
  handler(req: Request): Promise<Response>;
  /** Every streamed answer, in order. */
  streams: StreamRecord[];
  /** Every parsed request body, in order. */
  bodies: unknown[];
  /** The options in effect. */
  readonly pieces: readonly string[];
  readonly delayMs: number;
  readonly promptTokens: number;
  readonly cachedTokens: number;
  /** The model name answers carry for a requested `model`. */
  responseModel(model: string): string;
  /**
   * Polls (every 10 ms, at most `timeoutMs`) until stream `index` was
   * cancelled; returns whether it was.
   */
  waitForCancel(index: number, timeoutMs?: number): Promise<boolean>;
}

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Builds a fake LLM whose answers are a pure function of the request. */
export function createFakeLlm(options: FakeLlmOptions = {}): FakeLlm {
  const pieces = options.pieces ?? ["Hello", ",", " world", "!"];
  const delayMs = options.delayMs ?? 20;
  const promptTokens = options.promptTokens ?? 11;
  const cachedTokens = options.cachedTokens ?? 4;
  const streams: StreamRecord[] = [];
  const bodies: unknown[] = [];
  let counter = 0;
  const responseModel = (model: string) => `${model}-2024-01-01`;

  const usage = (completion: number) =>
    wireUsage(promptTokens, completion, cachedTokens);

  function chat(body: Record<string, unknown>): Response {
    const id = `chatcmpl-fake-${++counter}`;
    const model = responseModel(String(body.model ?? "unknown"));
    const created = 1_700_000_000 + counter;
    const maxTokens = typeof body.max_completion_tokens === "number"
      ? body.max_completion_tokens
      : typeof body.max_tokens === "number"
      ? body.max_tokens
      : Infinity;
    const used = pieces.slice(0, Math.min(pieces.length, maxTokens));
    const finish = used.length < pieces.length ? "length" : "stop";
    const n = typeof body.n === "number" && body.n > 0 ? body.n : 1;

    const answer = { id, created, model };
    if (body.stream !== true) {
      return Response.json(chatCompletionJson(
        answer,
        Array.from({ length: n }, () => used.join("")),
        finish,
        usage(used.length * n),
      ));
    }

    const includeUsage = (body.stream_options as { include_usage?: unknown })
      ?.include_usage === true;
    const events = [
      chunkEvent(answer, [{
        index: 0,
        delta: { role: "assistant", content: "" },
        finish_reason: null,
      }]),
      ...used.map((p) =>
        chunkEvent(answer, [{
          index: 0,
          delta: { content: p },
          finish_reason: null,
        }])
      ),
      chunkEvent(answer, [{ index: 0, delta: {}, finish_reason: finish }]),
      ...(includeUsage ? [chunkEvent(answer, [], usage(used.length))] : []),
      DONE_EVENT,
    ];
    const record: StreamRecord = {
      eventsSent: 0,
      finished: false,
      cancelled: false,
      delaysMs: 0,
    };
    streams.push(record);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (record.cancelled) return;
        if (record.eventsSent >= events.length) {
          record.finished = true;
          record.closedAt = performance.timeOrigin + performance.now();
          controller.close();
          return;
        }
        if (record.eventsSent > 0 && delayMs > 0) {
          record.delaysMs += delayMs;
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, delayMs);
          });
          timer = undefined;
          wake = undefined;
          if (record.cancelled) return;
        }
        controller.enqueue(encoder.encode(events[record.eventsSent++]));
      },
      cancel(reason) {
        record.cancelled = true;
        record.cancelReason = reason;
        if (timer !== undefined) clearTimeout(timer);
        wake?.();
      },
    }, { highWaterMark: 0 });
    return new Response(stream, { headers: SSE_HEADERS });
  }

  function embeddings(body: Record<string, unknown>): Response {
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    return Response.json({
      object: "list",
      model: responseModel(String(body.model ?? "unknown")),
      data: inputs.map((_, i) => ({
        object: "embedding",
        index: i,
        embedding: [0.25, -0.5, 0.125],
      })),
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    });
  }

  return {
    streams,
    bodies,
    pieces,
    delayMs,
    promptTokens,
    cachedTokens,
    responseModel,
    async handler(req: Request): Promise<Response> {
      const path = new URL(req.url).pathname;
      if (req.method !== "POST") {
        return Response.json({ error: "method not allowed" }, { status: 405 });
      }
      let body: Record<string, unknown>;
      try {
        body = await req.json();
      } catch {
        return Response.json({ error: { message: "invalid JSON" } }, {
          status: 400,
        });
      }
      bodies.push(body);
      if (path.endsWith("/chat/completions")) return chat(body);
      if (path.endsWith("/embeddings")) return embeddings(body);
      return Response.json({ error: "not found" }, { status: 404 });
    },
    async waitForCancel(index: number, timeoutMs = 5000): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (streams[index]?.cancelled) return true;
        await sleep(10);
      }
      return streams[index]?.cancelled === true;
    },
  };
}
