#!/usr/bin/env bash
# Installs the pinned packages when node_modules is missing or older than the
# lock file (a pull that added a package), so `npm run demo` and `npm test`
# work on a fresh clone and after an update alike. npm records what it
# installed in node_modules/.package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
installed=node_modules/.package-lock.json
if [ ! -x node_modules/.bin/deno ] || [ ! -x node_modules/.bin/bun ] ||
  [ ! -f "$installed" ] || [ package-lock.json -nt "$installed" ]; then
  npm install --no-audit --no-fund
fi
