/**
 * A client of the router using the official `openai` package, with its own
 * CLIENT span whose context travels in `traceparent`: the first hop of the
 * trace the demo prints.
 *
 * Run it: `ROUTER=http://127.0.0.1:8000 deno run -A examples/client.ts`
 * (`STREAM=0` for a non-streamed call). It prints the answer, then
 * `(trace <id>, tokens <in>→<out>)`.
 *
 * @module
 */
import OpenAI from "openai";
import { type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { formatTraceHeaders } from "../mod.ts";

/** One chat completion to send. */
export interface ChatCall {
  /** The router's base URL, e.g. `http://127.0.0.1:8000/v1`. */
  baseURL: string;
  /** The model to ask for. */
  model: string;
  /** Stream the answer. */
  stream: boolean;
  /** Stop reading after this many streamed chunks (a client that gives up). */
  cancelAfterChunks?: number;
  /** The span's name. @default "client chat" */
  spanName?: string;
}

/** What the client saw. */
export interface ChatResult {
  /** The answer's text. */
  text: string;
  /** Output tokens, from `usage`. */
  completionTokens?: number;
  /** Prompt tokens, from `usage`. */
  promptTokens?: number;
  /** The trace id of the client span. */
  traceId: string;
  /** Whether the client cancelled. */
  cancelled: boolean;
}

/**
 * Sends one chat completion through the router inside a CLIENT span.
 *
 * @param call What to send.
 * @returns What came back.
 */
export async function chat(call: ChatCall): Promise<ChatResult> {
  const tracer = trace.getTracer("llmtrace.client");
  const span: Span = tracer.startSpan(call.spanName ?? "client chat", {
    kind: SpanKind.CLIENT,
    attributes: {
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": call.model,
      "gen_ai.request.stream": call.stream,
    },
  });
  const headers = formatTraceHeaders(span.spanContext()) ?? {};
  const client = new OpenAI({
    baseURL: call.baseURL,
    apiKey: "demo-key",
    defaultHeaders: headers,
    maxRetries: 0,
  });
  const messages = [{
    role: "user" as const,
    content: "Where does the time of an LLM request go?",
  }];
  const result: ChatResult = {
    text: "",
    traceId: span.spanContext().traceId,
    cancelled: false,
  };
  try {
    if (call.stream) {
      const stream = await client.chat.completions.create({
        model: call.model,
        messages,
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: 12,
      });
      let n = 0;
      for await (const c of stream) {
        result.text += c.choices[0]?.delta?.content ?? "";
        if (c.usage) {
          result.completionTokens = c.usage.completion_tokens;
          result.promptTokens = c.usage.prompt_tokens;
        }
        if (
          call.cancelAfterChunks !== undefined && ++n >= call.cancelAfterChunks
        ) {
          result.cancelled = true;
          stream.controller.abort();
          break;
        }
      }
    } else {
      const r = await client.chat.completions.create({
        model: call.model,
        messages,
        max_tokens: 8,
        temperature: 0,
      });
      result.text = r.choices[0]?.message?.content ?? "";
      result.completionTokens = r.usage?.completion_tokens;
      result.promptTokens = r.usage?.prompt_tokens;
    }
    if (result.completionTokens !== undefined) {
      span.setAttribute("gen_ai.usage.output_tokens", result.completionTokens);
    }
    // A cancel is the client's choice, not an error (as llmtrace marks it).
    if (result.cancelled) {
      span.setAttribute("llmtrace.response.cancelled", true);
    }
  } catch (e) {
    span.recordException(e as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(e) });
    throw e;
  } finally {
    span.end();
  }
  return result;
}

if (import.meta.main) {
  const { initTracer, shutdownTracing } = await import("../mod.ts");
  await initTracer("llmtrace.client");
  // deno-lint-ignore no-explicit-any
  const env = (globalThis as any).process?.env ?? {};
  const r = await chat({
    baseURL: `${env.ROUTER ?? "http://127.0.0.1:8000"}/v1`,
    model: "llmtrace/demo-7b",
    stream: !["0", "false"].includes(env.STREAM ?? ""),
  });
  console.log(
    r.text,
    `(trace ${r.traceId}, tokens ${r.promptTokens ?? "?"}→${
      r.completionTokens ?? "?"
    })`,
  );
  await shutdownTracing();
}
