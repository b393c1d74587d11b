#!/usr/bin/env bash
# Installs what Aurum needs to build and test on Debian 12 (run as root, or with sudo available).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
pkgs="libsqlite3-dev sqlite3 libsnappy-dev libzstd-dev zlib1g-dev libxml2-dev libpq-dev libhiredis-dev libmongoc-dev libbson-dev"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
# Reference implementations the tests compare against (never used by Aurum itself).
python3 -c "import pyarrow, openpyxl" 2>/dev/null || python3 -m pip install -q pyarrow openpyxl
echo "setup: system packages ready"
