/**
 * A real OTLP/HTTP metrics receiver for tests: `POST /v1/metrics` with an
 * `ExportMetricsServiceRequest`, decoded with protobufjs and messages
 * declared here by hand from the opentelemetry-proto field numbers (the
 * common ones shared with `otlp_receiver.ts`), so the decoding is
 * independent of the exporter's serializer.
 *
 * @module
 */
import protobuf from "protobufjs";
import {
  type AttrValue,
  decodeAttrs,
  type Int64,
  type PbKeyValue,
  readBody,
  SCHEMA,
  toBigInt,
  type TypedAttr,
} from "./otlp_receiver.ts";
import { serveLoopback } from "./servers.ts";

const rep = (type: string, id: number) => ({ rule: "repeated", type, id });
const one = (type: string, id: number) => ({ type, id });

// opentelemetry/proto/metrics/v1/metrics.proto and
// collector/metrics/v1/metrics_service.proto (exemplars left out: protobufjs
// skips fields it does not know).
const METRICS = {
  ExportMetricsServiceRequest: {
    fields: { resourceMetrics: rep("ResourceMetrics", 1) },
  },
  ExportMetricsServiceResponse: {
    fields: { partialSuccess: one("ExportMetricsPartialSuccess", 1) },
  },
  ExportMetricsPartialSuccess: {
    fields: {
      rejectedDataPoints: one("int64", 1),
      errorMessage: one("string", 2),
    },
  },
  ResourceMetrics: {
    fields: {
      resource: one("Resource", 1),
      scopeMetrics: rep("ScopeMetrics", 2),
      schemaUrl: one("string", 3),
    },
  },
  ScopeMetrics: {
    fields: {
      scope: one("InstrumentationScope", 1),
      metrics: rep("Metric", 2),
      schemaUrl: one("string", 3),
    },
  },
  Metric: {
    oneofs: {
      data: {
        oneof: ["gauge", "sum", "histogram", "exponentialHistogram", "summary"],
      },
    },
    fields: {
      name: one("string", 1),
      description: one("string", 2),
      unit: one("string", 3),
      gauge: one("Gauge", 5),
      sum: one("Sum", 7),
      histogram: one("Histogram", 9),
      exponentialHistogram: one("Opaque", 10),
      summary: one("Opaque", 11),
      metadata: rep("KeyValue", 12),
    },
  },
  Opaque: { fields: {} },
  Gauge: { fields: { dataPoints: rep("NumberDataPoint", 1) } },
  Sum: {
    fields: {
      dataPoints: rep("NumberDataPoint", 1),
      aggregationTemporality: one("int32", 2),
      isMonotonic: one("bool", 3),
    },
  },
  Histogram: {
    fields: {
      dataPoints: rep("HistogramDataPoint", 1),
      aggregationTemporality: one("int32", 2),
    },
  },
  NumberDataPoint: {
    oneofs: { value: { oneof: ["asDouble", "asInt"] } },
    fields: {
      attributes: rep("KeyValue", 7),
      startTimeUnixNano: one("fixed64", 2),
      timeUnixNano: one("fixed64", 3),
      asDouble: one("double", 4),
      asInt: one("sfixed64", 6),
      flags: one("uint32", 8),
    },
  },
  HistogramDataPoint: {
    // proto3 `optional`: explicit presence, as protoc declares it (a sum of
    // 0 is sent and must decode as 0, not as absent).
    oneofs: {
      _sum: { oneof: ["sum"] },
      _min: { oneof: ["min"] },
      _max: { oneof: ["max"] },
    },
    fields: {
      attributes: rep("KeyValue", 9),
      startTimeUnixNano: one("fixed64", 2),
      timeUnixNano: one("fixed64", 3),
      count: one("fixed64", 4),
      sum: one("double", 5),
      bucketCounts: rep("fixed64", 6),
      explicitBounds: rep("double", 7),
      flags: one("uint32", 10),
      min: one("double", 11),
      max: one("double", 12),
    },
  },
};

const root = protobuf.Root.fromJSON({
  nested: {
    otlp: { nested: { ...SCHEMA.nested.otlp.nested, ...METRICS } },
  },
} as protobuf.INamespace);
const RequestType = root.lookupType("otlp.ExportMetricsServiceRequest");
const ResponseType = root.lookupType("otlp.ExportMetricsServiceResponse");
const EMPTY_RESPONSE: Uint8Array = ResponseType.encode(ResponseType.create({}))
  .finish();

/** One data point: number points have `value`, histogram points the rest. */
export interface ReceivedPoint {
  attributes: Record<string, AttrValue>;
  attributeTypes: Record<string, TypedAttr["type"]>;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  value?: number;
  /** How a number point's value was sent. */
  valueType?: "double" | "int";
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
  min?: number;
  max?: number;
}

/** One metric of one export request, with its resource and scope. */
export interface ReceivedMetric {
  name: string;
  description: string;
  unit: string;
  type: "gauge" | "sum" | "histogram" | "exponentialHistogram" | "summary";
  temporality: "unspecified" | "delta" | "cumulative";
  isMonotonic?: boolean;
  points: ReceivedPoint[];
  resource: Record<string, AttrValue>;
  scope: { name: string; version: string };
}

/** One accepted export request. */
export interface ReceivedExport {
  /** `Date.now()` when it arrived. */
  at: number;
  headers: Headers;
  metrics: ReceivedMetric[];
}

interface PbNumberPoint {
  attributes?: PbKeyValue[];
  startTimeUnixNano?: Int64;
  timeUnixNano?: Int64;
  asDouble?: number;
  asInt?: Int64;
}
interface PbHistogramPoint {
  attributes?: PbKeyValue[];
  startTimeUnixNano?: Int64;
  timeUnixNano?: Int64;
  count?: Int64;
  sum?: number;
  bucketCounts?: Int64[];
  explicitBounds?: number[];
  min?: number;
  max?: number;
}
interface PbMetric {
  name?: string;
  description?: string;
  unit?: string;
  gauge?: { dataPoints?: PbNumberPoint[] };
  sum?: {
    dataPoints?: PbNumberPoint[];
    aggregationTemporality?: number;
    isMonotonic?: boolean;
  };
  histogram?: {
    dataPoints?: PbHistogramPoint[];
    aggregationTemporality?: number;
  };
  exponentialHistogram?: unknown;
  summary?: unknown;
}
interface PbRequest {
  resourceMetrics?: {
    resource?: { attributes?: PbKeyValue[] };
    scopeMetrics?: {
      scope?: { name?: string; version?: string };
      metrics?: PbMetric[];
    }[];
  }[];
}

const has = (o: object, k: string) =>
  Object.prototype.hasOwnProperty.call(o, k);
const TEMPORALITY = ["unspecified", "delta", "cumulative"] as const;
const n = (v: Int64 | undefined) => Number(toBigInt(v, false));

function basePoint(p: PbNumberPoint | PbHistogramPoint): ReceivedPoint {
  const a = decodeAttrs(p.attributes);
  return {
    attributes: a.values,
    attributeTypes: a.types,
    startTimeUnixNano: toBigInt(p.startTimeUnixNano, false),
    timeUnixNano: toBigInt(p.timeUnixNano, false),
  };
}

function numberPoint(p: PbNumberPoint): ReceivedPoint {
  const out = basePoint(p);
  if (has(p, "asDouble")) {
    out.value = p.asDouble;
    out.valueType = "double";
  } else if (has(p, "asInt")) {
    out.value = Number(toBigInt(p.asInt, true));
    out.valueType = "int";
  }
  return out;
}

function histogramPoint(p: PbHistogramPoint): ReceivedPoint {
  const out = basePoint(p);
  out.count = n(p.count);
  if (has(p, "sum")) out.sum = p.sum;
  out.bucketCounts = (p.bucketCounts ?? []).map(n);
  out.explicitBounds = [...(p.explicitBounds ?? [])];
  if (has(p, "min")) out.min = p.min;
  if (has(p, "max")) out.max = p.max;
  return out;
}

/** Decodes a binary ExportMetricsServiceRequest. Throws on malformed input. */
export function decodeExportMetricsRequest(
  bytes: Uint8Array,
): ReceivedMetric[] {
  const msg = RequestType.decode(bytes) as unknown as PbRequest;
  const out: ReceivedMetric[] = [];
  for (const rm of msg.resourceMetrics ?? []) {
    const resource = decodeAttrs(rm.resource?.attributes).values;
    for (const sm of rm.scopeMetrics ?? []) {
      const scope = {
        name: sm.scope?.name ?? "",
        version: sm.scope?.version ?? "",
      };
      for (const m of sm.metrics ?? []) {
        const base = {
          name: m.name ?? "",
          description: m.description ?? "",
          unit: m.unit ?? "",
          resource,
          scope,
        };
        if (m.histogram) {
          out.push({
            ...base,
            type: "histogram",
            temporality: TEMPORALITY[m.histogram.aggregationTemporality ?? 0],
            points: (m.histogram.dataPoints ?? []).map(histogramPoint),
          });
        } else if (m.sum) {
          out.push({
            ...base,
            type: "sum",
            temporality: TEMPORALITY[m.sum.aggregationTemporality ?? 0],
            isMonotonic: m.sum.isMonotonic ?? false,
            points: (m.sum.dataPoints ?? []).map(numberPoint),
          });
        } else if (m.gauge) {
          out.push({
            ...base,
            type: "gauge",
            temporality: "unspecified",
            points: (m.gauge.dataPoints ?? []).map(numberPoint),
          });
        } else {
          out.push({
            ...base,
            type: m.summary ? "summary" : "exponentialHistogram",
            temporality: "unspecified",
            points: [],
          });
        }
      }
    }
  }
  return out;
}

/** A running metrics receiver; see {@link startOtlpMetricsReceiver}. */
export interface OtlpMetricsReceiver {
  /** `http://127.0.0.1:PORT/v1/metrics`. */
  url: string;
  /** `http://127.0.0.1:PORT`, for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  endpoint: string;
  /** Accepted export requests, in arrival order (a copy). */
  exports(): ReceivedExport[];
  /** Every request with the status it got (`path`, `status`, `contentType`). */
  requests(): { path: string; status: number; contentType: string | null }[];
  /** The newest metric of that name (cumulative: the totals so far). */
  latest(name: string): ReceivedMetric | undefined;
  /** Polls every 20 ms until `predicate(exports())`; rejects after `timeoutMs` (5000). */
  waitFor(
    predicate: (e: ReceivedExport[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedExport[]>;
  /** Forgets everything received. */
  clear(): void;
  /** Stops the server. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a metrics receiver on 127.0.0.1 with a random port. `status`
 * decides each answer (default 200; a non-2xx answer is not recorded).
 * Always `close()` it.
 */
export async function startOtlpMetricsReceiver(
  options: { status?: (index: number) => number } = {},
): Promise<OtlpMetricsReceiver> {
  let exports: ReceivedExport[] = [];
  let requests: { path: string; status: number; contentType: string | null }[] =
    [];
  const server = await serveLoopback(async (req) => {
    const path = new URL(req.url).pathname;
    const contentType = req.headers.get("content-type");
    const record = { path, status: 0, contentType };
    requests.push(record);
    const answer = (status: number, body: BodyInit | null = null) => {
      record.status = status;
      return new Response(body, { status });
    };
    if (path !== "/v1/metrics") {
      await req.body?.cancel();
      return answer(404);
    }
    if (req.method !== "POST") return answer(405);
    const body = await readBody(req);
    if ((contentType ?? "").split(";")[0].trim() !== "application/x-protobuf") {
      return answer(415);
    }
    let metrics: ReceivedMetric[];
    try {
      metrics = decodeExportMetricsRequest(body);
    } catch (e) {
      return answer(400, `decode error: ${(e as Error).message}`);
    }
    const status = options.status?.(requests.length - 1) ?? 200;
    if (status >= 200 && status < 300) {
      exports.push({
        at: Date.now(),
        headers: new Headers(req.headers),
        metrics,
      });
      record.status = status;
      return new Response(EMPTY_RESPONSE.slice(), {
        status,
        headers: { "content-type": "application/x-protobuf" },
      });
    }
    return answer(status);
  });
  const endpoint = `http://127.0.0.1:${server.port}`;
  let closing: Promise<void> | undefined;
  return {
    url: `${endpoint}/v1/metrics`,
    endpoint,
    exports: () => exports.slice(),
    requests: () => requests.slice(),
    latest(name) {
      for (let i = exports.length - 1; i >= 0; i--) {
        const m = exports[i].metrics.find((x) => x.name === name);
        if (m) return m;
      }
      return undefined;
    },
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        if (predicate(exports.slice())) return exports.slice();
        if (Date.now() >= deadline) {
          throw new Error(
            `waitFor: timed out after ${timeoutMs}ms; ${exports.length} ` +
              `export(s): ${
                JSON.stringify(exports.map((e) => e.metrics.map((m) => m.name)))
              }; statuses ${JSON.stringify(requests.map((r) => r.status))}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    clear() {
      exports = [];
      requests = [];
    },
    close: () => (closing ??= server.stop()),
  };
}
