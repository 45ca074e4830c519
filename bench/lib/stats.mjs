// Summaries and number formats for the report.
export const median = (a) => {
  const s = a.filter((x) => x != null && !Number.isNaN(x)).sort((x, y) =>
    x - y
  );
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const min = (a) => Math.min(...a.filter((x) => x != null));
export const max = (a) => Math.max(...a.filter((x) => x != null));
export const f0 = (
  x,
) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a");
export const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
export const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
// A Δ cell: "—" on the baseline row itself, else the signed difference.
export const delta = (c, base, a, b) =>
  c === base ? "—" : (a - b >= 0 ? "+" : "") + f3(a - b);
export const mb = (
  x,
) => (Number.isFinite(x) ? (x / 1048576).toFixed(1) : "n/a");
export const kb = (x) => (x / 1024).toFixed(1);
