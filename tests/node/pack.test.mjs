// `npm pack` ships only what a user needs, and the packed tarball works: it is
// installed into a scratch project in a temp dir (`npm install <tarball>`,
// dependencies from a loopback registry that serves this repository's
// node_modules, tests/support/local_registry.ts: no network, no TLS, no
// reliance on a warm npm cache), type-checked as a
// consumer would, and examples/node/server.mjs runs against it under Node and
// under Bun, its spans checked at the real OTLP receiver.
// Needs the build (`npm run build`); pack runs with --ignore-scripts so the
// tests never rebuild dist/ under a concurrently running test file.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSupport, requireBuild, root, run } from "./support.mjs";

requireBuild();
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const BUN = join(root, "node_modules", ".bin", "bun");
const TSC = join(root, "node_modules", ".bin", "tsc");

let support;
let receiver;
let registry;
let dir;
let project;

before(async () => {
  support = await loadSupport();
  receiver = await support.startOtlpReceiver();
  dir = mkdtempSync(join(tmpdir(), "llmtrace-pack-"));
  const packs = join(dir, "registry");
  mkdirSync(packs);
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  registry = await support.startLocalRegistry(
    root,
    Object.keys(pkg.dependencies),
    packs,
  );
});

after(async () => {
  await receiver?.close();
  await registry?.close();
  support?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("npm pack --dry-run lists dist, README, LICENSE and package.json only", async () => {
  const r = await run(
    NPM,
    ["pack", "--dry-run", "--json", "--ignore-scripts"],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const [info] = JSON.parse(r.stdout);
  const paths = info.files.map((f) => f.path).sort();
  const strays = paths.filter((p) =>
    !(p.startsWith("dist/") ||
      ["README.md", "LICENSE", "package.json"].includes(p))
  );
  assert.deepEqual(
    strays,
    [],
    `unexpected files in the package: ${strays.join(", ")}`,
  );
  for (
    const p of [
      "dist/mod.js",
      "dist/mod.d.ts",
      "dist/src/sdk/bundle.js",
      "dist/src/runtime/web.js",
      "dist/view.js",
      "dist/bin/llmtrace.js",
      "README.md",
      "LICENSE",
      "package.json",
    ]
  ) {
    assert.ok(paths.includes(p), `${p} is missing from the package`);
  }
  assert.ok(
    !paths.some((p) => p.endsWith(".ts") && !p.endsWith(".d.ts")),
    "no TypeScript sources",
  );
});

test("the packed tarball installs into a scratch project", async () => {
  const packed = await run(NPM, [
    "pack",
    "--json",
    "--ignore-scripts",
    "--pack-destination",
    dir,
  ], { timeoutMs: 60_000 });
  assert.equal(packed.code, 0, packed.stderr);
  const tarball = join(dir, JSON.parse(packed.stdout)[0].filename);
  project = join(dir, "project");
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "scratch", private: true, type: "module" }),
  );
  const r = await run(NPM, [
    "install",
    "--registry",
    registry.url,
    "--cache",
    join(dir, "npm-cache"),
    "--no-audit",
    "--no-fund",
    "--no-update-notifier",
    "--ignore-scripts",
    tarball,
  ], {
    cwd: project,
    timeoutMs: 180_000,
  });
  assert.equal(
    r.code,
    0,
    `npm install failed\n${r.stdout}\n${r.stderr}\nnot in the local registry: ${
      registry.misses.join(", ") || "(none)"
    }`,
  );
  assert.deepEqual(registry.misses, []);
  for (const f of ["node_http.mjs", "server.mjs"]) {
    copyFileSync(join(root, "examples", "node", f), join(project, f));
  }
  // A TypeScript consumer resolves the types through `exports` (NodeNext).
  writeFileSync(
    join(project, "consumer.ts"),
    [
      'import { initTracer, traceHandler, tracedFetch, type TraceHandlerOptions } from "llmtrace";',
      'const opts: TraceHandlerOptions = { route: "/v1/chat/completions" };',
      "export const h: (req: Request) => Response | Promise<Response> = traceHandler((req: Request) => tracedFetch(req.url), opts);",
      'export const ready: Promise<unknown> = initTracer("x");',
      "",
    ].join("\n"),
  );
  const tsc = await run(TSC, [
    "--noEmit",
    "--strict",
    "--module",
    "nodenext",
    "--moduleResolution",
    "nodenext",
    "--target",
    "es2022",
    "--lib",
    "es2022,dom,dom.iterable",
    "--types",
    "",
    "--skipLibCheck",
    join(project, "consumer.ts"),
  ], { cwd: project, timeoutMs: 60_000 });
  assert.equal(
    tsc.code,
    0,
    `tsc on a consumer failed\n${tsc.stdout}\n${tsc.stderr}`,
  );
});

for (const runtime of ["node", "bun"]) {
  test(`examples/node/server.mjs runs against the installed package under ${runtime}`, async (t) => {
    if (!project) return t.skip("the install test failed");
    const cmd = runtime === "node" ? process.execPath : BUN;
    const r = await run(cmd, ["server.mjs"], {
      cwd: project,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        NO_COLOR: "1",
        SELF_TEST: "1",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: `example-${runtime}`,
      },
      timeoutMs: 60_000,
    });
    assert.equal(
      r.code,
      0,
      `${runtime} server.mjs exited ${r.code}\n${r.stdout}\n${r.stderr}`,
    );
    const report = JSON.parse(r.stdout.trim().split("\n").at(-1));
    assert.deepEqual(report, { status: 200, events: 5, runtime });
    const spans = await receiver.waitForSpans(
      (s) => s.some((x) => x.resource["service.name"] === `example-${runtime}`),
      { timeoutMs: 10_000 },
    );
    const span = spans.find((x) =>
      x.resource["service.name"] === `example-${runtime}`
    );
    assert.equal(span.name, "POST /v1/chat/completions");
    assert.equal(span.kind, 2);
    assert.equal(span.resource["process.runtime.name"], runtime);
    assert.equal(span.attributes["gen_ai.request.model"], "node-demo");
    assert.equal(span.attributes["gen_ai.provider.name"], "example");
    assert.equal(span.attributes["llmtrace.response.chunks"], 4);
    assert.deepEqual(span.attributes["gen_ai.response.finish_reasons"], [
      "stop",
    ]);
    // The resolved module is the installed copy, not this repository.
    assert.equal(span.scope.name, "llmtrace");
  });
}

test("`npx llmtrace view` from the installed package receives OTLP/JSON and serves the page", async (t) => {
  if (!project) return t.skip("the install test failed");
  const child = spawn(
    join(project, "node_modules", ".bin", "llmtrace"),
    ["view", "--port", "0"],
    { cwd: project, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  try {
    const origin = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no URL after 20 s: ${out}`)),
        20_000,
      );
      const look = (d) => {
        out += d;
        const m = /llmtrace view on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stdout.on("data", look);
      child.stderr.on("data", (d) => (out += d));
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`exited ${code}: ${out}`));
      });
    });
    const r = await fetch(`${origin}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        resourceSpans: [{
          scopeSpans: [{
            spans: [{
              traceId: "5b8efff798038103d269b633813fc60c",
              spanId: "eee19b7ec3c1b174",
              name: "llm_request",
              kind: 2,
              startTimeUnixNano: "1700000000000000000",
              endTimeUnixNano: "1700000000120000000",
              attributes: [{
                key: "gen_ai.request.model",
                value: { stringValue: "packed" },
              }],
            }],
          }],
        }],
      }),
    });
    assert.equal(r.status, 200, await r.text());
    const list = await (await fetch(`${origin}/api/traces`)).json();
    assert.deepEqual(
      list.rows.map((x) => [x.name, x.model, x.durationMs]),
      [["llm_request", "packed", 120]],
    );
    const page = await fetch(`${origin}/`);
    assert.match(await page.text(), /<title>llmtrace view<\/title>/);
  } finally {
    child.kill("SIGTERM");
  }
});
