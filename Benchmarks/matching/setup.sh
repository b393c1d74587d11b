#!/usr/bin/env bash
# Installs Splink 5 (DuckDB backend) into its own venv for the matching benchmark (run as root,
# or with sudo). Kept apart from /opt/aurum-venv so its pins cannot clash with the test servers'.
set -euo pipefail
SUDO=""; if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
VENV="${AURUM_SPLINK_VENV:-/opt/aurum-splink-venv}"
dpkg -s python3-venv >/dev/null 2>&1 || { $SUDO apt-get update -qq; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv; }
if [ ! -x "$VENV/bin/python" ]; then $SUDO python3 -m venv "$VENV"; fi
"$VENV/bin/python" -c "import splink, duckdb" 2>/dev/null || $SUDO "$VENV/bin/pip" install -q "splink==5.0.0"
echo "splink: $("$VENV/bin/python" -c 'import splink, duckdb; print("splink", splink.__version__, "duckdb", duckdb.__version__)') in $VENV"
