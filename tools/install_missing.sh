#!/bin/sh
# Installs the Debian packages given after WHAT (those found missing) when run as root; otherwise
# names them and fails. With no package, does nothing. Used by the Makefile's deps targets.
# Usage: install_missing.sh WHAT [PKG ...]   (WHAT: "" or e.g. "for the tests")
set -eu
what=$1
shift
[ $# -gt 0 ] || exit 0
if [ "$(id -u)" = 0 ]; then
  echo "installing Debian packages${what:+ $what}:" "$@"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@") >/dev/null
else
  echo "missing Debian packages${what:+ $what}: $*" >&2
  echo "install them with: sudo apt-get install $*" >&2
  exit 1
fi
