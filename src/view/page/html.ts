// The viewer page, served at / (a string module, as app_js.ts).
// Kept free of backticks and "${" so it can live in a raw template literal.
export const PAGE_HTML: string = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>llmtrace view</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>llmtrace view</h1>
  <nav>
    <a href="#/" id="tab-traces" class="on">Traces</a>
    <a href="#/summary" id="tab-summary">Summary</a>
  </nav>
  <span id="status" data-testid="status">connecting…</span>
</header>
<main>
<section id="list-view">
  <form id="filters" data-testid="filters">
    <label>model <select id="f-model"><option value="">all</option></select></label>
    <label>route <select id="f-route"><option value="">all</option></select></label>
    <label>status <select id="f-status">
      <option value="">all</option>
      <option value="ok">ok</option>
      <option value="error">errors</option>
      <option value="cancel">cancels</option>
      <option value="inner">failed inside</option>
    </select></label>
    <label>duration ≥ <input id="f-min-duration" type="number" min="0" step="any" placeholder="ms"></label>
    <label>TTFT ≥ <input id="f-min-ttft" type="number" min="0" step="any" placeholder="ms"></label>
    <button type="button" id="f-clear">clear</button>
  </form>
  <table class="traces" data-testid="trace-list">
    <thead><tr>
      <th>time</th><th>root span</th><th>model</th><th>route</th><th>status</th>
      <th class="num">duration</th><th class="num">TTFT</th><th class="num">tokens in → out</th><th class="num">spans</th>
    </tr></thead>
    <tbody id="trace-rows"></tbody>
  </table>
  <p id="list-note" class="dim" data-testid="list-note"></p>
</section>
<section id="trace-view" hidden>
  <p><a href="#/">← all traces</a></p>
  <h2 id="trace-title" data-testid="trace-title"></h2>
  <div id="trace-meta" data-testid="trace-meta"></div>
  <div id="waterfall" data-testid="waterfall"></div>
  <p class="dim legend">
    <span class="key ttft-key"></span> first token
    <span class="key seg queue"></span> queue
    <span class="key seg prefill"></span> prefill
    <span class="key seg decode"></span> decode
  </p>
  <div id="span-detail" data-testid="span-detail"></div>
</section>
<section id="summary-view" hidden>
  <p class="dim">Per model, over the traces kept: a trace counts once, under the model nearest its root; TTFT, TPOT and duration are its row's. Percentiles are nearest-rank.</p>
  <div id="summary-body" data-testid="summary"></div>
</section>
</main>
</body>
</html>
`;
