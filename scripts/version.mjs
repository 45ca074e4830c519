// package.json's "version" is the one source of the version. `npm version
// <x.y.z>` bumps it and then runs this ("version" lifecycle script), which
// copies it into deno.json (JSR) and src/core/version.ts (the
// instrumentation scope) and stages both for npm's version commit.
// `tests/check_manifests.mjs` fails CI if the three ever differ.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
const { version } = JSON.parse(readFileSync(new URL("package.json", root)));

const denoJson = new URL("deno.json", root);
const deno = JSON.parse(readFileSync(denoJson, "utf8"));
deno.version = version;
writeFileSync(denoJson, JSON.stringify(deno, null, 2) + "\n");

const versionTs = new URL("src/core/version.ts", root);
const text = readFileSync(versionTs, "utf8");
const next = text.replace(
  /export const VERSION = "[^"]*";/,
  `export const VERSION = ${JSON.stringify(version)};`,
);
if (next === text && !text.includes(JSON.stringify(version))) {
  console.error(
    "scripts/version.mjs: no VERSION constant in src/core/version.ts",
  );
  process.exit(1);
}
writeFileSync(versionTs, next);
if (process.env.npm_lifecycle_event === "version") {
  execFileSync("git", ["add", "deno.json", "src/core/version.ts"], {
    cwd: root,
  });
}
console.log(`version ${version}: deno.json and src/core/version.ts updated`);
