#!/usr/bin/env bash
# Runs every test under Deno and under Bun, then the npm build's tests under
# Node (`npm run build`, `node --test tests/node/*.test.mjs`), and prints one
# line that adds up all three runners: "N passed, M failed". Exit status is
# non-zero when any runner failed or ran no test.
set -uo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1
bash scripts/deps.sh
DENO=node_modules/.bin/deno
BUN=node_modules/.bin/bun
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== deno test"
"$DENO" test -A tests/ 2>&1 | tee "$tmp/deno.log"
deno_rc=${PIPESTATUS[0]}
echo "== bun test"
"$BUN" test tests/ 2>&1 | tee "$tmp/bun.log"
bun_rc=${PIPESTATUS[0]}
echo "== npm run build + node --test"
{ node scripts/build_npm.mjs && node --test tests/node/*.test.mjs; } 2>&1 | tee "$tmp/node.log"
node_rc=${PIPESTATUS[0]}

# deno: "ok | 12 passed | 0 failed (1s)" or "FAILED | 11 passed | 1 failed"
dp=$(grep -Eo '[0-9]+ passed' "$tmp/deno.log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)
df=$(grep -Eo '[0-9]+ failed' "$tmp/deno.log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)
# bun: " 12 pass" and " 0 fail" summary lines
bp=$(grep -E '^ *[0-9]+ pass$' "$tmp/bun.log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)
bf=$(grep -E '^ *[0-9]+ fail$' "$tmp/bun.log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)
# node --test: "# pass 7" and "# fail 0" (TAP summary)
np=$(grep -E '^# pass [0-9]+$' "$tmp/node.log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)
nf=$(grep -E '^# fail [0-9]+$' "$tmp/node.log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)
dp=${dp:-0}; df=${df:-0}; bp=${bp:-0}; bf=${bf:-0}; np=${np:-0}; nf=${nf:-0}
echo "deno: $dp passed, $df failed (exit $deno_rc); bun: $bp passed, $bf failed (exit $bun_rc); node: $np passed, $nf failed (exit $node_rc)"
passed=$((dp + bp + np))
failed=$((df + bf + nf))
# A runner that crashed before its summary counts as a failure.
if [ "$deno_rc" -ne 0 ] && [ "$df" -eq 0 ]; then failed=$((failed + 1)); fi
if [ "$bun_rc" -ne 0 ] && [ "$bf" -eq 0 ]; then failed=$((failed + 1)); fi
if [ "$node_rc" -ne 0 ] && [ "$nf" -eq 0 ]; then failed=$((failed + 1)); fi
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$dp" -eq 0 ] || [ "$bp" -eq 0 ] || [ "$np" -eq 0 ]; then exit 1; fi
