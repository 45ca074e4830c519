// The quick start's main job, run the way a user runs it (`deno run -A
// examples/demo.ts`, `bun examples/demo.ts`): it must exit 0 on its embedded
// defaults, fit 100 columns, print its four chat calls and one streamed call
// of each other wire API (Responses, Messages, Gemini), the 30 spans of its
// seven traces as waterfalls (the other APIs' router spans with their TTFT
// and tokens), and a TTFT / TPOT summary from metricsHandler() whose counts
// and means agree with what the demo's engine does (prefill 25 ms, decode
// 6 ms per token) and its provider stand-in (first content after 30 ms).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { isDeno, repoRoot, waitForExit } from "../support/helpers.ts";

const SERIES =
  /^\s+(TTFT|TPOT|TTFC) (llm_request \(engine\)|router \(tracedFetch\)|inference server)\s+(\d+) × mean\s+([\d.]+) ms · p50 ≈\s+([\d.]+) ms · p95 ≈\s+([\d.]+) ms$/;

test(
  "the demo runs on its defaults: 7 calls, 30 spans in 7 traces, a TTFT/TPOT summary, 100 columns",
  {
    timeout: 90_000,
  },
  async () => {
    const args = isDeno
      ? ["run", "-A", "--quiet", "examples/demo.ts"]
      : ["examples/demo.ts"];
    // The user's environment minus anything that would send spans elsewhere.
    const env: Record<string, string> = { NO_COLOR: "1" };
    for (const k of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
      const v = process.env[k];
      if (v !== undefined) env[k] = v;
    }
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const r = await waitForExit(child, 80_000, "examples/demo.ts");
    assert.equal(r.code, 0, `demo exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    const lines = r.stdout.split("\n");

    const wide = lines.filter((l) => [...l].length > 100);
    assert.deepEqual(wide, [], "lines wider than 100 columns");

    for (
      const label of [
        "streamed",
        "non-streamed",
        "cancelled by the client",
        "upstream down, falls back",
        "responses API, streamed",
        "messages API, streamed",
        "gemini API, streamed",
      ]
    ) {
      assert.ok(
        lines.some((l) =>
          new RegExp(`^${label} +trace [0-9a-f]{32} +(\\d+|-) tok "`).test(l)
        ),
        `no result line for "${label}":\n${r.stdout}`,
      );
    }
    assert.ok(lines.includes("30 spans in 7 traces"), r.stdout);
    const waterfalls = lines.filter((l) =>
      /^trace [0-9a-f]{32} +\d+ spans/.test(l)
    );
    assert.equal(waterfalls.length, 7, r.stdout);
    // The router's SERVER span and its CLIENT span to the provider, for each
    // other API: the line under each shows the time to the first content
    // delta (after the provider's 30 ms) and the tokens the API reported.
    for (
      const [span, tokens] of [
        ["POST /v1/responses (server)", "37→11"],
        ["chat gpt-4.1 (client)", "37→11"],
        ["POST /v1/messages (server)", "135→10"],
        ["chat claude-sonnet-4-5-20250929 (client)", "135→10"],
        ["POST /v1/models/{model}:streamGenerateConte…", "7→198"],
        ["generate_content gemini-2.5-flash (client)", "7→198"],
      ]
    ) {
      const at = lines.findIndex((l) => l.trim().startsWith(span));
      assert.ok(at >= 0, `no waterfall line for ${span}:\n${r.stdout}`);
      const m = /ttft ([\d.]+)ms · tok (\d+→\d+) · http 200/.exec(
        lines[at + 1],
      );
      assert.ok(m, `${span}: ${lines[at + 1]}`);
      assert.ok(Number(m[1]) >= 30, `${span}: ttft ${m[1]} ms`);
      assert.equal(m[2], tokens, span);
    }
    assert.equal(
      lines.filter((l) => l.trim().startsWith("llm_request")).length,
      4,
    );

    const series = new Map<
      string,
      { n: number; mean: number; p50: number; p95: number }
    >();
    for (const l of lines) {
      const m = SERIES.exec(l);
      if (m) {
        series.set(`${m[1]} ${m[2]}`, {
          n: Number(m[3]),
          mean: Number(m[4]),
          p50: Number(m[5]),
          p95: Number(m[6]),
        });
      }
    }
    // The router forwards with tracedFetch: no gen_ai.server.* of its own,
    // its view is the client's time to first chunk. The engine's traceHandler
    // may count the cancelled stream's first token (a cancel is no error)
    // when it reports before the engine's aborted llm_request.
    const keys = [...series.keys()].sort();
    assert.deepEqual(
      keys.filter((k) => k !== "TTFT inference server"),
      [
        "TPOT llm_request (engine)",
        "TTFC router (tracedFetch)",
        "TTFT llm_request (engine)",
      ],
      r.stdout,
    );
    // The engine finishes 3 answers (the cancelled one records no TTFT); the
    // router's calls: the 2 chat streams read to the end, the 3 other APIs'
    // and the cancelled one, whose first chunk came before the cancel.
    assert.equal(series.get("TTFT llm_request (engine)")!.n, 3);
    assert.equal(series.get("TTFC router (tracedFetch)")!.n, 6);
    for (const [name, s] of series) {
      assert.ok(s.p50 <= s.p95, `${name}: p50 ${s.p50} > p95 ${s.p95}`);
    }
    // No token comes before the 25 ms prefill; no two tokens closer than the
    // 6 ms decode step (means, from the histograms' sums and counts).
    assert.ok(series.get("TTFT llm_request (engine)")!.mean >= 25, r.stdout);
    assert.ok(
      series.get("TTFC router (tracedFetch)")!.mean >= 25,
      r.stdout,
    );
    assert.ok(series.get("TPOT llm_request (engine)")!.mean >= 6, r.stdout);
  },
);
