#!/usr/bin/env bash
# Photos into the store, local folder against a bucket (docs/performance.md, "Photos into a
# bucket"): `outfallctl photos upload` of N unique copies (default 100) of a 290 KB fixture, tus
# in 1 MiB chunks from one client, into the release server on its data folder, then into the same
# server with --photo-store on s3rver (tests/s3/serve.mjs) on loopback. Prints one line per store.
# Needs make build and make node-deps. Usage: bench/photo_store.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
export OUTFALL_ADMIN_PASSWORD=bench-photo-store-1234
mkdir "$tmp/photos"
for i in $(seq "$n"); do
  { cat tests/fixtures/photos/qinhe-outfall-a-1.jpg; head -c 16 /dev/urandom; } >"$tmp/photos/p$i.jpg"
done
node tests/s3/serve.mjs "$tmp/objects" "$tmp/s3ready" 0 outfall-photos >"$tmp/s3.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do [ -s "$tmp/s3ready" ] && break; sleep 0.1; done
printf 'access_key_id=S3RVER\nsecret_access_key=S3RVER\n' >"$tmp/cred"
chmod 600 "$tmp/cred"
for store in local s3; do
  extra=()
  [ "$store" = s3 ] && extra=(--photo-store s3://outfall-photos/city --photo-store-endpoint
    "http://$(cat "$tmp/s3ready")" --photo-store-credentials "$tmp/cred")
  build/release/outfalld --listen 127.0.0.1:0 --data "$tmp/data-$store" \
    --ready-file "$tmp/ready-$store" "${extra[@]}" >"$tmp/server-$store.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do [ -s "$tmp/ready-$store" ] && break; sleep 0.1; done
  export OUTFALL_SERVER="http://$(cat "$tmp/ready-$store")"
  OUTFALL_TOKEN=$(OUTFALL_PASSWORD=$OUTFALL_ADMIN_PASSWORD build/release/outfallctl login admin)
  export OUTFALL_TOKEN
  start=$(date +%s.%N)
  build/release/outfallctl photos upload "$tmp/photos" >"$tmp/upload-$store.out" 2>/dev/null
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v n="$n" -v store="$store" -v said="$(tail -1 "$tmp/upload-$store.out")" \
    'BEGIN { printf "%-5s %s: %.2f s, %.1f photos/s\n", store, said, e - s, n / (e - s) }'
  kill "$pid"
  wait "$pid" || true
done
