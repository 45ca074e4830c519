/**
 * `ResourceMetrics` as Prometheus text exposition format 0.0.4, following
 * the OpenTelemetry → Prometheus compatibility specification: names and
 * label keys sanitized, the unit as a suffix (`s` → `_seconds`, `{token}`
 * dropped), `_total` on monotonic sums, histograms as cumulative
 * `_bucket{le=…}`, `_sum`, `_count`; `otel_scope_name`/`otel_scope_version`
 * labels; resource attributes in `target_info`.
 *
 * Written here because `@opentelemetry/exporter-prometheus`'s only entry
 * point also loads its HTTP server, which requires `node:http` (absent on
 * workerd) and is CommonJS only. Loaded only through `sdk.ts`.
 *
 * @module
 */
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import type { Attributes, AttributeValue } from "@opentelemetry/api";

/** The `content-type` of format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8";

// UCUM units the compatibility specification spells out; braces are
// annotations and drop out.
const UNITS: Record<string, string> = {
  d: "days",
  h: "hours",
  min: "minutes",
  s: "seconds",
  ms: "milliseconds",
  us: "microseconds",
  ns: "nanoseconds",
  By: "bytes",
  KiBy: "kibibytes",
  MiBy: "mebibytes",
  GiBy: "gibibytes",
  KBy: "kilobytes",
  MBy: "megabytes",
  GBy: "gigabytes",
  m: "meters",
  V: "volts",
  A: "amperes",
  J: "joules",
  W: "watts",
  g: "grams",
  Cel: "celsius",
  Hz: "hertz",
  "%": "percent",
};

function unitSuffix(unit: string, gauge: boolean): string {
  const u = unit.replace(/\{[^}]*\}/g, "").trim();
  if (u === "") return "";
  if (u === "1") return gauge ? "ratio" : "";
  const slash = u.indexOf("/");
  if (slash > 0) {
    const per = u.slice(slash + 1);
    const perWord = { s: "second", m: "minute", h: "hour", d: "day" }[per] ??
      sanitizeName(per);
    return `${
      UNITS[u.slice(0, slash)] ?? sanitizeName(u.slice(0, slash))
    }_per_${perWord}`;
  }
  return UNITS[u] ?? sanitizeName(u);
}

/**
 * A metric name by Prometheus rules: `[a-zA-Z_:][a-zA-Z0-9_:]*`, runs of
 * `_` collapsed.
 */
function sanitizeName(name: string): string {
  let s = name.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/_{2,}/g, "_");
  if (/^[0-9]/.test(s)) s = `_${s}`;
  return s;
}

/** A label name by Prometheus rules: `[a-zA-Z_][a-zA-Z0-9_]*`. */
function sanitizeLabel(name: string): string {
  let s = name.replace(/[^a-zA-Z0-9_]/g, "_").replace(/_{2,}/g, "_");
  if (/^[0-9]/.test(s)) s = `key_${s}`;
  return s;
}

/**
 * The Prometheus metric family name of an OpenTelemetry metric.
 *
 * @param name The OpenTelemetry name, e.g. `gen_ai.server.request.duration`.
 * @param unit Its UCUM unit, e.g. `s`.
 * @param kind `counter` adds `_total`; `gauge` turns unit `1` into `_ratio`.
 * @returns E.g. `gen_ai_server_request_duration_seconds`.
 */
function prometheusName(
  name: string,
  unit: string,
  kind: "counter" | "gauge" | "histogram",
): string {
  let s = sanitizeName(name);
  const suffix = unitSuffix(unit, kind === "gauge");
  if (suffix && !s.endsWith(`_${suffix}`)) s += `_${suffix}`;
  if (kind === "counter" && !s.endsWith("_total")) s += "_total";
  return s;
}

const escapeValue = (v: string) =>
  v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const escapeHelp = (v: string) =>
  v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function labelValue(v: AttributeValue | undefined): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return JSON.stringify(v);
  return String(v);
}

/** Sanitized labels; keys that collide are joined with `;`, as the spec says. */
function labels(attributes: Attributes, extra: Record<string, string>) {
  const out = new Map<string, string>();
  const put = (k: string, v: string) => {
    const key = sanitizeLabel(k);
    const prev = out.get(key);
    out.set(key, prev === undefined ? v : `${prev};${v}`);
  };
  for (const k of Object.keys(attributes).sort()) {
    put(k, labelValue(attributes[k]));
  }
  for (const [k, v] of Object.entries(extra)) put(k, v);
  return out;
}

function render(l: Map<string, string>, le?: string): string {
  const parts: string[] = [];
  for (const [k, v] of l) parts.push(`${k}="${escapeValue(v)}"`);
  if (le !== undefined) parts.push(`le="${le}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

/** A sample value: Go's `ParseFloat` reads JavaScript's number format. */
function num(n: number): string {
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return Number.isNaN(n) ? "NaN" : String(n);
}

interface Family {
  help: string;
  type: "counter" | "gauge" | "histogram";
  lines: string[];
}

function addMetric(
  families: Map<string, Family>,
  metric: MetricData,
  scope: Record<string, string>,
): void {
  const d = metric.descriptor;
  let type: Family["type"];
  if (metric.dataPointType === DataPointType.HISTOGRAM) type = "histogram";
  else if (
    metric.dataPointType === DataPointType.SUM && metric.isMonotonic
  ) type = "counter";
  else if (
    metric.dataPointType === DataPointType.SUM ||
    metric.dataPointType === DataPointType.GAUGE
  ) type = "gauge";
  else return; // exponential histograms: not produced by llmtrace
  if (
    type !== "gauge" &&
    metric.aggregationTemporality !== AggregationTemporality.CUMULATIVE
  ) return; // Prometheus needs cumulative counters and histograms
  const name = prometheusName(d.name, d.unit, type);
  let family = families.get(name);
  if (!family) {
    family = { help: d.description || d.name, type, lines: [] };
    families.set(name, family);
  }
  if (family.type !== type) return; // a name clash across types: keep the first
  const lines = family.lines;
  for (const p of metric.dataPoints) {
    const l = labels(p.attributes, scope);
    if (type !== "histogram") {
      lines.push(`${name}${render(l)} ${num(p.value as number)}`);
      continue;
    }
    const hv = p.value as {
      buckets: { boundaries: number[]; counts: number[] };
      sum?: number;
      count: number;
    };
    let cumulative = 0;
    const { boundaries, counts } = hv.buckets;
    for (let i = 0; i < boundaries.length; i++) {
      cumulative += counts[i] ?? 0;
      lines.push(
        `${name}_bucket${render(l, num(boundaries[i]))} ${cumulative}`,
      );
    }
    lines.push(`${name}_bucket${render(l, "+Inf")} ${hv.count}`);
    lines.push(`${name}_sum${render(l)} ${num(hv.sum ?? 0)}`);
    lines.push(`${name}_count${render(l)} ${hv.count}`);
  }
}

/**
 * Renders one collection as Prometheus text format 0.0.4.
 *
 * @param rm The collected metrics (cumulative temporality).
 * @returns The exposition text, ending with a newline.
 */
export function serializePrometheus(rm: ResourceMetrics): string {
  const families = new Map<string, Family>();
  for (const sm of rm.scopeMetrics) {
    const scope: Record<string, string> = {
      otel_scope_name: sm.scope.name,
    };
    if (sm.scope.version) scope.otel_scope_version = sm.scope.version;
    for (const metric of sm.metrics) addMetric(families, metric, scope);
  }
  let out = "# HELP target_info Target metadata\n# TYPE target_info gauge\n" +
    `target_info${render(labels(rm.resource.attributes, {}))} 1\n`;
  for (const [name, f] of families) {
    if (f.lines.length === 0) continue;
    out += `# HELP ${name} ${escapeHelp(f.help)}\n# TYPE ${name} ${f.type}\n`;
    out += f.lines.join("\n") + "\n";
  }
  return out;
}
