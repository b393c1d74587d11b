#!/usr/bin/env bash
# The test command: installs what the tests need, starts the servers they talk to, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The servers' settings the integration tests read (scripts/servers/*.sh set them up).
export PGPASSWORD="${PGPASSWORD:-aurum-test}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export MONGO_URL="${MONGO_URL:-mongodb://127.0.0.1:27017}"
for s in scripts/servers/*.sh; do
  [ -e "$s" ] || continue
  bash "$s"
done
swift test "$@"
