#!/usr/bin/env bash
# Runs every test binary of a build tree and prints one closing line CI can read.
# Usage: tests/run.sh BUILD_DIR [TEST ...]   (e.g. build/asan; TEST: tests/sync/test_store ...)
# Given tests, runs only those (no browser tests): `make check` does.
set -u
tree=${1:-build/asan}
shift || true
only=("$@")
root=$(cd "$(dirname "$0")/.." && pwd)
export OUTFALLD="$root/$tree/outfalld"
export OUTFALLCTL="$root/$tree/outfallctl"
export OUTFALL_FIXTURES="${OUTFALL_FIXTURES:-$root/tests/fixtures}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0 failed=0 broken=()
if [ ${#only[@]} -gt 0 ]; then
  tests=$(for t in "${only[@]}"; do echo "$tree/$t"; done)
else
  tests=$(find "$tree/tests" -type f -name 'test_*' -perm -u+x | sort)
fi
for t in $tests; do
  name=${t#"$tree/tests/"}
  echo "=== $name"
  log=$(mktemp)
  "$t" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  # cmocka's summary: "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:"
  p=$(grep -aoE '^\[  PASSED  \] [0-9]+' "$log" | grep -oE '[0-9]+$' | awk '{s+=$1} END {print s+0}')
  f=$(grep -aoE '^\[  FAILED  \] [0-9]+ test' "$log" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
  p=${p:-0} f=${f:-0}
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1  # crashed (sanitizer, signal) before cmocka could count
  fi
  passed=$((passed + p)) failed=$((failed + f))
  [ "$f" -gt 0 ] && broken+=("$name")
  rm -f "$log"
done

# The console in headless Chromium (tests/browser): node's test runner, TAP "# pass N" / "# fail N".
if [ ${#only[@]} -eq 0 ]; then
  echo "=== browser"
  log=$(mktemp)
  "$root/tests/browser/run.sh" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  p=$(grep -aE '^# pass [0-9]+$' "$log" | awk '{s+=$3} END {print s+0}')
  f=$(grep -aE '^# fail [0-9]+$' "$log" | awk '{s+=$3} END {print s+0}')
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1  # the runner failed before it could count
  fi
  passed=$((passed + p)) failed=$((failed + f))
  [ "$f" -gt 0 ] && broken+=("browser")
  rm -f "$log"
fi

echo
[ ${#broken[@]} -gt 0 ] && echo "failing: ${broken[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
