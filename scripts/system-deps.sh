#!/usr/bin/env bash
# System packages the test suite drives for real: PostgreSQL (the oversight store's second
# backend) and Debian's Chromium (browser tests of the dashboard through Playwright).
# Idempotent: does nothing when both are present. Needs root and Debian's apt; elsewhere it
# says what is missing and the tests that need them skip with that reason.
set -euo pipefail
need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ "${#need[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${need[*]} (install them with your package manager)" >&2
  exit 0
fi
echo "== installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
