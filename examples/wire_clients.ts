/**
 * One streamed call of each other wire API through the router, with its
 * official client, inside a CLIENT span whose context travels in
 * `traceparent`: OpenAI Responses (`openai`), Anthropic Messages
 * (`@anthropic-ai/sdk`), Gemini (`@google/genai`). The demo's second half.
 *
 * @module
 */
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { formatTraceHeaders } from "../mod.ts";

/** The wire APIs this client speaks. */
export type WireApi = "responses" | "messages" | "gemini";

/** What one call saw. */
export interface StreamResult {
  /** The streamed text. */
  text: string;
  /** Output tokens, as the API reported them. */
  outputTokens?: number;
  /** The trace id of the client span. */
  traceId: string;
}

const PROMPT = "Where does the time of an LLM request go?";

/**
 * Streams one answer of `api` through the router at `origin`.
 *
 * @param api Which API to call.
 * @param origin The router, e.g. `http://127.0.0.1:8000`.
 * @param model The model to ask for.
 * @returns What came back.
 */
export async function streamOnce(
  api: WireApi,
  origin: string,
  model: string,
): Promise<StreamResult> {
  const span: Span = trace.getTracer("llmtrace.client").startSpan(
    `client ${api}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        "gen_ai.request.model": model,
        "gen_ai.request.stream": true,
      },
    },
  );
  const headers = formatTraceHeaders(span.spanContext()) ?? {};
  const r: StreamResult = { text: "", traceId: span.spanContext().traceId };
  try {
    if (api === "responses") {
      const client = new OpenAI({
        baseURL: `${origin}/v1`,
        apiKey: "demo-key",
        defaultHeaders: headers,
        maxRetries: 0,
      });
      const stream = await client.responses.create({
        model,
        input: PROMPT,
        stream: true,
      });
      for await (const e of stream) {
        if (e.type === "response.output_text.delta") r.text += e.delta;
        if (e.type === "response.completed") {
          r.outputTokens = e.response.usage?.output_tokens;
        }
      }
    } else if (api === "messages") {
      const client = new Anthropic({
        baseURL: origin,
        apiKey: "demo-key",
        defaultHeaders: headers,
        maxRetries: 0,
        // The SDK's own span would start a trace of its own here (it parents
        // on the active context, and llmtrace registers no context manager)
        // and replace this span's traceparent: keep one trace per call.
        openTelemetry: false,
      });
      const stream = client.messages.stream({
        model,
        max_tokens: 64,
        messages: [{ role: "user", content: PROMPT }],
      });
      stream.on("text", (t) => (r.text += t));
      const msg = await stream.finalMessage();
      r.outputTokens = msg.usage.output_tokens;
    } else {
      const ai = new GoogleGenAI({
        apiKey: "demo-key",
        httpOptions: { baseUrl: origin, headers },
      });
      const stream = await ai.models.generateContentStream({
        model,
        contents: PROMPT,
      });
      for await (const chunk of stream) {
        r.text += chunk.text ?? "";
        const u = chunk.usageMetadata;
        if (u?.candidatesTokenCount !== undefined) {
          r.outputTokens = u.candidatesTokenCount + (u.thoughtsTokenCount ?? 0);
        }
      }
    }
    if (r.outputTokens !== undefined) {
      span.setAttribute("gen_ai.usage.output_tokens", r.outputTokens);
    }
  } catch (e) {
    span.recordException(e as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(e) });
    throw e;
  } finally {
    span.end();
  }
  return r;
}
