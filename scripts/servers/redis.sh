#!/usr/bin/env bash
# Installs (if missing) and starts a local Redis on 127.0.0.1:6379 for the AurumRedis tests.
# Idempotent and non-interactive: does nothing when a server already answers PING.
set -euo pipefail
SUDO=""; if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
PORT="${REDIS_PORT:-6379}"
missing=""
for p in redis-server libhiredis-dev; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
if redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then
  echo "redis: already running on 127.0.0.1:$PORT"; exit 0
fi
redis-server --daemonize yes --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no
for _ in $(seq 1 50); do
  if redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then echo "redis: started on 127.0.0.1:$PORT"; exit 0; fi
  sleep 0.1
done
echo "redis: did not answer PING on 127.0.0.1:$PORT" >&2; exit 1
