/**
 * A small, strict parser of the Prometheus text exposition format 0.0.4, for
 * tests: every line must be a `# HELP`/`# TYPE` comment or a sample, every
 * sample must belong to the family its `# TYPE` announced, label values are
 * unescaped. Independent of the serializer under test.
 *
 * @module
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A metric family: `# HELP`, `# TYPE` and its samples. */
export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseValue(s: string, line: string): number {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  const v = Number(s);
  if (s === "" || Number.isNaN(v)) throw new Error(`bad value in: ${line}`);
  return v;
}

function parseLabels(s: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf("=", i);
    if (eq < 0) throw new Error(`bad labels in: ${line}`);
    const key = s.slice(i, eq);
    if (!LABEL.test(key)) {
      throw new Error(`bad label name '${key}' in: ${line}`);
    }
    if (s[eq + 1] !== '"') throw new Error(`unquoted label value in: ${line}`);
    let j = eq + 2;
    let value = "";
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === "\\") {
        const c = s[++j];
        value += c === "n" ? "\n" : c;
      } else value += s[j];
    }
    if (j >= s.length) throw new Error(`unterminated label value in: ${line}`);
    if (key in out) throw new Error(`duplicate label '${key}' in: ${line}`);
    out[key] = value;
    i = j + 1;
    if (s[i] === ",") i++;
    else if (i < s.length) throw new Error(`bad label separator in: ${line}`);
  }
  return out;
}

function familyOf(sample: string, families: Map<string, Family>) {
  if (families.has(sample)) return families.get(sample);
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (sample.endsWith(suffix)) {
      const f = families.get(sample.slice(0, -suffix.length));
      if (f && (f.type === "histogram" || f.type === "summary")) return f;
    }
  }
  return undefined;
}

/**
 * Parses exposition text into families, keyed by name.
 *
 * @throws {Error} naming the offending line for anything malformed.
 */
export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  if (!text.endsWith("\n")) throw new Error("exposition must end with \\n");
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ")) {
      const [name, ...rest] = line.slice(7).split(" ");
      if (!NAME.test(name)) throw new Error(`bad name in: ${line}`);
      const f = families.get(name) ??
        { name, type: "untyped", help: "", samples: [] };
      f.help = rest.join(" ").replace(/\\n/g, "\n").replace(/\\\\/g, "\\");
      families.set(name, f);
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [name, type] = line.slice(7).split(" ");
      if (!NAME.test(name)) throw new Error(`bad name in: ${line}`);
      if (
        !["counter", "gauge", "histogram", "summary", "untyped"].includes(type)
      ) {
        throw new Error(`bad type in: ${line}`);
      }
      const f = families.get(name) ?? { name, type, help: "", samples: [] };
      if (f.samples.length) throw new Error(`TYPE after samples: ${line}`);
      f.type = type;
      families.set(name, f);
      continue;
    }
    if (line.startsWith("#") || line === "") {
      throw new Error(`unexpected line: '${line}'`);
    }
    const brace = line.indexOf("{");
    let name: string;
    let labels: Record<string, string> = {};
    let rest: string;
    if (brace >= 0) {
      name = line.slice(0, brace);
      const close = line.lastIndexOf("}");
      labels = parseLabels(line.slice(brace + 1, close), line);
      rest = line.slice(close + 1);
    } else {
      const sp = line.indexOf(" ");
      name = line.slice(0, sp);
      rest = line.slice(sp);
    }
    if (!NAME.test(name)) throw new Error(`bad sample name in: ${line}`);
    const parts = rest.trim().split(" ");
    if (parts.length < 1 || parts.length > 2) {
      throw new Error(`bad sample in: ${line}`);
    }
    const f = familyOf(name, families);
    if (!f) throw new Error(`sample without # TYPE: ${line}`);
    f.samples.push({ name, labels, value: parseValue(parts[0], line) });
  }
  return families;
}

/** A histogram series of a family, by exact labels (without `le`). */
export interface HistogramSeries {
  labels: Record<string, string>;
  /** Cumulative bucket counts by `le` (bounds ascending, `+Inf` last). */
  buckets: [number, number][];
  sum: number;
  count: number;
}

const keyOf = (l: Record<string, string>) =>
  JSON.stringify(
    Object.entries(l).filter(([k]) => k !== "le").sort(([a], [b]) =>
      a < b ? -1 : 1
    ),
  );

/** The histogram series of a family, checked for consistency. */
export function histograms(f: Family): HistogramSeries[] {
  if (f.type !== "histogram") throw new Error(`${f.name} is a ${f.type}`);
  const series = new Map<string, HistogramSeries>();
  for (const s of f.samples) {
    const k = keyOf(s.labels);
    const { le: _le, ...labels } = s.labels;
    const h = series.get(k) ??
      { labels, buckets: [], sum: NaN, count: NaN };
    series.set(k, h);
    if (s.name === `${f.name}_bucket`) {
      if (s.labels.le === undefined) throw new Error(`bucket without le`);
      h.buckets.push([parseValue(s.labels.le, s.name), s.value]);
    } else if (s.name === `${f.name}_sum`) h.sum = s.value;
    else if (s.name === `${f.name}_count`) h.count = s.value;
    else throw new Error(`unexpected sample ${s.name} in ${f.name}`);
  }
  for (const h of series.values()) {
    const last = h.buckets.at(-1);
    if (!last || last[0] !== Infinity) throw new Error(`${f.name}: no +Inf`);
    if (last[1] !== h.count) throw new Error(`${f.name}: +Inf != _count`);
    for (let i = 1; i < h.buckets.length; i++) {
      if (!(h.buckets[i][0] > h.buckets[i - 1][0])) {
        throw new Error(`${f.name}: le not ascending`);
      }
      if (h.buckets[i][1] < h.buckets[i - 1][1]) {
        throw new Error(`${f.name}: buckets not cumulative`);
      }
    }
  }
  return [...series.values()];
}
