#!/usr/bin/env bash
# Debian's Chromium and its ChromeDriver for the browser tests (tests/browser), installed only
# when missing: a no-op on a machine that has them. Never downloads a browser build of its own.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: no apt-get here; install Chromium and ChromeDriver yourself" \
       "(the browser tests are skipped without /usr/bin/chromium)" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "install-browser: not root and no password-less sudo; run" \
       "'apt-get install chromium chromium-driver' as root (browser tests are skipped)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
/usr/bin/chromium --version
