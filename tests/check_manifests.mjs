// deno.json's import map and package.json must name the same versions: one
// release line, whichever runtime resolves it. Exits non-zero on a mismatch.
import { readFileSync } from "node:fs";

const pkg = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url)),
);
const deno = JSON.parse(readFileSync(new URL("../deno.json", import.meta.url)));
const wanted = { ...pkg.dependencies, ...pkg.devDependencies };
const problems = [];
for (const [name, spec] of Object.entries(deno.imports ?? {})) {
  const m = /^npm:\/?(@?[^@]+)@([^/]+)/.exec(spec);
  if (!m) continue;
  const [, pkgName, version] = m;
  if (wanted[pkgName] === undefined) {
    problems.push(
      `${name}: ${pkgName} is in deno.json but not in package.json`,
    );
  } else if (wanted[pkgName] !== version) {
    problems.push(
      `${name}: deno.json has ${version}, package.json has ${wanted[pkgName]}`,
    );
  }
}
for (const name of Object.keys(pkg.dependencies)) {
  if (!Object.values(deno.imports).some((s) => s.includes(`npm:${name}@`))) {
    problems.push(
      `${name}: a dependency in package.json is missing from deno.json`,
    );
  }
}
// package.json's version is the one source (scripts/version.mjs, run by
// `npm version`, copies it); a hand edit of either copy is caught here.
if (pkg.version !== deno.version) {
  problems.push(
    `version: package.json ${pkg.version}, deno.json ${deno.version} ` +
      "(bump with `npm version <x.y.z>`)",
  );
}
const versionTs = readFileSync(
  new URL("../src/core/version.ts", import.meta.url),
  "utf8",
);
const codeVersion = /export const VERSION = "([^"]*)";/.exec(versionTs)?.[1];
if (codeVersion !== pkg.version) {
  problems.push(
    `version: package.json ${pkg.version}, src/core/version.ts ${codeVersion} ` +
      "(bump with `npm version <x.y.z>`)",
  );
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(
  `deno.json and package.json agree (${
    Object.keys(deno.imports).length
  } imports)`,
);
