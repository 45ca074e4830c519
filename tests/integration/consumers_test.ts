// The package as consumers get it, each in a scratch project in a temp dir,
// outside this repository: a program there calls initTracer, starts and ends
// a span, calls shutdownTracing, and the span must arrive at the real OTLP
// receiver.
//
//   Deno, source  the package folder (deno.json, mod.ts, src/ only, no
//                 node_modules) linked with deno.json "links", as a JSR
//                 consumer would get it: its own deno.json import map
//                 applies; npm dependencies come through Deno's own npm
//                 resolver into a fresh Deno cache
//   Deno, npm     the packed tarball installed with npm, "nodeModulesDir":
//                 "manual"
//   Bun           the packed tarball installed with `bun add`
//   Node          the packed tarball installed with npm
//
// The tarball is built from a copy of the repository (scripts/build_npm.mjs,
// then `npm pack`), never in this repository's dist/. Every step is bounded
// in time.
//
// Nothing reaches the network: every installer (npm, bun add, Deno's npm
// resolver) is pointed at a loopback registry (tests/support/local_registry.ts)
// that serves the packages installed in this repository's node_modules, with
// a fresh cache of its own, so the test depends neither on the machine's TLS
// setup nor on what a global cache happens to hold. A request the registry
// cannot answer fails the install and is named in the assertion. Under `bun test` only the Bun and Node consumers run (the Deno
// ones run under `deno test`).
//
// What does not work, by Deno's design, and is not tested: importing mod.ts
// by path from a project with no import map for the package's bare
// specifiers (no "links", workspace or JSR): Deno applies only the
// importing project's configuration, so every `@opentelemetry/*` import of
// src/ fails with 'Import "…" not a dependency'.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import {
  type OtlpReceiver,
  startOtlpReceiver,
} from "../support/otlp_receiver.ts";
import {
  type LocalRegistry,
  startLocalRegistry,
} from "../support/local_registry.ts";
import {
  type Exited,
  isDeno,
  repoRoot,
  waitForExit,
} from "../support/helpers.ts";

const DENO = join(repoRoot, "node_modules", ".bin", "deno");
const BUN = join(repoRoot, "node_modules", ".bin", "bun");
const VERSION: string =
  JSON.parse(readFileSync(join(repoRoot, "deno.json"), "utf8")).version;

let receiver: OtlpReceiver;
let registry: LocalRegistry | undefined;
let registryStarted: Promise<LocalRegistry> | undefined;
let dir: string;

before(async () => {
  receiver = await startOtlpReceiver();
  dir = mkdtempSync(join(tmpdir(), "llmtrace-consumers-"));
});

after(async () => {
  await receiver?.close();
  await registry?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts the loopback registry once, from the first test that needs it:
 * packing its packages takes seconds, more than a hook may take under Bun.
 * It serves the package's runtime dependencies, as its package.json names
 * them (the npm tarball's) and as its deno.json maps them (the linked
 * source's).
 */
function localRegistry(): Promise<LocalRegistry> {
  return registryStarted ??= (async () => {
    const packs = join(dir, "registry");
    mkdirSync(packs);
    const pkg = JSON.parse(
      readFileSync(join(repoRoot, "package.json"), "utf8"),
    );
    registry = await startLocalRegistry(
      repoRoot,
      Object.keys(pkg.dependencies),
      packs,
    );
    return registry;
  })();
}

/**
 * The environment of every child: nothing of this process's OTEL_* or npm_*;
 * npm, bun and Deno use the loopback registry, each with a cache in the
 * scratch folder (a fresh one, and the developer's own caches stay clean).
 */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  if (!registry) throw new Error("childEnv() before localRegistry()");
  const env: Record<string, string> = {
    NO_COLOR: "1",
    NPM_CONFIG_REGISTRY: registry.url,
    npm_config_registry: registry.url,
    npm_config_cache: join(dir, "cache", "npm"),
    npm_config_update_notifier: "false",
    BUN_CONFIG_REGISTRY: registry.url,
    BUN_INSTALL_CACHE_DIR: join(dir, "cache", "bun"),
    DENO_DIR: join(dir, "cache", "deno"),
    ...extra,
  };
  for (const k of ["PATH", "HOME", "TMPDIR"]) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/** Runs a command to its end; kills it (SIGKILL, by pid) after `timeoutMs`. */
async function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
  env: Record<string, string> = childEnv(),
): Promise<Exited> {
  const child = spawn(cmd, args, {
    cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return await waitForExit(child, timeoutMs, `${cmd} ${args.join(" ")}`);
}

function ok(r: Exited, what: string): void {
  assert.equal(
    r.code,
    0,
    `${what} exited ${r.code ?? r.signal}\nstdout: ${r.stdout}\n` +
      `stderr: ${r.stderr}\nnot in the local registry: ${
        registry?.misses.join(", ") || "(none)"
      }`,
  );
}

// The consumer program: the same for every kind but the import specifier.
const program = (specifier: string) =>
  `import process from "node:process";
import { initTracer, shutdownTracing } from "${specifier}";

const name = process.env.CONSUMER_NAME;
const tracer = await initTracer(name, process.env.RECEIVER_URL, undefined, {
  flushOnExit: false,
  exportEndpointToEnv: false,
});
const span = tracer.startSpan("consumer span");
const { traceId, spanId } = span.spanContext();
span.end();
await shutdownTracing();
console.log(JSON.stringify({ traceId, spanId, resolved: import.meta.resolve("${specifier}") }));
`;

let tarballPromise: Promise<string> | undefined;
/**
 * Builds the npm package from a copy of the repository (node_modules
 * linked, for esbuild and tsc) and packs it; once per file.
 */
function tarball(): Promise<string> {
  return tarballPromise ??= (async () => {
    await localRegistry();
    const src = join(dir, "build");
    mkdirSync(src);
    for (
      const f of [
        "package.json",
        "README.md",
        "LICENSE",
        "mod.ts",
        "view.ts",
        "tsconfig.build.json",
        "src",
        "scripts",
      ]
    ) cpSync(join(repoRoot, f), join(src, f), { recursive: true });
    symlinkSync(join(repoRoot, "node_modules"), join(src, "node_modules"));
    ok(
      await run("node", ["scripts/build_npm.mjs"], src, 180_000),
      "npm build",
    );
    const packed = await run(
      "npm",
      ["pack", "--json", "--ignore-scripts", "--pack-destination", dir],
      src,
      60_000,
    );
    ok(packed, "npm pack");
    return join(dir, JSON.parse(packed.stdout)[0].filename);
  })();
}

/** A scratch project folder with a package.json. */
function project(name: string): string {
  const p = join(dir, name);
  mkdirSync(p);
  writeFileSync(
    join(p, "package.json"),
    JSON.stringify({ name: `scratch-${name}`, private: true, type: "module" }),
  );
  return p;
}

async function npmInstall(cwd: string, tgz: string): Promise<void> {
  ok(
    await run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        tgz,
      ],
      cwd,
      180_000,
    ),
    "npm install of the tarball",
  );
}

/** Runs the consumer program and checks its span at the receiver. */
async function runConsumer(
  kind: string,
  cmd: string,
  args: string[],
  cwd: string,
  runtime: "deno" | "bun" | "node",
): Promise<{ resolved: string }> {
  const name = `consumer-${kind}-${Date.now()}`;
  const r = await run(
    cmd,
    args,
    cwd,
    120_000,
    childEnv({ CONSUMER_NAME: name, RECEIVER_URL: receiver.url }),
  );
  ok(r, `the ${kind} consumer`);
  assert.deepEqual(registry!.misses, [], "requests the local registry missed");
  const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  const spans = await receiver.waitForSpans(
    (s) => s.some((x) => x.resource["service.name"] === name),
    { timeoutMs: 10_000, message: `the span of the ${kind} consumer` },
  );
  const span = spans.find((x) => x.resource["service.name"] === name)!;
  assert.equal(span.name, "consumer span");
  assert.equal(span.traceId, report.traceId);
  assert.equal(span.spanId, report.spanId);
  assert.equal(span.resource["process.runtime.name"], runtime);
  assert.equal(span.scope.name, name);
  return report;
}

const denoOnly = isDeno ? false : "the Deno consumers run under deno test";

test(
  'consumer: Deno, the package source linked with deno.json "links" (no node_modules)',
  {
    skip: denoOnly,
    timeout: 300_000,
  },
  async () => {
    const local = await localRegistry();
    // What a JSR consumer gets: deno.json, mod.ts and src/ (deno.json's
    // publish.exclude leaves out the rest), nothing installed.
    const pkg = join(dir, "llmtrace-src");
    mkdirSync(pkg);
    for (
      const f of [
        "deno.json",
        "mod.ts",
        "view.ts",
        "src",
        "LICENSE",
        "README.md",
      ]
    ) {
      cpSync(join(repoRoot, f), join(pkg, f), { recursive: true });
    }
    const p = join(dir, "deno-links");
    mkdirSync(p);
    writeFileSync(
      join(p, "deno.json"),
      JSON.stringify({
        imports: { "@llmtrace/otel": `jsr:@llmtrace/otel@^${VERSION}` },
        links: ["../llmtrace-src"],
      }),
    );
    writeFileSync(join(p, "main.ts"), program("@llmtrace/otel"));
    const servedBefore = local.served.length;
    const report = await runConsumer(
      "deno-links",
      DENO,
      ["run", "-A", "main.ts"],
      p,
      "deno",
    );
    assert.equal(report.resolved, pathToFileURL(join(pkg, "mod.ts")).href);
    // The package's npm dependencies came through Deno's npm resolver (from
    // the loopback registry), not from a node_modules folder.
    const served = local.served.slice(servedBefore);
    assert.ok(
      served.includes("@opentelemetry/sdk-trace-base"),
      `served: ${served.join(", ")}`,
    );
    assert.ok(!existsSync(join(p, "node_modules")));
    assert.ok(!existsSync(join(pkg, "node_modules")));
  },
);

test(
  "consumer: Deno, the packed tarball installed by npm (nodeModulesDir manual)",
  {
    skip: denoOnly,
    timeout: 300_000,
  },
  async () => {
    const tgz = await tarball();
    const p = project("deno-npm");
    await npmInstall(p, tgz);
    writeFileSync(
      join(p, "deno.json"),
      JSON.stringify({ nodeModulesDir: "manual" }),
    );
    writeFileSync(join(p, "main.mjs"), program("llmtrace"));
    const report = await runConsumer(
      "deno-npm",
      DENO,
      ["run", "-A", "main.mjs"],
      p,
      "deno",
    );
    assert.match(
      report.resolved,
      /\/deno-npm\/node_modules\/llmtrace\/dist\/mod\.js$/,
    );
  },
);

test("consumer: Bun, the packed tarball installed by bun add", {
  timeout: 300_000,
}, async () => {
  const tgz = await tarball();
  const p = project("bun");
  const local = await localRegistry();
  ok(
    await run(BUN, ["add", "--registry", local.url, tgz], p, 180_000),
    "bun add of the tarball",
  );
  writeFileSync(join(p, "main.mjs"), program("llmtrace"));
  const report = await runConsumer("bun", BUN, ["main.mjs"], p, "bun");
  assert.match(
    report.resolved,
    /\/bun\/node_modules\/llmtrace\/dist\/mod\.js$/,
  );
});

test("consumer: Node, the packed tarball installed by npm", {
  timeout: 300_000,
}, async () => {
  const tgz = await tarball();
  const p = project("node");
  await npmInstall(p, tgz);
  writeFileSync(join(p, "main.mjs"), program("llmtrace"));
  const report = await runConsumer("node", "node", ["main.mjs"], p, "node");
  assert.match(
    report.resolved,
    /\/node\/node_modules\/llmtrace\/dist\/mod\.js$/,
  );
});
