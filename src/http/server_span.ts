/**
 * The start of a request's SERVER span: its name, HTTP attributes, parent
 * (the runtime's own span, the caller's `traceparent`, or a link to it) and
 * GenAI operation, with the request body read on the side.
 *
 * @module
 */
import type { HrTime, Span } from "@opentelemetry/api";
import type { Attributes, Context, Link } from "../core/types.ts";
import { KIND, type OtelApi } from "../core/api.ts";
import { SpanAttributes } from "../core/attributes.ts";
import { _bindRequestContext } from "../core/context.ts";
import { boundAttributes, boundName } from "../core/limits.ts";
import {
  CLIENT_ADDRESS,
  HTTP_REQUEST_HEADER_PREFIX,
  HTTP_REQUEST_METHOD,
  HTTP_REQUEST_METHOD_ORIGINAL,
  HTTP_ROUTE,
  SERVER_ADDRESS,
  SERVER_PORT,
  URL_PATH,
  URL_QUERY,
  URL_SCHEME,
  USER_AGENT_ORIGINAL,
} from "../core/keys.ts";
import { contextFromTraceparent } from "../core/propagation.ts";
import { _tracer } from "../core/tracer.ts";
import { redactQuery, urlParts } from "../core/url.ts";
import { type GenAIOperation, knownRoute } from "../genai/openai_request.ts";
import { type WireCall, wireCall, withOperation } from "../genai/wire.ts";
import { runtime } from "../runtime/detect.ts";
import { captureRequestInfo } from "./request_capture.ts";
import type { ServerPlan } from "./server_options.ts";

const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
  "QUERY",
]);

/** A started server span. */
export interface StartedSpan {
  span: Span;
  /**
   * The request body's GenAI attributes are being captured: ask
   * `capturedRequestInfo` once the handler has answered.
   */
  capturing: boolean;
  /** The GenAI operation, when the request is one. */
  operation?: GenAIOperation;
  /** Its wire API and operation, when the request is a GenAI one. */
  call?: WireCall;
  /** This server's host and port, as the request addressed it. */
  host: string;
  port?: number;
}

/** Calls a user's option function; its failure means `fallback`. */
function safeCall<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** The parent and links of a request's span. */
function chooseParent(
  api: OtelApi,
  req: Request,
  plan: ServerPlan,
): { parent: Context; links?: Link[] } {
  // The runtime's own server span (Deno's built-in telemetry) already
  // extracted the caller's context: nest under it.
  const native = plan.native ? runtime().nativeParent(api) : undefined;
  if (native) return { parent: native };
  const tp = req.headers.get("traceparent");
  if (tp === null) return { parent: api.ROOT_CONTEXT };
  const remote = contextFromTraceparent(tp, req.headers.get("tracestate"));
  if (!remote) return { parent: api.ROOT_CONTEXT };
  const trust = plan.trust;
  if (typeof trust === "function" ? safeCall(() => trust(req), false) : trust) {
    return { parent: remote };
  }
  const sc = api.trace.getSpanContext(remote);
  return {
    parent: api.ROOT_CONTEXT,
    links: sc ? [{ context: sc }] : undefined,
  };
}

/**
 * Starts the SERVER span of `req` at `start`, binds it to the request (see
 * `contextOf`) and starts reading the body of a GenAI POST. May throw (the
 * caller then serves the request untraced).
 */
export function startServerSpan(
  api: OtelApi,
  req: Request,
  rest: readonly unknown[],
  plan: ServerPlan,
  start: HrTime,
): StartedSpan {
  const method = req.method;
  const known = KNOWN_METHODS.has(method);
  const u = urlParts(req.url);
  const route = plan.route;
  const routeValue =
    (typeof route === "function"
      ? safeCall(() => route(req), undefined)
      : route) || knownRoute(u.path);
  const headers = req.headers;
  const attrs: Attributes = plan.baseAttributes
    ? { ...plan.baseAttributes }
    : {};
  attrs[HTTP_REQUEST_METHOD] = known ? method : "_OTHER";
  if (!known) attrs[HTTP_REQUEST_METHOD_ORIGINAL] = method;
  attrs[URL_PATH] = u.path;
  if (u.query) attrs[URL_QUERY] = redactQuery(u.query);
  attrs[URL_SCHEME] = u.scheme;
  attrs[SERVER_ADDRESS] = u.host;
  if (u.port !== undefined) attrs[SERVER_PORT] = u.port;
  if (routeValue) attrs[HTTP_ROUTE] = routeValue;
  const ua = headers.get("user-agent");
  if (ua !== null) attrs[USER_AGENT_ORIGINAL] = ua;
  const client = runtime().clientAddress(req, rest);
  if (client) attrs[CLIENT_ADDRESS] = client;
  for (const h of plan.captureHeaders) {
    const v = headers.get(h);
    if (v !== null) attrs[HTTP_REQUEST_HEADER_PREFIX + h] = [v];
  }
  const { parent, links } = chooseParent(api, req, plan);
  const choose = plan.chooseOperation;
  let call = wireCall(u.path, plan.api);
  if (choose) {
    const chosen = safeCall(() => choose(req, u.path), undefined);
    call = chosen ? withOperation(call, chosen) : undefined;
  }
  const operation = call?.operation;
  let capturing = false;
  if (call) {
    attrs[SpanAttributes.GEN_AI_OPERATION_NAME] = call.operation;
    if (call.model) attrs[SpanAttributes.GEN_AI_REQUEST_MODEL] = call.model;
    if (method === "POST") {
      capturing = captureRequestInfo(req, call, plan.maxBodyBytes);
    }
  }
  // `{method} {route}`, or `{method}` alone without a route, and `HTTP` for
  // an unknown method (HTTP semantic conventions): a client must not be
  // able to mint span names, and a path is unbounded cardinality. The fixed
  // OpenAI-compatible endpoints (`knownRoute`) are their own route.
  const name = known ? method : "HTTP";
  const span = (plan.tracer ?? _tracer()).startSpan(
    boundName(routeValue ? `${name} ${routeValue}` : name),
    {
      kind: KIND.SERVER,
      attributes: boundAttributes(attrs),
      links,
      startTime: start,
    },
    parent,
  );
  _bindRequestContext(req, parent, span);
  return {
    span,
    capturing,
    operation,
    call,
    host: u.host,
    port: u.port,
  };
}
