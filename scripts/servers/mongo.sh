#!/usr/bin/env bash
# Installs (if missing) libmongoc/libbson and the SecantusDB MongoDB-compatible server (PyPI
# `secantusdb`, in a venv at /opt/aurum-venv), and starts it in memory on 127.0.0.1:27017,
# detached, logging to ${MONGO_LOG:-/tmp/aurum-secantus.log}. Idempotent: does nothing when the
# port already answers.
set -euo pipefail
SUDO=""; if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
PORT="${MONGO_PORT:-27017}"
VENV="${AURUM_VENV:-/opt/aurum-venv}"
LOG="${MONGO_LOG:-/tmp/aurum-secantus.log}"
missing=""
for p in libmongoc-dev libbson-dev python3-venv; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
if answers; then echo "mongo: already answering on 127.0.0.1:$PORT"; exit 0; fi
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import secantus" 2>/dev/null; then
  if [ ! -x "$VENV/bin/python" ]; then $SUDO python3 -m venv "$VENV" || $SUDO /usr/bin/python3 -m venv "$VENV"; fi
  $SUDO "$VENV/bin/pip" install -q secantusdb
fi
setsid nohup "$VENV/bin/python" -m secantus --host 127.0.0.1 --port "$PORT" --storage-path :memory: >"$LOG" 2>&1 < /dev/null &
for _ in $(seq 1 100); do
  if answers; then echo "mongo: SecantusDB started on 127.0.0.1:$PORT (log: $LOG)"; exit 0; fi
  sleep 0.2
done
echo "mongo: SecantusDB did not answer on 127.0.0.1:$PORT; see $LOG" >&2; tail -20 "$LOG" >&2 || true; exit 1
