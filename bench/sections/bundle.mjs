// Section 5 ("bundle"): bench/bundle.mjs's esbuild sizes of the edge bundle.
import { log, NODE, results, run as runProcess } from "../lib/harness.mjs";
import { kb } from "../lib/stats.mjs";

export async function run() {
  const r = await runProcess(undefined, NODE, ["bench/bundle.mjs"], {}, 60000);
  results.bundle = JSON.parse(r.out.trim().split("\n").pop());
  log(
    `bundle core ${results.bundle.core.gzip} B gz, lazy ${results.bundle.lazy.gzip} B gz`,
  );
}

export function report(L) {
  if (results.bundle) {
    const b = results.bundle;
    L.push(
      "## 5. Edge bundle (esbuild, minified ESM, platform browser, es2022)",
      "",
    );
    L.push(
      "| part | files | minified KiB | gzip -9 KiB |",
      "|---|---:|---:|---:|",
    );
    L.push(
      `| core: what \`import "mod.ts"\` loads (entry + shared chunk) | ${b.core.files} | ${
        kb(b.core.raw)
      } | ${kb(b.core.gzip)} |`,
    );
    L.push(
      `| lazy: the SDK chunk \`initTracer\` imports (src/sdk/bundle.ts) | ${b.lazy.files} | ${
        kb(b.lazy.raw)
      } | ${kb(b.lazy.gzip)} |`,
    );
    L.push(
      `| everything in one file (no splitting) | ${b.single.files} | ${
        kb(b.single.raw)
      } | ${kb(b.single.gzip)} |`,
    );
    L.push(
      "",
      "Chunks: " +
        Object.entries(b.chunks).map(([k, v]) =>
          `\`${k}\` ${kb(v.bytes)} KiB${v.core ? " (core)" : " (lazy)"}`
        ).join(", "),
      "",
    );
  }
}
