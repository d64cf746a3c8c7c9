#!/usr/bin/env bash
# Runs the field-day benchmark against the optimised server and prints its table.
# Usage: bench/run.sh [--quick] [fieldday flags ...]   (bench/README.md; `fieldday --help`)
# Called by `make bench ARGS='...'`, which builds build/release/outfalld and the benchmark first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=build/release/bench/fieldday
server=build/release/outfalld
for f in "$bin" "$server"; do
  if [ ! -x "$f" ]; then
    echo "bench/run.sh: $f is missing; run make bench" >&2
    exit 2
  fi
done
# The command line the table names: what the reader would type again.
export BENCH_COMMAND="make bench${*:+ ARGS='$*'}"
exec "$bin" --outfalld "$server" --fixtures "${OUTFALL_FIXTURES:-$root/tests/fixtures}/photos" "$@"
