// Screenshots of `llmtrace view` for the README: docs/view-list.png,
// docs/view-trace.png and docs/view-summary.png. Starts the viewer from the
// npm build (run `npm run build` first), runs the demo (examples/demo.ts,
// under Deno) three times with its spans sent to the viewer, and photographs
// the page in headless Chromium (Debian's, or CHROMIUM_PATH).
//
//   node scripts/screenshots.mjs
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, "docs");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(join(root, "dist", "view.js"))) {
  console.error("screenshots: dist/view.js is missing; run `npm run build`");
  process.exit(1);
}
const { startViewer } = await import(join(root, "dist", "view.js"));
const viewer = await startViewer({ port: 0 });
const origin = `http://127.0.0.1:${viewer.port}`;
let browser;
try {
  for (let i = 0; i < 3; i++) {
    const r = spawnSync(
      join(root, "node_modules", ".bin", "deno"),
      ["run", "-A", "examples/demo.ts"],
      {
        cwd: root,
        env: {
          ...process.env,
          NO_COLOR: "1",
          OTEL_EXPORTER_OTLP_ENDPOINT: origin,
        },
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    if (r.status !== 0) {
      throw new Error(`demo failed:\n${r.stdout}\n${r.stderr}`);
    }
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
  const page = await browser.newPage({
    viewport: { width: 1280, height: 640 },
    deviceScaleFactor: 1,
  });
  mkdirSync(out, { recursive: true });
  await page.goto(`${origin}/`);
  await page.locator("[data-testid=trace-row]").nth(11).waitFor();
  await page.screenshot({ path: join(out, "view-list.png") });

  // The newest fallback trace: a failed upstream, a retry, router and engine TTFT.
  await page.locator("[data-testid=trace-row]", { hasText: "falls back" })
    .first()
    .click();
  const llm = page.locator("[data-testid=span-row]", {
    hasText: "llm_request",
  });
  await llm.waitFor();
  await llm.click();
  await page.locator("[data-testid=span-detail] h3").waitFor();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(out, "view-trace.png") });

  await page.setViewportSize({ width: 1280, height: 520 });
  await page.goto(`${origin}/#/summary`);
  await page.locator("[data-testid=summary-row]").first().waitFor();
  await page.screenshot({ path: join(out, "view-summary.png") });
  console.log(
    "screenshots: docs/view-list.png, docs/view-trace.png, docs/view-summary.png",
  );
} finally {
  await browser?.close();
  await viewer.close();
}
