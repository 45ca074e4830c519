// observeBody: the pass-through stream every followed body goes through.
import { test } from "node:test";
import assert from "node:assert/strict";
import { observeBody } from "../../src/http/observe.ts";
import { concatBytes } from "../support/helpers.ts";

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/**
 * A byte stream (`type: "bytes"`) that behaves like a fetch response body:
 * it writes into the pending read's buffer (64 KiB ones for a default
 * reader, as Deno allocates), and at its end closes, then answers the
 * pending read with `respond(0)`.
 */
function byteSource(chunks: Uint8Array[], log: string[] = []) {
  const queue = chunks.map((c) => c.slice());
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: 65_536,
    pull(c) {
      const req = c.byobRequest;
      const next = queue[0];
      if (next === undefined) {
        c.close();
        req?.respond(0);
        return;
      }
      if (!req?.view) {
        c.enqueue(queue.shift()!);
        return;
      }
      const view = req.view as Uint8Array;
      const n = Math.min(view.byteLength, next.byteLength);
      view.set(next.subarray(0, n));
      if (n === next.byteLength) queue.shift();
      else queue[0] = next.subarray(n);
      req.respond(n);
    },
    cancel(reason) {
      log.push(`cancel:${String(reason)}`);
    },
  });
}

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const r = s.getReader();
  for (let k = 0; k < 10_000; k++) {
    const { done, value } = await r.read();
    if (done) return out;
    out.push(value);
  }
  throw new Error("stream did not end");
}

test("a byte stream passes through byte for byte, in right-sized chunks", async () => {
  const input = [bytes(200, 1), bytes(1, 2), bytes(70_000, 3), bytes(5, 4)];
  const seen: Uint8Array[] = [];
  let ends = 0;
  const out = await readAll(
    observeBody(byteSource(input), {
      onChunk: (c) => seen.push(c),
      onEnd: () => ends++,
    }, { byteReader: true }),
  );
  assert.deepEqual(concatBytes(out), concatBytes(input));
  assert.deepEqual(concatBytes(seen), concatBytes(input));
  assert.equal(ends, 1);
  for (const c of out) {
    // no chunk pins a larger buffer than its own bytes
    assert.equal(c.buffer.byteLength, c.byteLength);
    assert.ok(c.byteLength > 0);
  }
});

test("without byteReader, a byte source that only closes still ends", async () => {
  // No respond(0) at the end: a reused-buffer read would wait forever.
  let i = 0;
  const src = new ReadableStream({
    type: "bytes",
    pull(c) {
      if (i++ === 0) c.enqueue(bytes(300, 1));
      else c.close();
    },
  });
  const out = await readAll(observeBody(src, {}));
  assert.equal(concatBytes(out).byteLength, 300);
});

test("a default stream's chunks are handed on as the same objects", async () => {
  const input = [bytes(10, 1), bytes(20, 2)];
  let i = 0;
  const src = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < input.length) c.enqueue(input[i++]);
      else c.close();
    },
  });
  const out = await readAll(observeBody(src, {}));
  assert.equal(out.length, 2);
  assert.equal(out[0], input[0]);
  assert.equal(out[1], input[1]);
});

test("cancelling a byte stream reaches its source and the observer once", async () => {
  const log: string[] = [];
  let cancels = 0, ends = 0;
  const s = observeBody(byteSource([bytes(10, 1), bytes(10, 2)], log), {
    onCancel: () => cancels++,
    onEnd: () => ends++,
  }, { byteReader: true });
  const r = s.getReader();
  await r.read();
  await r.cancel("client gone");
  assert.deepEqual(log, ["cancel:client gone"]);
  assert.equal(cancels, 1);
  assert.equal(ends, 0);
});

test("a failing byte stream fails the output and tells the observer", async () => {
  let n = 0;
  const src = new ReadableStream({
    type: "bytes",
    pull(c) {
      if (n++ === 0) c.enqueue(bytes(8, 1));
      else c.error(new Error("upstream reset"));
    },
  });
  const errors: unknown[] = [];
  const s = observeBody(src, { onError: (e) => errors.push(e) }, {
    byteReader: true,
  });
  await assert.rejects(readAll(s), /upstream reset/);
  assert.equal(errors.length, 1);
});
