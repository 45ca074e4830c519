/**
 * llmtrace's OTLP/protobuf span writer: encodes an `ExportTraceServiceRequest`
 * from SDK `ReadableSpan`s in one pass, with the same grouping, field order
 * and encoding as the official `ProtobufTraceSerializer` of
 * `@opentelemetry/otlp-transformer` 0.223.0 (byte-identical output when no
 * double keys are set), and usable wherever the official exporter delegate
 * takes a serializer.
 *
 * @module
 */
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { ProtoWriter } from "./proto_writer.ts";
import {
  type Scope,
  writeResource,
  writeSchemaUrl,
  writeScope,
  writeSpan,
} from "./spans.ts";
import {
  type AttributeState,
  type KeyCache,
  NESTED_BUDGET,
} from "./key_values.ts";
import {
  type ExportTraceServiceResponse,
  readExportTraceServiceResponse,
} from "./export_response.ts";
import { DOUBLE_ATTRIBUTE_KEYS } from "./double_keys.ts";

export { DOUBLE_ATTRIBUTE_KEYS, type ExportTraceServiceResponse };

/** Options of {@link createOtlpSpanWriter}. */
export interface OtlpSpanWriterOptions {
  /**
   * Attribute keys whose number values are always written as `double_value`,
   * even when whole (the official serializer writes `1` as `int_value` and
   * `0.7` as `double_value`, giving one attribute two types at the backend).
   * Non-number values under these keys are written as they are. An empty set
   * gives output byte-identical to the official serializer's.
   * @default DOUBLE_ATTRIBUTE_KEYS
   */
  doubleKeys?: ReadonlySet<string>;
}

/**
 * A serializer of span batches, shaped as the official OTLP exporter delegate
 * expects (`ISerializer<ReadableSpan[], ExportTraceServiceResponse>`).
 */
export interface OtlpSpanWriter {
  /**
   * Encodes the spans as one `ExportTraceServiceRequest`. Never throws: a
   * span whose fields cannot be read is left out of the request.
   */
  serializeRequest(spans: ReadableSpan[]): Uint8Array;
  /**
   * Decodes an `ExportTraceServiceResponse` (partial success).
   *
   * @throws {Error} on a truncated or malformed message.
   */
  deserializeResponse(data: Uint8Array): ExportTraceServiceResponse;
}

type Groups = Map<unknown, Map<unknown, ReadableSpan[]>>;

/** A scratch buffer grown beyond this is dropped after the request. */
const KEEP_BYTES = 8 * 1024 * 1024;

/**
 * Groups by resource, then scope, by identity, in first-seen order; a span
 * whose resource or scope cannot be read is left out.
 */
function group(spans: ReadableSpan[]): Groups {
  const out: Groups = new Map();
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i];
    if (span === null || typeof span !== "object") continue;
    let resource: unknown;
    let scope: unknown;
    try {
      resource = span.resource;
      scope = span.instrumentationScope;
    } catch {
      continue;
    }
    let scopes = out.get(resource);
    if (scopes === undefined) out.set(resource, scopes = new Map());
    const list = scopes.get(scope);
    if (list === undefined) scopes.set(scope, [span]);
    else list.push(span);
  }
  return out;
}

/** Runs `fn`; if it throws, takes back what it wrote. */
function guarded(w: ProtoWriter, fn: () => void): boolean {
  const start = w.pos;
  try {
    fn();
    return true;
  } catch {
    w.pos = start;
    return false;
  }
}

/**
 * Writes one span as a `ScopeSpans.spans` field. A span that cannot be read
 * is left out: nothing is written and the result is false.
 */
export function writeFramedSpan(
  w: ProtoWriter,
  span: ReadableSpan,
  st: AttributeState,
): boolean {
  const start = w.pos;
  try {
    w.need(3);
    w.byte(0x12);
    const at = w.begin(2);
    writeSpan(w, span, st);
    w.end(at, 2);
    return true;
  } catch {
    w.pos = start;
    return false;
  }
}

/** Writes the spans of one scope; how many went out. */
function writeSpans(w: ProtoWriter, spans: ReadableSpan[], st: AttributeState) {
  let written = 0;
  for (let i = 0; i < spans.length; i++) {
    if (writeFramedSpan(w, spans[i], st)) written++;
  }
  return written;
}

/**
 * `ResourceSpans` by resource, `ScopeSpans` by scope; none left empty.
 * `writeItems` writes one scope's spans (each as a framed `ScopeSpans.spans`
 * field) and says how many it wrote: from SDK spans here, from spans encoded
 * when they ended in `encoded_queue.ts`.
 */
export function writeResourceSpans<T>(
  w: ProtoWriter,
  groups: Map<unknown, Map<unknown, T>>,
  st: AttributeState,
  writeItems: (w: ProtoWriter, items: T) => number,
): void {
  for (const [resource, scopes] of groups) {
    const rsStart = w.pos;
    w.need(4);
    w.byte(0x0a);
    const rs = w.begin(3);
    if (!guarded(w, () => writeResource(w, resource, st))) {
      writeResource(w, undefined, st);
    }
    let written = 0;
    for (const [scope, spans] of scopes) {
      const ssStart = w.pos;
      w.need(4);
      w.byte(0x12);
      const ss = w.begin(3);
      if (!guarded(w, () => writeScope(w, scope as Scope, st))) {
        writeScope(w, undefined as unknown as Scope, st);
      }
      if (writeItems(w, spans) === 0) {
        w.pos = ssStart;
        continue;
      }
      guarded(w, () => writeSchemaUrl(w, scope));
      w.end(ss, 3);
      written++;
    }
    if (written === 0) {
      w.pos = rsStart;
      continue;
    }
    guarded(w, () => writeSchemaUrl(w, resource));
    w.end(rs, 3);
  }
}

/**
 * Creates llmtrace's one-pass OTLP/protobuf span writer, a drop-in for the
 * official `ProtobufTraceSerializer` in the OTLP exporter delegate.
 *
 * @param options See {@link OtlpSpanWriterOptions}.
 * @returns The writer. It keeps one scratch buffer between calls; the bytes
 * it returns are a fresh copy.
 */
export function createOtlpSpanWriter(
  options: OtlpSpanWriterOptions = {},
): OtlpSpanWriter {
  const keys = options?.doubleKeys ?? DOUBLE_ATTRIBUTE_KEYS;
  const doubleKeys = keys.size > 0 ? keys : undefined;
  const w = new ProtoWriter();
  const cache: KeyCache = new Map();
  return {
    serializeRequest(spans: ReadableSpan[]): Uint8Array {
      const st: AttributeState = {
        doubleKeys,
        budget: NESTED_BUDGET,
        keys: cache,
      };
      w.reset(KEEP_BYTES);
      try {
        writeResourceSpans(
          w,
          group(Array.isArray(spans) ? spans : []),
          st,
          (w, list) => writeSpans(w, list, st),
        );
        return w.finish();
      } catch {
        return new Uint8Array(0);
      } finally {
        w.reset(KEEP_BYTES);
      }
    },
    deserializeResponse: readExportTraceServiceResponse,
  };
}
