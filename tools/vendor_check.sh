#!/usr/bin/env bash
# Checks the field app's pinned libraries (web/field/vendor/VENDOR.md) against the npm registry:
# fetches each package's tarball (npm pack), checks its integrity against the pinned one, and
# compares each vendored file with the tarball's, byte for byte. With --update, copies the
# tarballs' files over the vendored ones instead of comparing (after a version change).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
vendor="$root/web/field/vendor"
update=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

# The package table: "| name | version | licence | integrity |" rows.
grep -E '^\| @?[a-z][^|]* \| [0-9]+\.[0-9]+\.[0-9]+ \|' "$vendor/VENDOR.md" | while IFS='|' read -r _ name version _ integrity _; do
  name=$(echo "$name" | xargs) version=$(echo "$version" | xargs) integrity=$(echo "$integrity" | xargs)
  (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
  tgz="$work/$(echo "${name#@}" | tr / -)-$version.tgz"
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "vendor-check: $name@$version: tarball integrity $got, pinned $integrity" >&2
    exit 1
  fi
  mkdir -p "$work/$name" && tar xzf "$tgz" -C "$work/$name"
  echo "$name@$version: integrity matches"
done

# The file table: "| `file` | package `path` | sha256 |" rows.
grep -E '^\| `[^`]+` \| @?[a-z]' "$vendor/VENDOR.md" | while IFS='|' read -r _ file from _; do
  file=$(echo "$file" | tr -d '` ') pkg=$(echo "$from" | awk '{print $1}') path=$(echo "$from" | awk '{print $2}' | tr -d '`')
  src="$work/$pkg/$path"
  if [ "$update" = "--update" ]; then
    cp "$src" "$vendor/$file" && echo "$file: updated from $pkg $path ($(sha256sum "$vendor/$file" | cut -c1-64))"
  elif cmp -s "$src" "$vendor/$file"; then
    echo "$file: same as $pkg $path"
  else
    echo "vendor-check: $file differs from $pkg $path" >&2
    exit 1
  fi
done || status=1
exit $status
