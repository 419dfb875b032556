#!/usr/bin/env bash
# The browser checks need a Chromium. Install Debian's when it is missing and we may (root with
# apt-get); under CI=true a missing browser is an error, elsewhere the checks report a skip.
set -uo pipefail
if [ -n "${DCLM_CHROMIUM:-}" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser checks (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if command -v chromium >/dev/null; then
  exit 0
fi
if [ "${CI:-}" = "true" ]; then
  echo "CI=true but no Chromium could be installed: the browser checks must run in CI" >&2
  exit 1
fi
echo "no Chromium: the browser checks will be skipped (install: sudo apt-get install -y chromium)"
