/**
 * A loopback npm registry that serves the packages already installed in this
 * repository's node_modules, so a test that installs something (npm, bun add,
 * Deno's npm resolver) never reaches the network or depends on the machine's
 * TLS setup or on a warm package-manager cache.
 *
 * It serves the closure of the names it is given (dependencies and required
 * peer dependencies, hoisted copies only), each packed with `npm pack` from
 * its installed folder, at its installed version. Any other request gets a 404
 * and is recorded in `misses`, so an install that wanted something else fails
 * and says what.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { waitForExit } from "./helpers.ts";

/** A running registry. */
export interface LocalRegistry {
  /** Base URL, with a trailing slash (as npm, bun and Deno want it). */
  url: string;
  /** Paths that were asked for and not served. */
  misses: string[];
  /** Tarballs served, by package name, in order. */
  served: string[];
  close(): Promise<void>;
}

type Manifest = Record<string, unknown> & {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

function installed(
  root: string,
  name: string,
): { dir: string; manifest: Manifest } {
  const dir = join(root, "node_modules", name);
  try {
    return {
      dir,
      manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")),
    };
  } catch (e) {
    throw new Error(
      `local registry: ${name} is not installed in ${dir}; run npm install`,
      { cause: e },
    );
  }
}

/**
 * Packs the closure of `names`, as installed in `root`/node_modules, into
 * `packDir` and serves it on 127.0.0.1 (ephemeral port) until `close()`.
 * `root` is explicit because this module also runs bundled (tests/node/),
 * where its own URL says nothing about where the repository is.
 */
export async function startLocalRegistry(
  root: string,
  names: string[],
  packDir: string,
): Promise<LocalRegistry> {
  const found = new Map<string, { dir: string; manifest: Manifest }>();
  const queue = [...names];
  for (let i = 0; i < queue.length && i < 1000; i++) {
    const name = queue[i];
    if (found.has(name)) continue;
    const pkg = installed(root, name);
    found.set(name, pkg);
    const { dependencies = {}, peerDependencies = {}, peerDependenciesMeta } =
      pkg.manifest;
    queue.push(...Object.keys(dependencies));
    for (const peer of Object.keys(peerDependencies)) {
      if (!peerDependenciesMeta?.[peer]?.optional) queue.push(peer);
    }
  }

  const dirs = [...found.values()].map((p) => p.dir);
  const child = spawn(
    "npm",
    [
      "pack",
      "--json",
      "--ignore-scripts",
      "--pack-destination",
      packDir,
      ...dirs,
    ],
    { cwd: packDir, stdio: ["ignore", "pipe", "pipe"] },
  );
  const packed = await waitForExit(child, 120_000, "npm pack (local registry)");
  if (packed.code !== 0) {
    throw new Error(
      `local registry: npm pack exited ${packed.code}: ${packed.stderr}`,
    );
  }
  const tarballs = new Map<
    string,
    { name: string; file: string; integrity: string; shasum: string }
  >();
  for (
    const t of JSON.parse(packed.stdout) as {
      name: string;
      filename: string;
      integrity: string;
      shasum: string;
    }[]
  ) {
    tarballs.set(t.name, {
      name: t.name,
      file: t.filename,
      integrity: t.integrity,
      shasum: t.shasum,
    });
  }

  const misses: string[] = [];
  const served: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(
      new URL(req.url ?? "/", "http://x").pathname,
    );
    const tgz = path.startsWith("/-/") ? path.slice(3) : undefined;
    if (tgz !== undefined) {
      const hit = [...tarballs.values()].find((t) => t.file === tgz);
      if (hit) {
        served.push(hit.name);
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.end(readFileSync(join(packDir, hit.file)));
        return;
      }
    } else {
      const name = path.slice(1);
      const pkg = found.get(name);
      const t = tarballs.get(name);
      if (pkg && t) {
        const { scripts: _scripts, ...manifest } = pkg.manifest;
        const version = {
          ...manifest,
          dist: {
            tarball: `${url}-/${encodeURIComponent(t.file)}`,
            integrity: t.integrity,
            shasum: t.shasum,
          },
        };
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({
          name,
          "dist-tags": { latest: manifest.version },
          versions: { [manifest.version]: version },
        }));
        return;
      }
    }
    misses.push(path);
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: `not in the local registry: ${path}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    misses,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
