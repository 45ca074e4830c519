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
 * Bundles tests/support/{otlp_receiver,fake_llm,local_registry}.ts for Node and imports
 * them. Returns the modules and a cleanup function.
 */
export async function loadSupport() {
  const dir = mkdtempSync(join(tmpdir(), "llmtrace-node-support-"));
  await build({
    entryPoints: {
      otlp_receiver: join(root, "tests/support/otlp_receiver.ts"),
      fake_llm: join(root, "tests/support/fake_llm.ts"),
      local_registry: join(root, "tests/support/local_registry.ts"),
    },
    outdir: dir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "warning",
  });
  const receiver = await import(join(dir, "otlp_receiver.mjs"));
  const fakeLlm = await import(join(dir, "fake_llm.mjs"));
  const registry = await import(join(dir, "local_registry.mjs"));
  return {
    ...receiver,
    ...fakeLlm,
    ...registry,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
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
