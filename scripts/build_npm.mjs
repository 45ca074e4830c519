// The npm build: src/ + mod.ts -> dist/ as ESM JavaScript, one file per
// module (esbuild, no bundling: dependencies stay imports), relative `.ts`
// import suffixes rewritten to `.js`, and `.d.ts` declarations from the
// TypeScript compiler (tsconfig.build.json). Run with `npm run build`.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

function walk(dir, keep) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, keep));
    else if (keep(p)) out.push(p);
  }
  return out;
}

// `from "./x.ts"`, `import "./x.ts"`, `import("./x.ts")`, `export * from`:
// only relative specifiers; package imports are left alone.
const RELATIVE_TS =
  /((?:\bfrom|\bimport)\s*\(?\s*)(["'])(\.{1,2}\/[^"'\n]+?)\.ts\2/g;
function rewrite(file) {
  const text = readFileSync(file, "utf8");
  const next = text.replace(
    RELATIVE_TS,
    (_m, pre, q, spec) => `${pre}${q}${spec}.js${q}`,
  );
  if (next !== text) writeFileSync(file, next);
}

rmSync(dist, { recursive: true, force: true });

const entryPoints = [
  join(root, "mod.ts"),
  ...walk(join(root, "src"), (p) => p.endsWith(".ts") && !p.endsWith(".d.ts")),
];
await build({
  entryPoints,
  outdir: dist,
  outbase: root,
  bundle: false,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  sourcemap: false,
  logLevel: "warning",
});

// Declarations. The compiler is the pinned `typescript` devDependency.
const tsc = join(
  root,
  "node_modules",
  ".bin",
  process.platform === "win32" ? "tsc.cmd" : "tsc",
);
if (!existsSync(tsc)) {
  console.error(
    "build_npm: node_modules/.bin/tsc is missing; run `npm ci` first",
  );
  process.exit(1);
}
const r = spawnSync(tsc, ["-p", join(root, "tsconfig.build.json")], {
  cwd: root,
  stdio: "inherit",
});
if (r.status !== 0) {
  console.error(`build_npm: tsc failed (exit ${r.status ?? r.signal})`);
  process.exit(1);
}

const files = walk(dist, (p) => p.endsWith(".js") || p.endsWith(".d.ts"));
for (const f of files) rewrite(f);

// Nothing may still point at a .ts module.
const left = files.filter((f) =>
  /(?:from|import)\s*\(?\s*["']\.{1,2}\/[^"']+\.ts["']/.test(
    readFileSync(f, "utf8"),
  )
);
if (left.length) {
  console.error(
    `build_npm: .ts imports left in ${
      left.map((f) => relative(root, f)).join(", ")
    }`,
  );
  process.exit(1);
}
const js = files.filter((f) => f.endsWith(".js")).length;
console.log(
  `build_npm: ${js} modules and ${files.length - js} declarations in ${
    relative(root, dist)
  }/`,
);
