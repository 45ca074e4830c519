// Trace context into real child processes (traceEnv, propagateTraceToEnv)
// and a web Worker: their spans join the parent's trace, as a real OTLP/HTTP
// receiver saw them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ROOT_CONTEXT, trace, type Tracer } from "@opentelemetry/api";
import {
  forceFlush,
  parseTraceparent,
  propagateTraceToEnv,
  traceEnv,
} from "../../mod.ts";
import type { OtlpReceiver, ReceivedSpan } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import {
  type Exited,
  isDeno,
  repoRoot,
  waitForExit,
} from "../support/helpers.ts";

const INTERNAL = 1;
const childScript = fileURLToPath(
  new URL("../fixtures/route_child.ts", import.meta.url),
);
const childArgs = isDeno
  ? ["run", "-A", "--quiet", childScript]
  : [childScript];

let receiver: OtlpReceiver;
let tracer: Tracer;

useTracing("worker-test", (t) => {
  receiver = t.receiver;
  tracer = t.tracer;
});

/** Collects a child's output and waits (bounded) for it to exit. */
const waitExit = (child: ChildProcess): Promise<Exited> =>
  waitForExit(child, 25_000);

function killIfRunning(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill("SIGKILL");
  }
}

function report(r: Exited): Record<string, unknown> {
  assert.equal(
    r.code,
    0,
    `child exited with ${r.code} (${r.signal})\nstdout: ${r.stdout}\n` +
      `stderr: ${r.stderr}`,
  );
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** Flushes and waits (bounded) for `n` spans named with `prefix`. */
async function spansNamed(prefix: string, n: number): Promise<ReceivedSpan[]> {
  await forceFlush();
  const all = await receiver.waitForSpans(
    (s) => s.filter((x) => x.name.startsWith(prefix)).length >= n,
    { timeoutMs: 15_000, message: `${n} spans named ${prefix}*` },
  );
  return all.filter((x) => x.name.startsWith(prefix));
}

let seq = 0;
function parent(label: string) {
  const span = tracer.startSpan(
    `worker-test parent ${label} ${++seq}`,
    {},
    ROOT_CONTEXT,
  );
  return { span, ctx: trace.setSpan(ROOT_CONTEXT, span) };
}

test("a child spawned with traceEnv(ctx) joins the trace under the right parent, with vllm.process_kind/name", async () => {
  const p = parent("traceEnv");
  const sc = p.span.spanContext();
  const vars = traceEnv(p.ctx);
  assert.equal(vars.traceparent, `00-${sc.traceId}-${sc.spanId}-03`);
  assert.equal(parseTraceparent(vars.traceparent)?.spanId, sc.spanId);
  assert.equal(vars.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, receiver.url);
  const name = `Worker_route_${seq}`;
  let child: ChildProcess | undefined;
  try {
    child = spawn(process.execPath, childArgs, {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        ...vars,
        ROUTE_CHILD_NAME: name,
        NO_COLOR: "1",
      },
    });
    const out = report(await waitExit(child));
    assert.equal(out.tracer, true, "initWorkerTracer found the endpoint");
    assert.equal(out.value, 7);
    assert.equal(out.traceparent, vars.traceparent);
    p.span.end();

    const spans = await spansNamed(name, 2);
    assert.equal(spans.length, 2);
    const task = spans.find((s) => s.name === `${name} task`);
    const manual = spans.find((s) => s.name === `${name} manual`);
    assert.ok(task && manual, spans.map((s) => s.name).join(", "));
    for (const s of [task, manual]) {
      assert.equal(s.traceId, sc.traceId, `${s.name} trace`);
      assert.equal(s.parentSpanId, sc.spanId, `${s.name} parent`);
      assert.equal(s.kind, INTERNAL);
      assert.equal(s.resource["vllm.process_kind"], "worker");
      assert.equal(s.resource["vllm.process_name"], name);
      assert.equal(s.resource["service.name"], "test.route.child");
      // exported by the child itself, not by this process
      assert.equal(s.resource["process.pid"], out.pid);
      assert.notEqual(s.resource["process.pid"], process.pid);
    }
    assert.equal(manual.spanId, out.manualSpanId);
    assert.equal(manual.attributes["route.child"], name);
    assert.equal(task.attributes["code.function"], "routeChildTask");
    // this process's own spans carry no worker attributes
    const own = await spansNamed(`worker-test parent traceEnv`, 1);
    assert.equal(own[0].resource["vllm.process_kind"], undefined);
    assert.equal(own[0].spanId, sc.spanId);
  } finally {
    killIfRunning(child);
  }
});

test("without traceEnv the child starts its own trace (the test above can fail)", async () => {
  const p = parent("no-env");
  const sc = p.span.spanContext();
  const name = `Worker_route_${seq}`;
  let child: ChildProcess | undefined;
  try {
    const env: Record<string, string | undefined> = {
      ...process.env,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
      ROUTE_CHILD_NAME: name,
      NO_COLOR: "1",
    };
    delete env.traceparent;
    delete env.tracestate;
    child = spawn(process.execPath, childArgs, {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env,
    });
    const out = report(await waitExit(child));
    assert.equal(out.traceparent, null);
    p.span.end();
    const spans = await spansNamed(name, 2);
    for (const s of spans) {
      assert.notEqual(s.traceId, sc.traceId);
      assert.equal(s.parentSpanId, undefined);
    }
  } finally {
    killIfRunning(child);
  }
});

test("propagateTraceToEnv around a spawn without explicit env: the child inherits the trace; the env is restored", async () => {
  assert.equal(process.env.traceparent, undefined, "no stale traceparent");
  const p = parent("propagate");
  const sc = p.span.spanContext();
  const name = `Worker_route_${seq}`;
  process.env.ROUTE_CHILD_NAME = name;
  let child: ChildProcess | undefined;
  try {
    let inside: string | undefined;
    child = propagateTraceToEnv(() => {
      inside = process.env.traceparent;
      return spawn(process.execPath, childArgs, {
        cwd: repoRoot,
        stdio: ["ignore", "pipe", "pipe"],
      });
    }, p.ctx);
    assert.equal(inside, `00-${sc.traceId}-${sc.spanId}-03`);
    assert.equal(process.env.traceparent, undefined, "restored at once");
    const out = report(await waitExit(child));
    assert.equal(out.traceparent, inside);
    assert.equal(out.tracer, true);
    p.span.end();
    const spans = await spansNamed(name, 2);
    assert.equal(spans.length, 2);
    for (const s of spans) {
      assert.equal(s.traceId, sc.traceId);
      assert.equal(s.parentSpanId, sc.spanId);
      assert.equal(s.resource["vllm.process_name"], name);
      assert.equal(s.resource["vllm.process_kind"], "worker");
    }
  } finally {
    delete process.env.ROUTE_CHILD_NAME;
    killIfRunning(child);
  }
});

interface WorkerLike {
  postMessage(m: unknown): void;
  terminate(): void;
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: unknown) => void) | null;
}

test("a web Worker given traceEnv() by postMessage joins the trace", async () => {
  const WorkerCtor = (globalThis as unknown as {
    Worker?: new (u: URL, o: { type: "module" }) => WorkerLike;
  }).Worker;
  assert.equal(typeof WorkerCtor, "function", "both runtimes have Worker");
  const p = parent("web-worker");
  const sc = p.span.spanContext();
  const name = `WebWorker_route_${seq}`;
  const worker = new WorkerCtor!(
    new URL("../fixtures/route_worker.ts", import.meta.url),
    { type: "module" },
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const reply = await new Promise<Record<string, unknown>>(
      (resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error("the worker did not answer within 20 s")),
          20_000,
        );
        worker.onmessage = (e) => resolve(e.data as Record<string, unknown>);
        worker.onerror = (e) =>
          reject(new Error(`worker error: ${(e as Error)?.message ?? e}`));
        worker.postMessage({ ...traceEnv(p.ctx), name });
      },
    );
    assert.equal(reply.ok, true, String(reply.error));
    assert.equal(reply.value, 11);
    p.span.end();
    const spans = await spansNamed(name, 2);
    assert.equal(spans.length, 2);
    for (const s of spans) {
      assert.equal(s.traceId, sc.traceId);
      assert.equal(s.parentSpanId, sc.spanId);
      assert.equal(s.resource["vllm.process_kind"], "web_worker");
      assert.equal(s.resource["vllm.process_name"], name);
      assert.equal(s.resource["service.name"], "test.route.web_worker");
    }
    assert.ok(spans.some((s) => s.spanId === reply.manualSpanId));
    // the main thread's provider is untouched by the worker's
    const own = tracer.startSpan("worker-test after worker", {}, ROOT_CONTEXT);
    own.end();
    const mine = await spansNamed("worker-test after worker", 1);
    assert.equal(mine[0].resource["service.name"], "worker-test");
  } finally {
    clearTimeout(timer);
    worker.terminate();
  }
});
