#!/usr/bin/env bash
# `make fuzz`: runs each fuzz target for SECONDS, growing its working corpus in
# build/fuzz/corpus/NAME from the seeds (fuzz/corpus/NAME) and regressions (fuzz/regressions/NAME).
# Failing inputs land in build/fuzz/artifacts/NAME/. Usage: fuzz/run.sh SECONDS NAME...
set -u
seconds=${1:?seconds}; shift
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
passed=0 failed=0
for t in "$@"; do
  mkdir -p "build/fuzz/corpus/$t" "build/fuzz/artifacts/$t" build/fuzz/logs
  log="build/fuzz/logs/$t-long.log"
  dirs=("build/fuzz/corpus/$t" "fuzz/corpus/$t")
  [ -d "fuzz/regressions/$t" ] && dirs+=("fuzz/regressions/$t")
  echo "=== fuzz_$t for ${seconds}s (log: $log)"
  "build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=3072 \
    -print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$t/" "${dirs[@]}" >"$log" 2>&1
  status=$?
  grep -aE '^#[0-9]+ +DONE|^stat::number_of_executed_units' "$log" | tail -2
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    grep -av '^127\.0\.0\.1 ' "$log" | tail -40
    echo "fuzz_$t FAILED: the input is in build/fuzz/artifacts/$t/; once fixed, copy it to fuzz/regressions/$t/"
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
