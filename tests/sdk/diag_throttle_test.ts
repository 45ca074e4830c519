// The SDK's diagnostics on the console: at most one line per 10 s for
// errors, warnings and infos (a collector that is down produces one export
// failure per batch and retry); the next line says what was left out, by
// kind, with the dropped spans added up; errors are shown as `name: message`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createConsoleDiagLogger, DIAG_WINDOW_MS } from "../../src/sdk/diag.ts";

function capture<T>(fn: (lines: string[]) => T): T {
  const lines: string[] = [];
  const saved = {
    error: console.error,
    warn: console.warn,
    info: console.info,
  };
  const push = (...a: unknown[]) => void lines.push(a.map(String).join(" "));
  console.error = push;
  console.warn = push;
  console.info = push;
  try {
    return fn(lines);
  } finally {
    Object.assign(console, saved);
  }
}

test("one line per window, then a count of what was left out", () => {
  let t = 1_000_000;
  const log = createConsoleDiagLogger(DIAG_WINDOW_MS, () => t);
  const lines = capture((lines) => {
    const fail = new Error("Fetch request errored", {
      cause: new TypeError("fetch failed"),
    });
    for (let i = 0; i < 500; i++) {
      log.error("export request failure", fail);
      if (i % 100 === 0) {
        log.warn(`Dropped ${i + 1} spans because maxQueueSize reached`);
      }
      t += 50; // 25 s of failures, 20 a second
    }
    return lines;
  });
  assert.equal(DIAG_WINDOW_MS, 10_000);
  // 25 s: a line at 0 s, 10 s and 20 s
  assert.equal(lines.length, 3, lines.join("\n"));
  assert.match(
    lines[0],
    /^llmtrace \(otel\): export request failure Error: Fetch request errored \(cause: TypeError: fetch failed\)$/,
  );
  assert.match(
    lines[1],
    /left out since the last line: .*199× export request failure/,
  );
  assert.match(lines[1], /spans dropped in all/);
  // everything is accounted for: the lines shown, the counts they carry,
  // and what is still held
  const count = (text: string) =>
    (text.match(/(\d+)× /g) ?? []).reduce((n, m) => n + parseInt(m), 0);
  const held = log.summary() ?? "";
  assert.equal(3 + count(lines.slice(1).join(" ")) + count(held), 505);
});

test("debug output is not held back; summary() tells what is still held", () => {
  const t = 0;
  const log = createConsoleDiagLogger(DIAG_WINDOW_MS, () => t);
  const debug: string[] = [];
  const savedDebug = console.debug;
  console.debug = (...a: unknown[]) => void debug.push(a.map(String).join(" "));
  try {
    capture(() => {
      log.warn("first");
      log.warn("second");
      log.warn("Dropped 7 spans because maxQueueSize reached");
    });
    for (let i = 0; i < 5; i++) log.debug(`d${i}`);
  } finally {
    console.debug = savedDebug;
  }
  assert.equal(debug.length, 5);
  const left = log.summary();
  assert.match(left ?? "", /1× second/);
  assert.match(left ?? "", /7 spans dropped in all/);
  assert.equal(log.summary(), undefined, "summary() empties what is held");
});
