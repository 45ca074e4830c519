// Helpers for the Node test run (`node --test tests/node/*.test.mjs`, on the
// npm build in dist/): the TypeScript test support (OTLP receiver, fake LLM)
// bundled once with esbuild into a temp dir, and bounded child processes.
import { build } from "esbuild";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../../", import.meta.url));

/** Fails early, with the fix, when the npm build is missing. */
export function requireBuild() {
  if (!existsSync(join(root, "dist", "mod.js"))) {
    throw new Error("dist/mod.js is missing: run `npm run build` first");
  }
}

/**
 * Bundles TypeScript modules (`{ name: path from the root }`) for Node into a
 * temp dir and imports them. Returns the modules by name and a cleanup.
 */
export async function bundleTs(entries) {
  const dir = mkdtempSync(join(tmpdir(), "llmtrace-node-bundle-"));
  await build({
    entryPoints: Object.fromEntries(
      Object.entries(entries).map(([name, path]) => [name, join(root, path)]),
    ),
    outdir: dir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "warning",
    // The SDK's CommonJS parts require Node built-ins.
    banner: {
      js: "import { createRequire } from 'node:module'; " +
        "const require = createRequire(import.meta.url);",
    },
  });
  const modules = {};
  for (const name of Object.keys(entries)) {
    modules[name] = await import(join(dir, `${name}.mjs`));
  }
  return {
    modules,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Bundles tests/support/{otlp_receiver,fake_llm,local_registry}.ts for Node and imports
 * them. Returns the modules and a cleanup function.
 */
export async function loadSupport() {
  const { modules, cleanup } = await bundleTs({
    otlp_receiver: "tests/support/otlp_receiver.ts",
    fake_llm: "tests/support/fake_llm.ts",
    local_registry: "tests/support/local_registry.ts",
  });
  return {
    ...modules.otlp_receiver,
    ...modules.fake_llm,
    ...modules.local_registry,
    cleanup,
  };
}

/**
 * Runs a command to its end, killed (by pid) after `timeoutMs`. Resolves with
 * its exit code and output; never rejects for a non-zero exit.
 */
export function run(
  cmd,
  args,
  { cwd = root, env = process.env, timeoutMs = 60_000 } = {},
) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // gone
      }
      reject(
        new Error(
          `${cmd} ${
            args.join(" ")
          } timed out after ${timeoutMs}ms\n${stdout}\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
