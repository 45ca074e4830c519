// GC pauses from the runtimes' own GC logs, split into segments at the marks
// the harness makes (one per SIGUSR2 it sends the server).
//
// Bun (JSC, BUN_JSC_logGC=1, on stderr): every stop-the-world increment of a
// collection logs one line with `p=<ms>ms`, the time the mutator was stopped
// for it. Mark: the server's `MARK <seq>` line on stderr (GC_MARK=1).
// Deno (V8, --v8-flags=--trace-gc, on stdout): one line per collection,
// `... ms: Scavenge 3.9 (5.2) -> 3.5 (6.0) MB, pooled: 0.0 MB, 1.10 / 0.00 ms
// ...`; the first figure is the pause; a Mark-Compact adds `(+ 4.6 ms in 81
// steps since start of marking, ...)`, incremental marking steps that ran on
// the main thread before it: counted in GC time, and the biggest step in the
// max pause. Mark: the
// server's `LAG <seq>` line, on the same stdout (the server runs under
// `stdbuf -oL`, so V8's lines are not held back in stdio's buffer).
const JSC_PAUSE = /^\[GC<[^>]*>:.*?\bp=([\d.]+)ms/;
const V8_LINE = /^\[\d+:0x[0-9a-f]+\]/;
const V8_PAUSE =
  /ms: [^,]*? MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms(?: \(\+ ([\d.]+) ms in \d+ steps[^)]*?biggest step ([\d.]+) ms)?/;

export class GcLog {
  constructor(rt) {
    this.rt = rt;
    // segment i: what was logged between mark i and mark i + 1 (segment 0:
    // from the process start)
    this.segments = [newSegment()];
    this.unparsed = 0;
    // the GC lines and marks as read, for a look afterwards (bench/.tmp)
    this.lines = [];
  }

  // start()'s onLine: false for the GC lines (not kept in the child's out).
  onLine = (stream, line) => {
    if (this.rt === "deno") {
      if (stream !== "stdout") return true;
      if (V8_LINE.test(line)) {
        this.lines.push(line);
        const m = V8_PAUSE.exec(line);
        if (m) this.#add(Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0));
        else if (/ ms: (Scavenge|Mark|Minor)/.test(line)) this.unparsed++;
        return false;
      }
      if (/^LAG \d+ /.test(line)) this.#mark(line);
      return true;
    }
    if (stream !== "stderr") return true;
    if (line.startsWith("[GC<")) {
      this.lines.push(line);
      const m = JSC_PAUSE.exec(line);
      if (m) this.#add(Number(m[1]), 0, 0);
      return false;
    }
    if (/^MARK \d+$/.test(line)) {
      this.#mark(line);
      return false;
    }
    // JSC's logGC also says why it collects, and "GC END!"
    return !/^(Requesting GC|GC END!)/.test(line);
  };

  #mark(line) {
    this.segments.push(newSegment());
    this.lines.push(`--- ${line}`);
  }

  #add(pauseMs, stepsMs, biggestStepMs) {
    const s = this.segments[this.segments.length - 1];
    s.pauses.push(pauseMs);
    s.totalMs += pauseMs + stepsMs;
    if (biggestStepMs > s.maxStepMs) s.maxStepMs = biggestStepMs;
  }

  // The summary of segment i over `seconds`: pauses, max and p50 pause (the
  // max also counts V8's biggest incremental marking step: the main thread
  // stops for it as for a pause), GC time and GC time per second.
  summary(i, seconds) {
    const s = this.segments[i];
    if (!s) return undefined;
    const p = [...s.pauses].sort((a, b) => a - b);
    return {
      pauses: p.length,
      maxMs: Math.max(p.length ? p[p.length - 1] : 0, s.maxStepMs),
      p50Ms: p.length ? p[(p.length - 1) >> 1] : 0,
      totalMs: s.totalMs,
      msPerSec: s.totalMs / seconds,
    };
  }
}

function newSegment() {
  return { pauses: [], totalMs: 0, maxStepMs: 0 };
}
