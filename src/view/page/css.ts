// The viewer page's style, served at /app.css (a string module, as app_js.ts).
// Kept free of backticks and "${" so it can live in a raw template literal.
export const APP_CSS: string = String.raw`:root {
  --bg: #fbfbfa; --fg: #1d1f21; --dim: #6b7076; --line: #e3e4e6; --hover: #f0f3f7;
  --server: #3a7bd5; --client: #7e57c2; --internal: #5b8a72; --other: #8a8f98;
  --error: #d64545; --cancel: #c98a1b; --ok: #2e8b57; --ttft: #e8590c;
  --queue: #adb5bd; --prefill: #f59f00; --decode: #4dabf7;
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #16181b; --fg: #e2e4e7; --dim: #8d939a; --line: #2c3035; --hover: #20252b;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: baseline; gap: 1.5em; padding: .6em 1.2em; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.15em; margin: 0; }
h2 { font-size: 1.2em; margin: .2em 0; word-break: break-all; }
h3 { font-size: 1.05em; margin: 1em 0 .4em; word-break: break-all; }
h4 { margin: .9em 0 .3em; font-size: .95em; }
nav a { margin-right: 1em; color: var(--dim); text-decoration: none; }
nav a.on { color: var(--fg); font-weight: 600; border-bottom: 2px solid var(--server); }
#status { margin-left: auto; color: var(--dim); }
#status.live::before { content: "● "; color: var(--ok); }
#status.down::before { content: "● "; color: var(--error); }
main { padding: .8em 1.2em; }
a { color: var(--server); }
.dim { color: var(--dim); }
form { display: flex; flex-wrap: wrap; gap: .6em 1.2em; margin-bottom: .8em; align-items: center; }
label { color: var(--dim); }
select, input, button { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: .15em .35em; }
input[type=number] { width: 6em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--dim); white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
/* Fixed layout: the widths come from the header, so a live list of hundreds
   of rows is laid out without measuring every cell. */
table.traces { table-layout: fixed; }
table.traces td { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
table.traces th:nth-child(1) { width: 9em; }
table.traces th:nth-child(3), table.traces th:nth-child(4) { width: 15%; }
table.traces th:nth-child(5) { width: 10.5em; }
table.traces th:nth-child(6), table.traces th:nth-child(7) { width: 6.5em; }
table.traces th:nth-child(8) { width: 10em; }
table.traces th:nth-child(9) { width: 4.5em; }
table.traces tbody tr { cursor: pointer; }
table.traces tbody tr:hover, table.traces tbody tr:focus { background: var(--hover); outline: none; }

td.route, td.time { white-space: nowrap; }
.badge { display: inline-block; padding: 0 .45em; border-radius: 3px; font-size: .85em; color: #fff; background: var(--ok); }
.badge.error { background: var(--error); }
.badge.cancel { background: var(--cancel); }
#trace-meta { display: flex; flex-wrap: wrap; gap: .3em 1.2em; margin: .4em 0 1em; align-items: baseline; }
.meta { white-space: nowrap; }
#waterfall { border-top: 1px solid var(--line); }
.wf-row { display: grid; grid-template-columns: minmax(16em, 32%) 1fr; border-bottom: 1px solid var(--line); min-height: 1.9em; cursor: pointer; }
.wf-row:hover, .wf-row:focus { background: var(--hover); outline: none; }
.wf-row.selected { background: var(--hover); box-shadow: inset 3px 0 0 var(--server); }
.wf-axis { cursor: default; min-height: 1.5em; color: var(--dim); font-size: .85em; }
.wf-label { padding: .25em .4em; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; display: flex; gap: .45em; align-items: baseline; }
.span-name { overflow: hidden; text-overflow: ellipsis; }
.kind { font-size: .75em; color: var(--dim); border: 1px solid var(--line); border-radius: 3px; padding: 0 .3em; }
.wf-track { position: relative; margin-right: 12em; }
.tick-label { position: absolute; top: .2em; transform: translateX(-50%); white-space: nowrap; }
.tick-label:first-child { transform: none; }
.bar { position: absolute; top: .45em; height: 1em; border-radius: 2px; background: var(--other); opacity: .85; }
.bar.kind-1 { background: var(--internal); }
.bar.kind-2 { background: var(--server); }
.bar.kind-3 { background: var(--client); }
.bar.error { outline: 2px solid var(--error); }
.bar.cancel { outline: 2px dashed var(--cancel); }
.seg { position: absolute; top: 1.5em; height: .3em; }
.seg.queue, .key.queue { background: var(--queue); }
.seg.prefill, .key.prefill { background: var(--prefill); }
.seg.decode, .key.decode { background: var(--decode); }
.ttft { position: absolute; top: .2em; width: 2px; height: 1.5em; margin-left: -1px; background: var(--ttft); }
.dur { position: absolute; top: .3em; padding-left: .4em; white-space: nowrap; color: var(--dim); font-size: .85em; }
.legend { margin: .5em 0; }
.key { display: inline-block; width: 1.2em; height: .5em; margin: 0 .2em 0 .8em; vertical-align: middle; }
.key.seg { position: static; }
.ttft-key { width: 2px; height: 1em; background: var(--ttft); }
#span-detail { margin-top: 1em; max-width: 70em; }
table.attrs th { width: 18em; font-weight: normal; color: var(--dim); overflow-wrap: anywhere; }
table.attrs td { white-space: pre-wrap; overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .92em; }
.event, .link { margin-left: 1em; }
table.summary td, table.summary th { white-space: nowrap; }
.hist { display: inline-block; margin: .5em 1.5em 2.5em 0; vertical-align: top; }
.hist figcaption { margin-bottom: .3em; }
.hist-bars { display: flex; align-items: flex-end; gap: 3px; height: 140px; }
.hist-col { display: flex; flex-direction: column; justify-content: flex-end; align-items: center; width: 2.2em; height: 100%; }
.hist-bar { width: 100%; background: var(--ttft); min-height: 1px; border-radius: 2px 2px 0 0; }
.hist-n { font-size: .8em; color: var(--dim); }
.hist-label { font-size: .7em; color: var(--dim); white-space: nowrap; transform: rotate(-35deg); transform-origin: top right; margin-top: .2em; height: 2.4em; }
`;
