#!/usr/bin/env bash
# Runs every test binary of a build tree, and the browser tests, and prints one closing line CI can
# read ("N passed, N failed").
# Usage: tests/run.sh [-j JOBS] BUILD_DIR [TEST ...]   (e.g. build/asan; TEST: tests/sync/test_store,
# or tests/browser/map.test.js, or s3:tests/api/test_photos for a photo test on a bucket). Given
# tests, runs only those: `make check` does.
#
# JOBS tests run at once (default: env TEST_JOBS, else three times nproc), a browser file counting
# as two: its Chromium and its server keep a core or more busy, while a C test mostly waits on its
# server, a timer or a child (at nproc jobs the C tests left the cores half idle; on 2 cores,
# three times nproc ran the part before ALONE in about 290 s against 350 s at twice nproc). Every
# test uses its own free loopback ports and temporary folders, so they do not meet. Each test's
# output is kept until it ends and then printed whole after a line "=== NAME (W s, cpu C s)": W
# its wall time, C the user + system time of it and its children (servers, browsers, tools). Each
# browser file (tests/browser/*.test.js, its own server and browser profile) is a job of its own.
# The longest tests (FIRST below) start first, then the other browser files, then the C tests.
set -u
jobs=${TEST_JOBS:-$((3 * $(nproc)))}
case "${1:-}" in
  -j) jobs=$2; shift 2 ;;
  -j*) jobs=${1#-j}; shift ;;
esac
tree=${1:-build/asan}
shift || true
only=("$@")
root=$(cd "$(dirname "$0")/.." && pwd)
export OUTFALLD="$root/$tree/outfalld"
export OUTFALLCTL="$root/$tree/outfallctl"
export OUTFALL_FIXTURES="${OUTFALL_FIXTURES:-$root/tests/fixtures}"
export OUTFALL_S3RVER="${OUTFALL_S3RVER:-$root/tests/s3/serve.mjs}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# The photo tests run a second time with the photos in an S3-compatible bucket (s3rver on
# loopback, tests/lib/s3rver.h): as "s3:BINARY", with OUTFALL_TEST_PHOTO_STORE=s3.
S3_TWICE="api/test_photos api/test_photos_tus api/test_photos_resume api/test_photo_holders api/test_report_photos api/test_exports"

if [ ${#only[@]} -gt 0 ]; then
  tests=$(for t in "${only[@]}"; do
    case $t in
      tests/browser/*) echo "${t#tests/}" ;;
      browser/*) echo "$t" ;;
      s3:*) echo "s3:$tree/${t#s3:}" ;;
      *) echo "$tree/$t" ;;
    esac
  done)
else
  # browser/NAME.test.js: that file through tests/browser/run.sh; first, as they take long.
  tests=$( (cd "$root/tests" && ls browser/*.test.js) && find "$tree/tests" -type f -name 'test_*' -perm -u+x | sort
    for t in $S3_TWICE; do [ -x "$tree/tests/$t" ] && echo "s3:$tree/tests/$t"; done)
  # The longest of the tests that run side by side (their "=== NAME (W s" lines: 30-70 s, then
  # 15-30 s) start first, so that no long one starts near the end and the parallel part ends
  # evenly; the others follow in the order above.
  FIRST="browser/field.test.js browser/field_forms.test.js browser/field_kept.test.js
    browser/language.test.js browser/field_inbox.test.js fuzz/test_fuzz reliability/test_offsite
    api/test_backups_list programme/test_progress api/test_demo"
  first=$(for f in $FIRST; do
    for t in $tests; do [ "$t" = "$f" ] || [ "$t" = "$tree/tests/$f" ] && echo "$t"; done
  done)
  tests=$(echo "$first" && for t in $tests; do [[ $'\n'$first$'\n' == *$'\n'$t$'\n'* ]] || echo "$t"; done)
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Runs test $1 (a binary, or browser/FILE.test.js) as job number $2: its output into $out/$2.log, then prints
# it whole under the lock and leaves "passed failed" in $out/$2.count.
run_one() {
  local t=$1 n=$2 name status p f start end
  local log="$out/$n.log"
  local store=local
  if [[ $t == s3:* ]]; then
    store=s3 t=${t#s3:}
  fi
  if [[ $t == browser/* ]]; then
    name=$t
  else
    name=${t#"$tree/tests/"}
  fi
  [ "$store" = s3 ] && name="s3:$name"
  start=$(date +%s.%N)
  # TIMEFORMAT: the user and system seconds of the test and everything it started.
  TIMEFORMAT='%U %S'
  {
    time {
      if [[ $t == browser/* ]]; then
        "$root/tests/browser/run.sh" "${t#browser/}" >"$log" 2>&1
      else
        OUTFALL_TEST_PHOTO_STORE=$store "$t" >"$log" 2>&1
      fi
      echo $? >"$out/$n.status"
    }
  } 2>"$out/$n.cpu"
  end=$(date +%s.%N)
  status=$(cat "$out/$n.status")
  if [[ $t == browser/* ]]; then
    # node's test runner, TAP: "# pass N" / "# fail N"
    p=$(grep -aE '^# pass [0-9]+$' "$log" | awk '{s+=$3} END {print s+0}')
    f=$(grep -aE '^# fail [0-9]+$' "$log" | awk '{s+=$3} END {print s+0}')
  else
    # cmocka's summary: "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:"
    p=$(grep -aoE '^\[  PASSED  \] [0-9]+' "$log" | grep -oE '[0-9]+$' | awk '{s+=$1} END {print s+0}')
    f=$(grep -aoE '^\[  FAILED  \] [0-9]+ test' "$log" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
  fi
  p=${p:-0} f=${f:-0}
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1 # crashed (sanitizer, signal) or the runner failed before it could count
  fi
  echo "$p $f $name" >"$out/$n.count"
  local wall cpu
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.0f", b - a}')
  cpu=$(awk '{printf "%.0f", $1 + $2}' "$out/$n.cpu")
  {
    flock 9
    echo "=== $name ($wall s, cpu $cpu s)"
    cat "$log"
  } 9>"$out/lock"
}

# Tests whose assertions time the server under the load they make themselves (slow clients
# against a login's time, lock-out delays, RSS and latency bounds, a crash's recovery, the feed's
# wait): they run last, one at a time, with nothing else on the machine's cores.
ALONE=" api/test_connections api/test_lockout api/test_attacks api/test_feed_wait reliability/test_soak reliability/test_crash "
alone=()
declare -A weight_of # a running job's pid -> its weight: 2 for a browser file, else 1
n=0 running=0
for t in $tests; do
  if [[ $ALONE == *" ${t#"$tree/tests/"} "* ]]; then
    alone+=("$t")
    continue
  fi
  w=1
  [[ $t == browser/* ]] && w=2
  # Wait for room (a test heavier than JOBS runs once nothing else does).
  while [ "$running" -gt 0 ] && [ $((running + w)) -gt "$jobs" ]; do
    done_pid=
    wait -n -p done_pid
    if [ -z "$done_pid" ]; then
      running=0 # no job left to wait for
    else
      running=$((running - ${weight_of[$done_pid]:-1}))
      unset "weight_of[$done_pid]"
    fi
  done
  n=$((n + 1))
  run_one "$t" "$n" &
  weight_of[$!]=$w
  running=$((running + w))
done
wait
for t in "${alone[@]}"; do
  n=$((n + 1))
  run_one "$t" "$n"
done

passed=0 failed=0 broken=()
for c in "$out"/*.count; do
  [ -e "$c" ] || continue
  read -r p f name <"$c"
  passed=$((passed + p)) failed=$((failed + f))
  [ "$f" -gt 0 ] && broken+=("$name")
done
[ "$n" -gt $(ls "$out"/*.count 2>/dev/null | wc -l) ] && { broken+=("(a test did not report)"); failed=$((failed + 1)); }

echo
[ ${#broken[@]} -gt 0 ] && echo "failing: ${broken[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
