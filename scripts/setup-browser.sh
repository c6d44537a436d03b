#!/usr/bin/env bash
# Installs the headless browser the browser tests drive (test/browser/): Debian's `chromium`
# package at /usr/bin/chromium, which playwright-core launches. Idempotent: does nothing when
# /usr/bin/chromium exists (or DLC_CHROMIUM names another binary that exists).
set -euo pipefail

bin="${DLC_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$bin" ]; then
  echo "setup-browser: $bin is installed ($("$bin" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-browser: this script knows Debian/Ubuntu (apt); install Chromium by hand and set DLC_CHROMIUM to its path" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi

$SUDO apt-get update -o Acquire::Retries=3
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends -o Acquire::Retries=3 chromium fonts-dejavu-core

[ -x "$bin" ] || { echo "setup-browser: $bin is still missing after installing chromium" >&2; exit 1; }
echo "setup-browser: installed $("$bin" --version 2>/dev/null || echo chromium)"
