#!/usr/bin/env bash
# Runs the official W3C Trace Context test suite (w3c/trace-context, its
# test/ folder: a Python harness) against llmtrace's test service
# (tests/fixtures/w3c_server.ts: traceHandler + tracedFetch) under Deno and
# under Bun, strict level 2, spec level 2, and prints per runtime the counts
# and the names of the failing cases, then "N passed, M failed" over both.
#
#   tests/conformance/w3c.sh [SUITE_DIR]      (or W3C_SUITE_DIR=...)
#
# SUITE_DIR is a checkout of the suite: the repository root or its test/
# folder (the one holding test.py). The suite is not part of this repository
# and is not shipped by any npm or Debian package; bring your own copy.
# Needs a Python 3 with aiohttp (Debian: `apt-get install -y python3-aiohttp`,
# then /usr/bin/python3); W3C_PYTHON picks another interpreter.
# W3C_RUNTIMES="deno bun" (default) selects the runtimes; W3C_LOG_DIR keeps
# the harness's logs; W3C_VERBOSE=1 prints the tracebacks of failing cases. Every step is
# bounded in time; every process started here is stopped by its pid.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export NO_COLOR=1

suite=${1:-${W3C_SUITE_DIR:-}}
if [ -z "$suite" ]; then
  echo "usage: $0 SUITE_DIR (a w3c/trace-context checkout, or its test/ folder)" >&2
  exit 2
fi
[ -f "$suite/test/test.py" ] && suite="$suite/test"
if [ ! -f "$suite/test.py" ] || [ ! -d "$suite/tracecontext" ]; then
  echo "w3c.sh: no test.py and tracecontext/ in $suite" >&2
  exit 2
fi
suite=$(cd "$suite" && pwd)

py=${W3C_PYTHON:-}
if [ -z "$py" ]; then
  for c in /usr/bin/python3 python3; do
    if command -v "$c" >/dev/null && "$c" -c 'import aiohttp, multidict' 2>/dev/null; then
      py=$c
      break
    fi
  done
fi
if [ -z "$py" ]; then
  echo "w3c.sh: no Python 3 with aiohttp (apt-get install -y python3-aiohttp)" >&2
  exit 2
fi

runtimes=${W3C_RUNTIMES:-deno bun}
[ -x node_modules/.bin/deno ] && [ -x node_modules/.bin/bun ] ||
  npm install --no-audit --no-fund >/dev/null
tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

total_pass=0
total_fail=0
started_all=$(date +%s)
for rt in $runtimes; do
  case $rt in
    deno) cmd=(node_modules/.bin/deno run -A --quiet tests/fixtures/w3c_server.ts) ;;
    bun) cmd=(node_modules/.bin/bun tests/fixtures/w3c_server.ts) ;;
    *) echo "w3c.sh: unknown runtime $rt" >&2; exit 2 ;;
  esac
  started=$(date +%s)
  out="$tmp/$rt.server.log"
  W3C_MAX_SECONDS=300 "${cmd[@]}" >"$out" 2>"$tmp/$rt.server.err" </dev/null &
  server_pid=$!
  port=""
  for _ in $(seq 1 300); do # 30 s to start (first Deno run compiles)
    port=$(grep -o '"port":[0-9]*' "$out" 2>/dev/null | head -n 1 | cut -d: -f2)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "== $rt: the test service did not start"
    cat "$tmp/$rt.server.err"
    total_fail=$((total_fail + 1))
    kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=""
    continue
  fi
  hport=$(free_port)
  echo "== $rt: W3C suite (STRICT_LEVEL=2, SPEC_LEVEL=2) against http://127.0.0.1:$port/test, harness on :$hport"
  (
    cd "$suite" &&
      PYTHONDONTWRITEBYTECODE=1 STRICT_LEVEL=2 SPEC_LEVEL=2 \
        HARNESS_HOST=127.0.0.1 HARNESS_PORT="$hport" HARNESS_TIMEOUT=5 \
        timeout -k 5 240 "$py" test.py "http://127.0.0.1:$port/test"
  ) >"$tmp/$rt.suite.log" 2>&1 </dev/null
  rc=$?
  kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=""
  log="$tmp/$rt.suite.log"
  # unittest's summary: "Ran 41 tests in 0.6s", then "OK", "OK (skipped=1)"
  # or "FAILED (failures=2, errors=1, skipped=1)"; one "FAIL: name (...)"
  # or "ERROR: name (...)" block per failing case.
  ran=$(grep -Eo '^Ran [0-9]+ tests?' "$log" | grep -Eo '[0-9]+' || true)
  summary=$(grep -E '^(OK|FAILED)( \(.*\))?$' "$log" | tail -n 1)
  count() { echo "$summary" | grep -Eo "$1=[0-9]+" | cut -d= -f2 || true; }
  failures=$(count failures); errors=$(count errors); skip=$(count skipped)
  fail=$(( ${failures:-0} + ${errors:-0} ))
  skip=${skip:-0}
  # A harness that crashed or hung (no summary) counts as one failure.
  if [ -z "$ran" ] || [ -z "$summary" ]; then
    echo "   the harness did not finish (exit $rc):"
    tail -n 20 "$log" | sed 's/^/   /'
    ran=${ran:-0}
    fail=$((fail + 1))
  fi
  pass=$((ran - fail - skip))
  [ "$pass" -lt 0 ] && pass=0
  echo "$rt: $pass passed, $fail failed, $skip skipped of $ran ($(($(date +%s) - started)) s)"
  grep -E '^(FAIL|ERROR): test_' "$log" | sed -E 's/^(FAIL|ERROR): (test_[A-Za-z0-9_]+) \(([^)]*)\)$/   \1 \3/'
  if [ -n "${W3C_LOG_DIR:-}" ]; then
    mkdir -p "$W3C_LOG_DIR" && cp "$log" "$W3C_LOG_DIR/$rt.suite.log" &&
      cp "$tmp/$rt.server.err" "$W3C_LOG_DIR/$rt.server.err"
  fi
  if [ -n "${W3C_VERBOSE:-}" ] && [ "$fail" -gt 0 ]; then
    sed -n '/^=====/,$p' "$log" | head -n 200
  fi
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
done
echo "w3c: both runtimes in $(($(date +%s) - started_all)) s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
