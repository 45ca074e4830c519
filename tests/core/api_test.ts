// With tracing off, importing llmtrace must not load @opentelemetry/api (a
// CommonJS package that costs Deno ~25 ms and Bun ~8 ms per cold start):
// no module reachable from mod.ts through static imports may import it as a
// value, and a fresh process behaves as untraced until the API is loaded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CLEAN_ENV, runFixture } from "../support/helpers.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

// `import … from "x"` / `export … from "x"` statements (not `import type`,
// not `export type`, not dynamic import()).
const STATIC = /^\s*(import|export)\s+(?!type\b)([^;]*?)\s*from\s*"([^"]+)"/gm;
const SIDE_EFFECT = /^\s*import\s+"([^"]+)"/gm;

/** Every module specifier `file` imports statically as a value. */
function staticImports(file: string): string[] {
  const src = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of src.matchAll(STATIC)) {
    // `import { type A, type B } from` brings in no value either
    const names = m[2].replace(/^\{|\}$/g, "").split(",").map((s) => s.trim())
      .filter(Boolean);
    if (
      m[1] === "import" && m[2].startsWith("{") && names.length &&
      names.every((n) => n.startsWith("type "))
    ) continue;
    out.push(m[3]);
  }
  for (const m of src.matchAll(SIDE_EFFECT)) out.push(m[1]);
  return out;
}

/** The static import graph from `entry`: file → its value imports. */
function graph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const todo = [entry];
  while (todo.length && seen.size < 500) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    const deps = staticImports(f);
    seen.set(f, deps);
    for (const d of deps) {
      if (d.startsWith(".")) todo.push(resolve(dirname(f), d));
    }
  }
  return seen;
}

test("the import graph parser sees value imports and skips type-only ones", () => {
  // A check that can fail: src/sdk/bundle.ts imports the SDK as values, and
  // src/core/api.ts imports the API only as a type.
  assert.ok(
    staticImports(resolve(root, "src/sdk/bundle.ts")).includes(
      "@opentelemetry/sdk-trace-web",
    ),
  );
  assert.ok(
    !staticImports(resolve(root, "src/core/api.ts")).includes(
      "@opentelemetry/api",
    ),
  );
});

test("mod.ts reaches no package through static imports", () => {
  const g = graph(resolve(root, "mod.ts"));
  assert.ok(g.size > 20, `walked ${g.size} modules`);
  const bare = [...g].flatMap(([f, deps]) =>
    deps.filter((d) => !d.startsWith(".")).map((d) =>
      `${f.slice(root.length)} → ${d}`
    )
  );
  assert.deepEqual(bare, []);
});

test("a fresh process with tracing off runs untraced, its context helpers work before the API loads", async () => {
  const r = await runFixture("lazy_api.ts", CLEAN_ENV);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  assert.deepEqual(out, {
    before: {
      sameResponse: true,
      extract: "b7ad6b7169203331",
      smart: true,
      env: true,
      instrument: true,
      manual: "0000000000000000",
      traceEnv: 0,
    },
    after: {
      spanId: "b7ad6b7169203331",
      traceEnv: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      smart: true,
    },
  });
});

test("mod.ts reaches none of the Responses, Messages and Gemini readers through static imports (they load when tracing starts)", () => {
  const g = graph(resolve(root, "mod.ts"));
  assert.ok(g.has(resolve(root, "src/genai/wire.ts")), "wire.ts is walked");
  const readers = [
    "src/genai/wire_readers.ts",
    "src/genai/openai_responses.ts",
    "src/genai/anthropic_messages.ts",
    "src/genai/gemini.ts",
  ].filter((f) => g.has(resolve(root, f)));
  assert.deepEqual(readers, []);
});

test("before the other wire APIs' readers load, a request has its path's attributes; after, its body's", async () => {
  const r = await runFixture("wire_lazy.ts", CLEAN_ENV);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  assert.deepEqual(out, {
    before: {
      messages: { operation: "chat" },
      gemini: { operation: "generate_content", stream: true, model: "g-1" },
      stream: { chunks: 0, contentChunks: 0, errors: 0 },
      answer: {},
    },
    after: {
      messages: { operation: "chat", model: "m", maxTokens: 5 },
      gemini: {
        operation: "generate_content",
        stream: true,
        model: "g-1",
        topK: 3,
      },
      answer: { id: "x", finishReasons: ["end_turn"] },
    },
  });
});
