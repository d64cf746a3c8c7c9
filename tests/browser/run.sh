#!/usr/bin/env bash
# Runs the console's browser tests (node's test runner, TAP output: "# pass N", "# fail N").
# Usage: tests/browser/run.sh [FILE.test.js ...]   (default: every file)
# Needs Debian's Chromium (env CHROMIUM, default /usr/bin/chromium), Node.js 20+, and
# node_modules from `npm ci` (make test does both). Fails loudly when any is missing: these tests
# never skip. The server is env OUTFALLD (tests/run.sh sets it), default build/asan/outfalld.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
fail() { echo "browser tests: $*" >&2; echo "# pass 0"; echo "# fail 1"; exit 1; }

[ -x "$CHROMIUM" ] || fail "Chromium not found at $CHROMIUM (apt-get install chromium, or make test as root)"
command -v node >/dev/null || fail "node not found (Node.js 20 or newer)"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || fail "Node.js $(node --version) is too old: the tests need 20 or newer"
[ -f "$here/node_modules/playwright-core/package.json" ] ||
  fail "playwright-core is not installed: run (cd tests/browser && npm ci)"
[ -x "${OUTFALLD:-$here/../../build/asan/outfalld}" ] || fail "no server binary at ${OUTFALLD:-build/asan/outfalld}"

cd "$here" || exit 1
# --test-timeout bounds each test file as a whole (5 minutes, for a slow machine); each test sets
# its own, shorter one. Given files (names in tests/browser), runs those: tests/run.sh runs each
# file as a job of its own.
if [ $# -gt 0 ]; then
  files=("$@")
else
  files=(./*.test.js)
fi
exec node --test --test-reporter=tap --test-concurrency=1 --test-timeout=300000 "${files[@]}"
