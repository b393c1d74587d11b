#!/usr/bin/env bash
# The test command: installs what the tests need, starts the servers they talk to, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
for s in scripts/servers/*.sh; do
  [ -e "$s" ] || continue
  bash "$s"
done
swift test "$@"
