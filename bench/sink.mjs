// A minimal OTLP/HTTP sink for benchmarks (Node, Deno or Bun via node:http):
// answers 200 to every POST (/v1/traces, /v1/metrics, /v1/logs), counts
// requests, bytes and (for /v1/traces protobuf) spans, and reports them on
// GET /stats. POST /reset zeroes the counters. Prints "LISTEN <port>".
// SINK_STATUS=503 answers every export with that status instead (an
// unavailable collector, a retryable failure; bench/run.mjs's outage
// section); the exports are still counted.
//
//   node bench/sink.mjs [port]
import { createServer } from "node:http";

const STATUS = Number(process.env.SINK_STATUS ?? 200);
let stats = { requests: 0, bytes: 0, spans: 0, byPath: {} };

function varint(buf, pos) {
  let v = 0;
  let mul = 1;
  for (;;) {
    const b = buf[pos++];
    v += (b & 0x7f) * mul;
    if (b < 0x80) return [v, pos];
    mul *= 128;
  }
}

// Calls fn(start, end) for each length-delimited field `field` of the message
// in buf[start..end); skips everything else without decoding it.
function eachField(buf, start, end, field, fn) {
  let pos = start;
  while (pos < end) {
    let key;
    [key, pos] = varint(buf, pos);
    const wt = key & 7;
    const no = key >>> 3;
    if (wt === 0) [, pos] = varint(buf, pos);
    else if (wt === 1) pos += 8;
    else if (wt === 5) pos += 4;
    else if (wt === 2) {
      let len;
      [len, pos] = varint(buf, pos);
      if (no === field) fn(pos, pos + len);
      pos += len;
    } else return; // groups: not in OTLP
  }
}

// ExportTraceServiceRequest.resource_spans(1) -> ResourceSpans.scope_spans(2)
// -> ScopeSpans.spans(2)
function countSpans(buf) {
  let n = 0;
  try {
    eachField(
      buf,
      0,
      buf.length,
      1,
      (a, b) =>
        eachField(buf, a, b, 2, (c, d) =>
          eachField(buf, c, d, 2, () => {
            n++;
          })),
    );
  } catch {
    // not protobuf (e.g. JSON): spans stay uncounted
  }
  return n;
}

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(stats));
    return;
  }
  if (req.method === "POST" && req.url === "/reset") {
    stats = { requests: 0, bytes: 0, spans: 0, byPath: {} };
    req.resume();
    res.writeHead(200).end();
    return;
  }
  const parts = [];
  req.on("data", (c) => parts.push(c));
  req.on("end", () => {
    const body = Buffer.concat(parts);
    stats.requests++;
    stats.bytes += body.length;
    stats.byPath[req.url] = (stats.byPath[req.url] ?? 0) + 1;
    if (
      req.url === "/v1/traces" &&
      !String(req.headers["content-type"] ?? "").includes("json")
    ) {
      stats.spans += countSpans(body);
    }
    // An empty ExportTraceServiceResponse (protobuf): zero bytes.
    res.writeHead(STATUS, {
      "content-type": "application/x-protobuf",
      "content-length": "0",
    });
    res.end();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(`LISTEN ${server.address().port}`);
});
process.on("SIGTERM", () => process.exit(0));
