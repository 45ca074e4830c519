/**
 * `traceHandler`'s options: their type, their checks, and the plan they
 * compile to once per handler (so a request does no option work).
 *
 * @module
 */
import type { Attributes, Tracer } from "../core/types.ts";
import {
  type SemconvMode,
  semconvMode,
  SpanAttributes,
} from "../core/attributes.ts";
import {
  describe,
  expectAttributesObject,
  expectObject,
} from "../core/validate.ts";
import type { GenAIOperation } from "../genai/openai_request.ts";
import { expectWireApi, type WireApiName } from "../genai/wire.ts";
import { nativeTelemetry } from "../runtime/detect.ts";
import { captureContentEnv } from "../core/env_config.ts";
import { boundAttributes } from "../core/limits.ts";

/**
 * Request headers never recorded, whatever `captureHeaders` says.
 *
 * @example
 * ```ts
 * import { CREDENTIAL_HEADERS } from "@llmtrace/otel";
 *
 * console.log(CREDENTIAL_HEADERS.has("authorization")); // true
 * ```
 */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "api-key",
  "x-auth-token",
  "x-goog-api-key",
  "anthropic-api-key",
  "openai-api-key",
  "x-amz-security-token",
]);

/**
 * Options of {@link traceHandler}.
 *
 * @example
 * ```ts
 * import { traceHandler, type TraceHandlerOptions } from "@llmtrace/otel";
 *
 * const options: TraceHandlerOptions = {
 *   route: "/v1/chat/completions",
 *   trustIncomingContext: (req) => req.headers.has("x-internal"),
 *   providerName: "vllm",
 *   captureHeaders: ["x-request-id"],
 * };
 * const worker = { fetch: traceHandler(() => new Response("ok"), options) };
 * console.log(typeof worker.fetch);
 * ```
 */
export interface TraceHandlerOptions {
  /**
   * The route template for the span name and `http.route`, e.g.
   * `"/v1/users/{id}"`; or a function of the request. Without it the span
   * is named `{method}` alone (a path may hold ids: unbounded cardinality),
   * except for the fixed OpenAI-compatible and vLLM endpoints
   * (`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`,
   * `/v1/models`, `/health`, `/metrics`, ...), which are their own route.
   */
  route?: string | ((req: Request) => string | undefined);
  /**
   * Use the caller's `traceparent` as the parent (`true`), or start a new
   * trace linked to it (`false`; public endpoints should not let callers pick
   * their trace), or decide per request.
   * @default true
   */
  trustIncomingContext?: boolean | ((req: Request) => boolean);
  /**
   * Record prompts and completions (`gen_ai.input.messages`,
   * `gen_ai.output.messages`, `gen_ai.system_instructions`). Off by default:
   * they may hold personal data. When not given,
   * `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` turns it on.
   * @default false
   */
  captureContent?: boolean;
  /**
   * The largest request or JSON response body read for GenAI attributes;
   * larger bodies pass untouched and unread.
   * @default 1048576
   */
  maxBodyBytes?: number;
  /**
   * Request headers to record as `http.request.header.<name>`. Credential
   * headers ({@link CREDENTIAL_HEADERS}) are never recorded.
   */
  captureHeaders?: readonly string[];
  /** `gen_ai.provider.name`, e.g. `"vllm"` or `"openai"`. */
  providerName?: string;
  /**
   * Decide the GenAI operation of a request; by default from the path
   * (`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`,
   * `/v1/responses`, `/v1/messages`, `/v1beta/models/{model}:generateContent`).
   */
  operation?: (req: Request, path: string) => GenAIOperation | undefined;
  /**
   * The wire API every request speaks, for paths it cannot be told from
   * (`"openai"`, `"openai_responses"`, `"anthropic"`, `"gemini"`); by default
   * each request's path decides.
   */
  api?: WireApiName;
  /** Extra attributes for every server span. */
  attributes?: Attributes;
  /**
   * Keep the span open until the body ends for every content type, not only
   * JSON and server-sent events.
   * @default false
   */
  coverAllBodies?: boolean;
  /** The tracer to use; llmtrace's own by default. */
  tracer?: Tracer;
}

/** What the options compile to. */
export interface ServerPlan {
  mode: SemconvMode;
  captureContent: boolean;
  maxBodyBytes: number;
  trust: boolean | ((req: Request) => boolean);
  route: TraceHandlerOptions["route"];
  chooseOperation: TraceHandlerOptions["operation"];
  /** The wire API the caller named. */
  api: WireApiName | undefined;
  /** Lower-case names, credential headers removed. */
  captureHeaders: string[];
  /** Copied into every span's attributes; `undefined` when empty. */
  baseAttributes: Attributes | undefined;
  coverAllBodies: boolean;
  tracer: Tracer | undefined;
  /** `gen_ai.provider.name`, for the metrics too. */
  providerName: string | undefined;
  /** The runtime's built-in telemetry is on (checked once). */
  native: boolean;
}

/**
 * Checks the options and compiles them.
 *
 * @throws {TypeError | RangeError} naming the option and the bad value.
 */
export function compileServerOptions(o: TraceHandlerOptions): ServerPlan {
  expectObject(o, "traceHandler(handler, options): options");
  if (
    o.maxBodyBytes !== undefined &&
    (!Number.isFinite(o.maxBodyBytes) || o.maxBodyBytes < 0)
  ) {
    throw new RangeError(
      `options.maxBodyBytes must be a non-negative number of bytes, got ${
        describe(o.maxBodyBytes)
      }`,
    );
  }
  if (o.captureHeaders !== undefined && !Array.isArray(o.captureHeaders)) {
    throw new TypeError(
      `options.captureHeaders must be an array of header names, got ${
        describe(o.captureHeaders)
      }`,
    );
  }
  if (o.attributes === null) {
    throw new TypeError(
      "options.attributes must be an object of attribute values, got null",
    );
  }
  expectAttributesObject(o.attributes, "options.attributes");
  for (const k of ["route", "trustIncomingContext", "operation"] as const) {
    const v = o[k];
    const ok = v === undefined || typeof v === "function" ||
      (k === "route" && typeof v === "string") ||
      (k === "trustIncomingContext" && typeof v === "boolean");
    if (!ok) {
      throw new TypeError(
        `options.${k} has the wrong type: got ${describe(v)}`,
      );
    }
  }
  const base: Attributes = { ...o.attributes };
  if (o.providerName) {
    base[SpanAttributes.GEN_AI_PROVIDER_NAME] = o.providerName;
  }
  return {
    mode: semconvMode(),
    // The option wins; else the GenAI instrumentations' variable.
    captureContent: typeof o.captureContent === "boolean"
      ? o.captureContent
      : captureContentEnv() ?? false,
    maxBodyBytes: o.maxBodyBytes ?? 1_048_576,
    trust: o.trustIncomingContext ?? true,
    route: o.route,
    chooseOperation: o.operation,
    api: expectWireApi(o.api, "options.api"),
    captureHeaders: (o.captureHeaders ?? [])
      .map((h) => String(h).toLowerCase())
      .filter((h) => !CREDENTIAL_HEADERS.has(h)),
    baseAttributes: Object.keys(base).length > 0
      ? boundAttributes(base)
      : undefined,
    coverAllBodies: o.coverAllBodies === true,
    tracer: o.tracer,
    providerName: o.providerName || undefined,
    native: nativeTelemetry() !== undefined,
  };
}
