/**
 * Shared by the traceHandler tests of this folder (server_*_test.ts): a
 * traced handler tagged with a unique `test.id`, polling the receiver for
 * its server spans, and small request and SSE helpers.
 *
 * @module
 */
import {
  forceFlush,
  traceHandler,
  type TraceHandlerOptions,
} from "../../mod.ts";
import {
  type OtlpReceiver,
  type ReceivedSpan,
  spanTree,
} from "../support/otlp_receiver.ts";
import assert from "node:assert/strict";
import { sleep } from "../support/helpers.ts";
import type { ServeHandler, TestServer } from "../support/servers.ts";

/** OTLP SPAN_KIND_SERVER */
export const SERVER = 2;
/** OTLP SPAN_KIND_INTERNAL */
export const INTERNAL = 1;
/** OTLP STATUS_CODE_ERROR */
export const ERROR = 2;
/** OTLP STATUS_CODE_UNSET */
export const UNSET = 0;

let seq = 0;
/** A unique id, recorded on a handler's spans as `test.id`. */
export const newId = (label: string): string =>
  `${label}-${++seq}-${Date.now()}`;

/** traceHandler with `test.id` among the extra attributes. */
export function traced(
  id: string,
  handler: ServeHandler,
  options: TraceHandlerOptions = {},
): ServeHandler {
  return traceHandler(handler, {
    ...options,
    attributes: { ...options.attributes, "test.id": id },
  });
}

/** The span queries of one file's receiver (read when called). */
export interface ServerSpanQueries {
  /** Flushes and polls (bounded) until `pick` finds what it wants. */
  waitFor<T>(
    what: string,
    pick: (spans: ReceivedSpan[]) => T | undefined,
    timeoutMs?: number,
  ): Promise<T>;
  /** The server spans carrying `test.id` = `id`, once `count` arrived. */
  serverSpans(id: string, count: number): Promise<ReceivedSpan[]>;
  /** The first server span carrying `test.id` = `id`. */
  serverSpan(id: string): Promise<ReceivedSpan>;
}

/** {@link ServerSpanQueries} over `receiver()` (set in a `before` hook). */
export function serverSpanQueries(
  receiver: () => OtlpReceiver,
): ServerSpanQueries {
  async function waitFor<T>(
    what: string,
    pick: (spans: ReceivedSpan[]) => T | undefined,
    timeoutMs = 8000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 10_000; i++) {
      await forceFlush();
      const found = pick(receiver().spans());
      if (found !== undefined) return found;
      if (Date.now() >= deadline) break;
      await sleep(20);
    }
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${what}; received:\n` +
        spanTree(receiver().spans()),
    );
  }
  function serverSpans(id: string, count: number): Promise<ReceivedSpan[]> {
    return waitFor(`${count} server span(s) ${id}`, (spans) => {
      const found = spans.filter((s) =>
        s.kind === SERVER && s.attributes["test.id"] === id
      );
      return found.length >= count ? found : undefined;
    });
  }
  async function serverSpan(id: string): Promise<ReceivedSpan> {
    const [span] = await serverSpans(id, 1);
    return span;
  }
  return { waitFor, serverSpans, serverSpan };
}

/** A span's duration in ns. */
export const durationNs = (s: ReceivedSpan): bigint =>
  s.endTimeUnixNano - s.startTimeUnixNano;

/** JSON.stringify that survives bigints (for "appears nowhere" checks). */
export const dump = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => typeof x === "bigint" ? x.toString() : x);

/** The server's `/v1/chat/completions`. */
export const chatUrl = (srv: TestServer): string =>
  `${srv.origin}/v1/chat/completions`;

/** POSTs `body` as JSON. */
export function postJson(
  url: string,
  body: unknown,
  init: RequestInit & { headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(url, {
    ...init,
    method: "POST",
    headers: { "content-type": "application/json", ...init.headers },
    body: JSON.stringify(body),
  });
}

/** A system and a user message. */
export const MESSAGES = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "Say hello to the world." },
];

/**
 * A stream the client cancelled before its end ("stop generating"): not an
 * error (status unset, no `error.type`), marked cancelled, and the finish
 * reason that never came reported as `error`, as the GenAI conventions ask.
 */
export function assertCancelled(s: ReceivedSpan): void {
  assert.equal(s.status.code, UNSET, s.name);
  assert.equal(s.attributes["error.type"], undefined, s.name);
  assert.equal(s.attributes["llmtrace.response.cancelled"], true, s.name);
  assert.deepEqual(s.attributes["gen_ai.response.finish_reasons"], [
    "error",
  ], s.name);
}
