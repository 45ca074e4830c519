// Edge bundle size of mod.ts with esbuild: minified ESM for the browser/edge
// platform with code splitting, so the lazily imported SDK (src/sdk/bundle.ts) lands
// in its own chunk(s). Prints JSON: the core (what `import` of mod.ts loads)
// and the lazy part (what initTracer's dynamic import loads), raw and gzipped.
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

// BENCH_MOD / LLMTRACE_MOD: bundle another tree's mod.ts (see run.mjs).
const other = process.env.LLMTRACE_MOD ?? process.env.BENCH_MOD;
const root = other
  ? dirname(other)
  : join(dirname(fileURLToPath(import.meta.url)), "..");
const common = {
  absWorkingDir: root,
  entryPoints: ["mod.ts"],
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  write: false,
  metafile: true,
  logLevel: "error",
};
const size = (files) => {
  let raw = 0, gz = 0;
  for (const f of files) {
    raw += f.contents.byteLength;
    gz += gzipSync(f.contents, { level: 9 }).byteLength;
  }
  return { raw, gzip: gz, files: files.length };
};

const split = await build({ ...common, splitting: true, outdir: "out" });
const outs = split.metafile.outputs;
const entry = Object.keys(outs).find((k) => outs[k].entryPoint === "mod.ts");
const core = new Set();
const walk = (k) => {
  if (core.has(k)) return;
  core.add(k);
  for (const i of outs[k].imports) {
    if (i.kind === "import-statement") walk(i.path);
  }
};
walk(entry);
const pick = (pred) =>
  split.outputFiles.filter((f) => {
    const rel = f.path.slice(root.length + 1);
    return pred(rel);
  });
const coreFiles = pick((rel) => core.has(rel));
const lazyFiles = pick((rel) => !core.has(rel));
const single = await build({
  ...common,
  splitting: false,
  outfile: "out/mod.js",
});
console.log(JSON.stringify({
  core: size(coreFiles),
  lazy: size(lazyFiles),
  single: size(single.outputFiles),
  chunks: Object.fromEntries(
    Object.entries(outs).map((
      [k, v],
    ) => [k, { bytes: v.bytes, core: core.has(k) }]),
  ),
}));
