#!/usr/bin/env bash
# Installs (if missing) and starts PostgreSQL 15, creates a superuser role for the current user and a
# database of the same name, and sets a password so TCP connections (scram-sha-256) work too.
# Idempotent and non-interactive. Exports nothing; prints the settings the tests read:
#   PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD
# Override with AURUM_PG_PASSWORD (default: aurum-test) and PGPORT (default: 5432).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
VERSION=15
CLUSTER=main
PORT="${PGPORT:-5432}"
PASSWORD="${AURUM_PG_PASSWORD:-aurum-test}"
ME="$(id -un)"

missing=""
for p in postgresql libpq-dev; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi

if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$VERSION $CLUSTER"; then
  $SUDO pg_createcluster "$VERSION" "$CLUSTER" -p "$PORT" >/dev/null
fi
status="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $4}')"
if [ "$status" != "online" ]; then
  $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" start
fi
PORT="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $3}')"

# Wait until the server accepts connections (up to 30 s).
for _ in $(seq 1 60); do
  if pg_isready -q -h /var/run/postgresql -p "$PORT"; then break; fi
  sleep 0.5
done
pg_isready -q -h /var/run/postgresql -p "$PORT" || { echo "postgres.sh: server did not start" >&2; exit 1; }

as_postgres() {
  if [ "$ME" = "postgres" ]; then "$@"
  elif [ "$(id -u)" = "0" ]; then su postgres -c "$(printf '%q ' "$@")"
  else sudo -u postgres "$@"; fi
}
psql_pg() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -p "$PORT" -d postgres "$@"; }

if [ "$(psql_pg -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$ME'")" != "1" ]; then
  psql_pg -c "CREATE ROLE \"$ME\" LOGIN SUPERUSER"
fi
psql_pg -c "ALTER ROLE \"$ME\" WITH LOGIN SUPERUSER PASSWORD '$PASSWORD'"
if [ "$(psql_pg -tAc "SELECT 1 FROM pg_database WHERE datname = '$ME'")" != "1" ]; then
  psql_pg -c "CREATE DATABASE \"$ME\" OWNER \"$ME\""
fi

echo "PGHOST=/var/run/postgresql"
echo "PGPORT=$PORT"
echo "PGUSER=$ME"
echo "PGDATABASE=$ME"
echo "PGPASSWORD=$PASSWORD"
echo "# TCP: host=127.0.0.1 port=$PORT user=$ME password=$PASSWORD dbname=$ME"
