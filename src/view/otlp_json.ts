/**
 * Decodes an OTLP/JSON `ExportTraceServiceRequest` into {@link ViewSpan}s.
 *
 * OTLP/JSON is the proto3 JSON mapping with OTLP's exceptions: trace and span
 * ids are hex strings (not base64), enums may be integers or their names,
 * 64-bit integers may be strings or numbers, and field names may be
 * lowerCamelCase or the proto's snake_case. Unknown fields are ignored.
 *
 * @module
 */
import {
  type Attributes,
  type AttrValue,
  OtlpDecodeError,
  type ViewSpan,
} from "./model.ts";

const MAX_DEPTH = 32;
type Obj = Record<string, unknown>;

const KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS: Record<string, number> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

function fail(path: string, what: string): never {
  throw new OtlpDecodeError(`malformed OTLP/JSON at ${path}: ${what}`);
}

function field(o: Obj, camel: string, snake: string): unknown {
  return o[camel] ?? o[snake];
}

function obj(v: unknown, path: string): Obj {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) {
    fail(path, `expected an object, got ${JSON.stringify(v)}`);
  }
  return v as Obj;
}

function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, "expected an array");
  return v;
}

function str(v: unknown, path: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") fail(path, `expected a string, got ${typeof v}`);
  return v;
}

// Ids are hex; one that is not (a buggy exporter's link, say) is kept as
// sent rather than refusing the whole batch: the page shows it as text.
function hexId(v: unknown, path: string): string {
  const s = str(v, path);
  return /^[0-9a-fA-F]*$/.test(s) ? s.toLowerCase() : s;
}

function int(v: unknown, path: string): number | bigint {
  // An int64 past 2^53 written as a JSON number: keep it a bigint, as the
  // same value from protobuf is.
  if (typeof v === "number" && Number.isInteger(v)) {
    return Number.isSafeInteger(v) ? v : BigInt(v);
  }
  if (typeof v === "string" && /^-?\d+$/.test(v)) {
    const b = BigInt(v);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) &&
        b <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(b)
      : b;
  }
  fail(path, `expected an integer, got ${JSON.stringify(v)}`);
}

function nanos(v: unknown, path: string): bigint {
  if (v === undefined || v === null) return 0n;
  const n = int(v, path);
  if (n < 0) fail(path, "expected a non-negative time");
  return BigInt(n);
}

function enumValue(
  v: unknown,
  names: Record<string, number>,
  path: string,
): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && v in names) return names[v];
  fail(path, `expected one of ${Object.keys(names).join(", ")}`);
}

function double(v: unknown, path: string): number {
  if (typeof v === "number") return v;
  // proto3 JSON writes the non-finite doubles as strings.
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  if (typeof v === "string" && v.trim() !== "" && !isNaN(Number(v))) {
    return Number(v);
  }
  fail(path, `expected a number, got ${JSON.stringify(v)}`);
}

function base64(v: unknown, path: string): Uint8Array {
  const s = str(v, path).replace(/-/g, "+").replace(/_/g, "/");
  try {
    const bin = atob(s);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    fail(path, "expected base64");
  }
}

function anyValue(v: unknown, path: string, depth: number): AttrValue {
  if (depth > MAX_DEPTH) fail(path, `AnyValue nested deeper than ${MAX_DEPTH}`);
  const o = obj(v, path);
  let x: unknown;
  if ((x = field(o, "stringValue", "string_value")) !== undefined) {
    return str(x, `${path}.stringValue`);
  }
  if ((x = field(o, "boolValue", "bool_value")) !== undefined) {
    if (typeof x !== "boolean") fail(`${path}.boolValue`, "expected a boolean");
    return x;
  }
  if ((x = field(o, "intValue", "int_value")) !== undefined) {
    return int(x, `${path}.intValue`);
  }
  if ((x = field(o, "doubleValue", "double_value")) !== undefined) {
    return double(x, `${path}.doubleValue`);
  }
  if ((x = field(o, "arrayValue", "array_value")) !== undefined) {
    const p = `${path}.arrayValue.values`;
    return list(obj(x, p).values, p).map((e, i) =>
      anyValue(e, `${p}[${i}]`, depth + 1)
    );
  }
  if ((x = field(o, "kvlistValue", "kvlist_value")) !== undefined) {
    const p = `${path}.kvlistValue.values`;
    return attributes(obj(x, p).values, p, depth + 1);
  }
  if ((x = field(o, "bytesValue", "bytes_value")) !== undefined) {
    return base64(x, `${path}.bytesValue`);
  }
  return null;
}

function attributes(v: unknown, path: string, depth = 0): Attributes {
  const out: Attributes = {};
  list(v, path).forEach((kv, i) => {
    const o = obj(kv, `${path}[${i}]`);
    Object.defineProperty(out, str(o.key, `${path}[${i}].key`), {
      value: anyValue(o.value, `${path}[${i}].value`, depth),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
  return out;
}

function span(
  v: unknown,
  path: string,
  resource: Attributes,
  scope: ViewSpan["scope"],
): ViewSpan {
  const o = obj(v, path);
  const st = obj(o.status, `${path}.status`);
  const parent = hexId(
    field(o, "parentSpanId", "parent_span_id"),
    `${path}.parentSpanId`,
  );
  return {
    traceId: hexId(field(o, "traceId", "trace_id"), `${path}.traceId`),
    spanId: hexId(field(o, "spanId", "span_id"), `${path}.spanId`),
    parentSpanId: parent || undefined,
    traceState: str(
      field(o, "traceState", "trace_state"),
      `${path}.traceState`,
    ),
    flags: Number(o.flags ?? 0) >>> 0,
    name: str(o.name, `${path}.name`),
    kind: enumValue(o.kind, KINDS, `${path}.kind`),
    startTimeUnixNano: nanos(
      field(o, "startTimeUnixNano", "start_time_unix_nano"),
      `${path}.startTimeUnixNano`,
    ),
    endTimeUnixNano: nanos(
      field(o, "endTimeUnixNano", "end_time_unix_nano"),
      `${path}.endTimeUnixNano`,
    ),
    attributes: attributes(o.attributes, `${path}.attributes`),
    events: list(o.events, `${path}.events`).map((e, i) => {
      const p = `${path}.events[${i}]`;
      const eo = obj(e, p);
      return {
        name: str(eo.name, `${p}.name`),
        timeUnixNano: nanos(
          field(eo, "timeUnixNano", "time_unix_nano"),
          `${p}.timeUnixNano`,
        ),
        attributes: attributes(eo.attributes, `${p}.attributes`),
      };
    }),
    links: list(o.links, `${path}.links`).map((l, i) => {
      const p = `${path}.links[${i}]`;
      const lo = obj(l, p);
      return {
        traceId: hexId(field(lo, "traceId", "trace_id"), `${p}.traceId`),
        spanId: hexId(field(lo, "spanId", "span_id"), `${p}.spanId`),
        traceState: str(
          field(lo, "traceState", "trace_state"),
          `${p}.traceState`,
        ),
        attributes: attributes(lo.attributes, `${p}.attributes`),
      };
    }),
    status: {
      code: enumValue(st.code, STATUS, `${path}.status.code`),
      message: str(st.message, `${path}.status.message`),
    },
    resource,
    scope,
  };
}

/**
 * The spans of an OTLP/JSON `ExportTraceServiceRequest` (already parsed).
 *
 * @throws {OtlpDecodeError} when a field has the wrong shape.
 */
export function decodeTraceJson(body: unknown): ViewSpan[] {
  const out: ViewSpan[] = [];
  const root = obj(body, "$");
  list(field(root, "resourceSpans", "resource_spans"), "$.resourceSpans")
    .forEach((rs, i) => {
      const rp = `$.resourceSpans[${i}]`;
      const ro = obj(rs, rp);
      const resource = attributes(
        obj(ro.resource, `${rp}.resource`).attributes,
        `${rp}.resource.attributes`,
      );
      list(field(ro, "scopeSpans", "scope_spans"), `${rp}.scopeSpans`)
        .forEach((ss, j) => {
          const sp = `${rp}.scopeSpans[${j}]`;
          const so = obj(ss, sp);
          const sc = obj(so.scope, `${sp}.scope`);
          const scope = {
            name: str(sc.name, `${sp}.scope.name`),
            version: str(sc.version, `${sp}.scope.version`),
          };
          list(so.spans, `${sp}.spans`).forEach((s, k) =>
            out.push(span(s, `${sp}.spans[${k}]`, resource, scope))
          );
        });
    });
  return out;
}
