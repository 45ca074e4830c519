// The viewer page's script, served at /app.js (a string module so `deno publish`
// and the npm build carry it).
// Kept free of backticks and "${" so it can live in a raw template literal.
export const APP_JS: string = String
  .raw`// llmtrace view: the page. No framework, no external assets. Every piece of
// span data reaches the DOM as text (textContent, Text nodes, setAttribute),
// never as markup.
"use strict";
(() => {
  const S = {
    epoch: "",
    version: 0,
    rows: new Map(),
    maxTraces: 0,
    dropped: 0,
    traces: 0,
    view: "list",
    traceId: "",
    trace: null,
    spanId: "",
    renderQueued: false,
    summaryVersion: -1,
  };
  const LIST_LIMIT = 200;
  const KIND = ["unspecified", "internal", "server", "client", "producer", "consumer"];
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const k of Object.keys(attrs)) {
        const v = attrs[k];
        if (v === undefined || v === null || v === false) continue;
        if (k === "class") e.className = v;
        else if (k === "text") e.textContent = String(v);
        else if (k === "style") Object.assign(e.style, v);
        else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const kid of kids) {
      if (kid !== undefined && kid !== null && kid !== false) e.append(kid);
    }
    return e;
  }

  function fmtMs(ms) {
    if (ms === undefined || ms === null) return "–";
    if (ms < 1) return ms.toFixed(2) + " ms";
    if (ms < 1000) return ms.toFixed(1) + " ms";
    return (ms / 1000).toFixed(2) + " s";
  }
  function fmtTokens(r) {
    if (r.inTokens === undefined && r.outTokens === undefined) return "–";
    return (r.inTokens ?? "?") + " → " + (r.outTokens ?? "?");
  }
  // By hand: toLocaleTimeString builds a formatter per call, too slow for
  // a list of hundreds of rows redrawn live.
  function fmtTime(unixMs) {
    const d = new Date(unixMs);
    const two = (n) => String(n).padStart(2, "0");
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" +
      two(d.getSeconds()) + "." + String(d.getMilliseconds()).padStart(3, "0");
  }
  function fmtPct(x) {
    return (x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0) + "%";
  }
  function fmtValue(v) {
    return typeof v === "string" ? v : JSON.stringify(v);
  }
  function outcomeBadge(outcome, extra) {
    const label = outcome === "ok" ? "ok" : outcome === "cancel" ? "cancelled" : "error";
    return el("span", { class: "badge " + outcome, "data-outcome": outcome, text: label + (extra || "") });
  }

  // ---- data -------------------------------------------------------------

  async function getJson(path) {
    const r = await fetch(path, { cache: "no-store" });
    if (!r.ok) throw new Error(path + ": " + r.status + " " + (await r.text()));
    return r.json();
  }

  async function poll() {
    try {
      const q = "?since=" + S.version + "&epoch=" + encodeURIComponent(S.epoch);
      const d = await getJson("/api/traces" + q);
      let changed = d.rows.length > 0;
      if (d.epoch !== S.epoch) {
        S.rows.clear();
        S.epoch = d.epoch;
        changed = true;
      }
      for (const r of d.rows) S.rows.set(r.traceId, r);
      for (const [id, r] of S.rows) {
        if (r.seq < d.minSeq) {
          S.rows.delete(id);
          changed = true;
        }
      }
      S.version = d.version;
      S.maxTraces = d.maxTraces;
      S.dropped = d.droppedTraces;
      S.traces = d.traces;
      setStatus("live", S.rows.size + " traces (keeps " + d.maxTraces + ")");
      if (changed) {
        queueRender();
        if (S.view === "trace" && d.rows.some((r) => r.traceId === S.traceId)) loadTrace();
        if (S.view === "summary") loadSummary();
      }
    } catch (e) {
      setStatus("down", "viewer unreachable, retrying");
    } finally {
      setTimeout(poll, document.hidden ? 5000 : 1000);
    }
  }

  function setStatus(state, text) {
    const s = $("status");
    s.className = state;
    s.textContent = text;
  }

  // ---- routing ----------------------------------------------------------

  function route() {
    const h = location.hash;
    const m = /^#\/trace\/([0-9a-f]+)(?:\/([0-9a-f]+))?$/.exec(h);
    if (m) {
      S.view = "trace";
      if (S.traceId !== m[1]) S.trace = null;
      S.traceId = m[1];
      S.spanId = m[2] || "";
    } else if (h === "#/summary") S.view = "summary";
    else S.view = "list";
    $("list-view").hidden = S.view !== "list";
    $("trace-view").hidden = S.view !== "trace";
    $("summary-view").hidden = S.view !== "summary";
    $("tab-traces").classList.toggle("on", S.view !== "summary");
    $("tab-summary").classList.toggle("on", S.view === "summary");
    if (S.view === "trace") {
      if (S.trace && S.trace.row.traceId === S.traceId) renderTrace();
      else loadTrace();
    } else if (S.view === "summary") loadSummary();
    else queueRender();
  }

  // ---- the list ---------------------------------------------------------

  function queueRender() {
    if (S.renderQueued) return;
    S.renderQueued = true;
    requestAnimationFrame(() => {
      S.renderQueued = false;
      if (S.view === "list") renderList();
    });
  }

  function syncOptions(select, values) {
    const want = ["", ...[...values].sort()];
    const have = [...select.options].map((o) => o.value);
    if (want.length === have.length && want.every((v, i) => v === have[i])) return;
    const keep = select.value;
    select.replaceChildren(...want.map((v) => el("option", { value: v, text: v === "" ? "all" : v })));
    select.value = want.includes(keep) ? keep : "";
  }

  function filters() {
    const num = (id) => {
      const v = parseFloat($(id).value);
      return Number.isFinite(v) ? v : undefined;
    };
    return {
      model: $("f-model").value,
      route: $("f-route").value,
      status: $("f-status").value,
      minDur: num("f-min-duration"),
      minTtft: num("f-min-ttft"),
    };
  }

  function matches(r, f) {
    if (f.model && r.model !== f.model) return false;
    if (f.route && r.route !== f.route) return false;
    if (f.status === "error" && r.outcome !== "error") return false;
    if (f.status === "cancel" && r.outcome !== "cancel") return false;
    if (f.status === "ok" && r.outcome !== "ok") return false;
    if (f.status === "inner" && r.errorSpans === 0) return false;
    if (f.minDur !== undefined && !(r.durationMs >= f.minDur)) return false;
    if (f.minTtft !== undefined && !(r.ttftMs >= f.minTtft)) return false;
    return true;
  }

  // A row's element is built once per version of its row: a live list
  // redraws only what changed.
  const rowCache = new Map();
  function rowElement(r) {
    const hit = rowCache.get(r.traceId);
    if (hit && hit.updated === r.updated) return hit.el;
    const tr = el(
      "tr",
      {
        "data-testid": "trace-row",
        "data-trace-id": r.traceId,
        tabindex: 0,
        onclick: () => (location.hash = "#/trace/" + r.traceId),
        onkeydown: (e) => {
          if (e.key === "Enter") location.hash = "#/trace/" + r.traceId;
        },
      },
      el("td", { class: "time", text: fmtTime(r.start) }),
      el(
        "td",
        { class: "name" },
        el("span", { "data-k": "name", text: r.name }),
        r.service ? el("span", { class: "dim", text: " " + r.service }) : null,
        r.partial ? el("span", { class: "dim", title: "some spans have not arrived", text: " (partial)" }) : null,
      ),
      el("td", { "data-k": "model", text: r.model ?? "–" }),
      el("td", { class: "route", text: r.route ?? "–" }),
      el(
        "td",
        null,
        outcomeBadge(r.outcome),
        r.errorSpans > 0 && r.outcome === "ok"
          ? el("span", { class: "dim", text: " " + r.errorSpans + " failed inside" })
          : null,
      ),
      el("td", { class: "num", "data-k": "duration", text: fmtMs(r.durationMs) }),
      el("td", { class: "num", "data-k": "ttft", text: fmtMs(r.ttftMs) }),
      el("td", { class: "num", text: fmtTokens(r) }),
      el("td", { class: "num", "data-k": "spans", text: r.spans }),
    );
    rowCache.set(r.traceId, { updated: r.updated, el: tr });
    return tr;
  }

  function renderList() {
    const all = [...S.rows.values()];
    const models = new Set();
    const routes = new Set();
    for (const r of all) {
      if (r.model) models.add(r.model);
      if (r.route) routes.add(r.route);
    }
    syncOptions($("f-model"), models);
    syncOptions($("f-route"), routes);
    const f = filters();
    const shown = all.filter((r) => matches(r, f))
      .sort((a, b) => b.start - a.start || b.seq - a.seq);
    const rows = shown.slice(0, LIST_LIMIT).map(rowElement);
    for (const id of rowCache.keys()) if (!S.rows.has(id)) rowCache.delete(id);
    $("trace-rows").replaceChildren(...rows);
    $("list-note").textContent = S.rows.size === 0
      ? "No traces yet. Point an OTLP/HTTP exporter at " + location.origin +
        " (llmtrace's default endpoint is http://localhost:4318)."
      : "Showing " + rows.length + " of " + shown.length + " matching traces (" +
        S.rows.size + " kept" + (S.dropped ? ", " + S.dropped + " older dropped" : "") + ").";
  }

  // ---- a trace ----------------------------------------------------------

  async function loadTrace() {
    const id = S.traceId;
    try {
      const t = await getJson("/api/traces/" + id);
      if (S.traceId !== id) return;
      S.trace = t;
      renderTrace();
    } catch (e) {
      if (S.traceId !== id) return;
      $("trace-title").textContent = "Trace " + id + " is not kept (dropped, or never received).";
      $("trace-meta").replaceChildren();
      $("waterfall").replaceChildren();
      $("span-detail").replaceChildren();
    }
  }

  function renderTrace() {
    const t = S.trace;
    const r = t.row;
    $("trace-title").textContent = r.name;
    let total = 0;
    for (const s of t.spans) total = Math.max(total, s.startMs + s.durationMs);
    total = total || 1;
    // Router TTFT (the first token as the caller saw it, nearest the root)
    // beside the engine's (vLLM's time_to_first_token, deepest).
    let engine;
    let front;
    for (const s of t.spans) {
      if (s.engineTtftMs !== undefined && (!engine || s.depth >= engine.depth)) engine = s;
      if (s.ttftMs !== undefined && (!front || s.depth < front.depth)) front = s;
    }
    const meta = [
      ["trace", r.traceId],
      ["service", r.service ?? "–"],
      ["model", r.model ?? "–"],
      ["started", fmtTime(r.start)],
      ["duration", fmtMs(r.durationMs)],
      ["spans", String(t.spans.length) + (t.droppedSpans ? " (+" + t.droppedSpans + " dropped)" : "")],
      ["tokens", fmtTokens(r)],
    ];
    if (front && engine && front !== engine) {
      meta.push(["router TTFT", fmtMs(front.ttftMs)]);
      meta.push(["engine TTFT", fmtMs(engine.engineTtftMs)]);
      meta.push(["before the engine", fmtMs(front.ttftMs - engine.engineTtftMs)]);
    } else if (front) meta.push(["TTFT", fmtMs(front.ttftMs)]);
    if (r.tpotMs !== undefined) meta.push(["TPOT", fmtMs(r.tpotMs)]);
    $("trace-meta").replaceChildren(
      outcomeBadge(r.outcome),
      ...meta.map(([k, v]) =>
        el("span", { class: "meta", "data-k": k }, el("span", { class: "dim", text: k + " " }), v)
      ),
    );
    const axis = el("div", { class: "wf-row wf-axis" }, el("div", { class: "wf-label" }));
    const track = el("div", { class: "wf-track" });
    for (let i = 0; i <= 4; i++) {
      track.append(el("span", { class: "tick-label", style: { left: i * 25 + "%" }, text: fmtMs(total * i / 4) }));
    }
    axis.append(track);
    const pct = (ms) => Math.max(0, Math.min(100, (ms / total) * 100)) + "%";
    const rows = t.spans.map((s) => {
      const track = el("div", { class: "wf-track" });
      track.append(el("div", {
        class: "bar kind-" + s.kind + " " + s.outcome,
        style: { left: pct(s.startMs), width: "max(2px, " + pct(s.durationMs) + ")" },
      }));
      if (s.queueMs !== undefined || s.prefillMs !== undefined || s.decodeMs !== undefined) {
        let at = s.startMs;
        for (const [k, v] of [["queue", s.queueMs], ["prefill", s.prefillMs], ["decode", s.decodeMs]]) {
          if (v === undefined) continue;
          track.append(el("div", {
            class: "seg " + k,
            "data-testid": "segment",
            "data-segment": k,
            title: k + " " + fmtMs(v),
            style: { left: pct(at), width: pct(v) },
          }));
          at += v;
        }
      }
      if (s.ttftMs !== undefined) {
        track.append(el("div", {
          class: "ttft",
          "data-testid": "ttft-tick",
          title: "first token after " + fmtMs(s.ttftMs) + " (" + s.ttftKey + ")",
          style: { left: pct(s.startMs + s.ttftMs) },
        }));
      }
      track.append(el("span", {
        class: "dur",
        style: { left: pct(s.startMs + s.durationMs) },
        text: fmtMs(s.durationMs) + (s.ttftMs !== undefined ? " · TTFT " + fmtMs(s.ttftMs) : ""),
      }));
      return el(
        "div",
        {
          class: "wf-row" + (s.spanId === S.spanId ? " selected" : ""),
          "data-testid": "span-row",
          "data-span-id": s.spanId,
          tabindex: 0,
          onclick: () => selectSpan(s.spanId),
          onkeydown: (e) => {
            if (e.key === "Enter") selectSpan(s.spanId);
          },
        },
        el(
          "div",
          { class: "wf-label", style: { paddingLeft: 4 + Math.min(s.depth, 30) * 12 + "px" } },
          el("span", { class: "kind", text: KIND[s.kind] ?? String(s.kind) }),
          el("span", { class: "span-name", "data-k": "name", text: s.name }),
          s.outcome !== "ok" ? outcomeBadge(s.outcome) : null,
        ),
        track,
      );
    });
    $("waterfall").replaceChildren(axis, ...rows);
    renderSpan();
  }

  function selectSpan(id) {
    location.hash = "#/trace/" + S.traceId + "/" + id;
  }

  function attrTable(pairs) {
    if (!pairs.length) return el("p", { class: "dim", text: "none" });
    return el(
      "table",
      { class: "attrs" },
      el(
        "tbody",
        null,
        ...pairs.map(([k, v]) =>
          el("tr", null, el("th", { text: k }), el("td", { text: fmtValue(v) }))
        ),
      ),
    );
  }

  function renderSpan() {
    const box = $("span-detail");
    const s = S.trace && S.trace.spans.find((x) => x.spanId === S.spanId);
    if (!s) {
      box.replaceChildren(el("p", { class: "dim", text: "Click a span for its attributes, events and links." }));
      return;
    }
    const facts = [
      ["span id", s.spanId],
      ["parent", s.parentSpanId ?? "none (root)"],
      ["kind", KIND[s.kind] ?? String(s.kind)],
      ["status", ["unset", "ok", "error"][s.status.code] ?? String(s.status.code)],
      ["status message", s.status.message],
      ["start", "+" + fmtMs(s.startMs)],
      ["duration", fmtMs(s.durationMs)],
      ["TTFT", s.ttftMs !== undefined ? fmtMs(s.ttftMs) : ""],
      ["queue", s.queueMs !== undefined ? fmtMs(s.queueMs) : ""],
      ["prefill", s.prefillMs !== undefined ? fmtMs(s.prefillMs) : ""],
      ["decode", s.decodeMs !== undefined ? fmtMs(s.decodeMs) : ""],
      ["scope", s.scope.name + (s.scope.version ? " " + s.scope.version : "")],
    ].filter(([, v]) => v !== "");
    box.replaceChildren(
      el("h3", { "data-k": "span-name", text: s.name }),
      attrTable(facts),
      el("h4", { text: "Attributes" }),
      attrTable(s.attributes),
      el("h4", { text: "Events (" + s.events.length + ")" }),
      ...s.events.map((e) =>
        el("div", { class: "event" }, el("p", { text: "+" + fmtMs(e.atMs) + " " + e.name }), attrTable(e.attributes))
      ),
      el("h4", { text: "Links (" + s.links.length + ")" }),
      ...s.links.map((l) => {
        const here = S.rows.has(l.traceId);
        return el(
          "div",
          { class: "link" },
          here
            ? el("a", { href: "#/trace/" + l.traceId + "/" + l.spanId, text: l.traceId + " / " + l.spanId })
            : el("p", { text: l.traceId + " / " + l.spanId }),
          attrTable(l.attributes),
        );
      }),
      el("h4", { text: "Resource" }),
      attrTable(s.resource),
    );
  }

  // ---- the summary ------------------------------------------------------

  async function loadSummary() {
    try {
      const d = await getJson("/api/summary");
      renderSummary(d);
    } catch (e) {
      $("summary-body").replaceChildren(el("p", { text: String(e) }));
    }
  }

  function renderSummary(d) {
    if (!d.models.length) {
      $("summary-body").replaceChildren(el("p", { class: "dim", text: "No traces yet." }));
      return;
    }
    const head = el(
      "tr",
      null,
      ...["model", "requests", "errors", "cancels", "TTFT p50", "p95", "p99", "TPOT p50", "p95", "p99", "duration p50", "p95", "p99"]
        .map((h) => el("th", { text: h })),
    );
    const body = d.models.map((m) =>
      el(
        "tr",
        { "data-testid": "summary-row", "data-model": m.model },
        el("td", { "data-k": "model", text: m.model }),
        el("td", { class: "num", "data-k": "count", text: m.count }),
        el("td", { class: "num", "data-k": "error-rate", text: fmtPct(m.errorRate) }),
        el("td", { class: "num", "data-k": "cancel-rate", text: fmtPct(m.cancelRate) }),
        ...["ttftMs", "tpotMs", "durationMs"].flatMap((k) =>
          ["p50", "p95", "p99"].map((p) =>
            el("td", {
              class: "num",
              "data-k": k.replace("Ms", "") + "-" + p,
              "data-value": m[k][p],
              text: fmtMs(m[k][p]),
            })
          )
        ),
      )
    );
    const table = el("table", { class: "summary" }, el("thead", null, head), el("tbody", null, ...body));
    const hists = d.models.map((m) => histogram(m, d.boundsMs));
    $("summary-body").replaceChildren(table, el("h3", { text: "TTFT distribution" }), ...hists);
  }

  function histogram(m, bounds) {
    const max = Math.max(1, ...m.ttftHistogram);
    const label = (i) => i < bounds.length ? "≤" + fmtMs(bounds[i]) : ">" + fmtMs(bounds[bounds.length - 1]);
    return el(
      "figure",
      { class: "hist", "data-testid": "histogram", "data-model": m.model },
      el("figcaption", null, el("span", { text: m.model }), el("span", { class: "dim", text: " " + m.ttftMs.count + " with a TTFT" })),
      el(
        "div",
        { class: "hist-bars" },
        ...m.ttftHistogram.map((n, i) =>
          el(
            "div",
            { class: "hist-col", title: label(i) + ": " + n },
            el("span", { class: "hist-n", text: n || "" }),
            el("div", { class: "hist-bar", "data-count": n, style: { height: (n / max) * 100 + "%" } }),
            el("span", { class: "hist-label", text: label(i) }),
          )
        ),
      ),
    );
  }

  // ---- start ------------------------------------------------------------

  for (const id of ["f-model", "f-route", "f-status", "f-min-duration", "f-min-ttft"]) {
    $(id).addEventListener("input", queueRender);
    $(id).addEventListener("change", queueRender);
  }
  $("f-clear").addEventListener("click", () => {
    for (const id of ["f-model", "f-route", "f-status"]) $(id).value = "";
    for (const id of ["f-min-duration", "f-min-ttft"]) $(id).value = "";
    queueRender();
  });
  $("filters").addEventListener("submit", (e) => e.preventDefault());
  window.addEventListener("hashchange", route);
  route();
  poll();
})();
`;
