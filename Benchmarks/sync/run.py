#!/usr/bin/env python3
"""Sync benchmark: golden records → PostgreSQL, first sync and a 1% change set.

Builds a warehouse with N golden records directly (no matching: this times sync alone), then runs
`aurum sync` three times against a fresh PostgreSQL schema and prints each time:
  1. the first sync (every row: COPY in one transaction, and the state of every key recorded);
  2. after a 1% change set in the golden table (0.5% updated, 0.25% deleted, 0.25% new):
     the diff (SQL over hashes) and the upserts and deletes;
  3. again with nothing new (the diff only; the target is not written).
Usage (after `swift build -c release`): python3 Benchmarks/sync/run.py [--rows 1000000]
Needs the PostgreSQL test server (scripts/servers/postgres.sh) and the sqlite3 shell.
"""
import argparse, os, shutil, subprocess, sys, tempfile, time, uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AURUM = os.environ.get("AURUM_BIN", os.path.join(ROOT, ".build/release/aurum"))
PGHOST = os.environ.get("PGHOST", "/var/run/postgresql")
PGUSER = os.environ.get("PGUSER", "root")
PGDB = os.environ.get("PGDATABASE", PGUSER)

def sh(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)

def psql(sql):
    return sh(["psql", "-h", PGHOST, "-U", PGUSER, "-d", PGDB, "-qAtc", sql]).stdout.strip()

def timed(args, cwd):
    t0 = time.perf_counter()
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{r.stdout}\n{r.stderr}")
    return dt, r.stdout.strip()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    a = ap.parse_args()
    n = a.rows
    if not os.path.exists(AURUM):
        sys.exit(f"{AURUM} not found: swift build -c release first")
    work = tempfile.mkdtemp(prefix="aurum-sync-bench-")
    schema = "aurum_bench_" + uuid.uuid4().hex[:8]
    try:
        with open(os.path.join(work, "people.csv"), "w") as f:
            f.write("id,given_name,family_name,dob,email,city\n1,a,b,2000-01-01,a@b.c,x\n")
        conn = f"host={PGHOST} dbname={PGDB} user={PGUSER}"
        with open(os.path.join(work, "catalog.yaml"), "w") as f:
            f.write(f"""version: 1
sources:
  - {{name: people, type: csv, path: people.csv, key: id}}
entities:
  person:
    attributes: [given_name, family_name, dob, email, city]
    sources:
      people: {{given_name: given_name, family_name: family_name, dob: dob, email: email, city: city}}
    match:
      mode: deterministic
      deterministic: [[email]]
      blocking: [[email]]
outputs:
  - {{name: pg, format: postgresql, connection: "{conn}", table: {schema}.golden, sync: true}}
""")
        # The warehouse: created and migrated by aurum, then a succeeded run and N golden records.
        sh([AURUM, "status", "catalog.yaml"], cwd=work)
        db = os.path.join(work, "aurum.db")
        sql = f"""
PRAGMA journal_mode = WAL;
INSERT INTO runs(run_id, catalog, command, started_at, status) VALUES (1, 'catalog.yaml', 'run', '2026-01-01', 'succeeded');
INSERT INTO run_steps(run_id, step_no, name, started_at, status) VALUES (1, 1, 'match:person', '2026-01-01', 'succeeded');
CREATE TABLE golden_person (golden_id INTEGER PRIMARY KEY, given_name TEXT, family_name TEXT, dob TEXT, email TEXT, city TEXT,
  __records INTEGER NOT NULL, __sources TEXT NOT NULL);
WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < {n})
INSERT INTO golden_person SELECT x, 'given' || (x % 5000), 'family' || (x % 20000), date('1950-01-01', '+' || (x % 20000) || ' days'),
  'person' || x || '@example.com', 'city' || (x % 300), 1 + x % 3, 'crm;shop' FROM i;
"""
        sh(["sqlite3", db], input=sql)
        psql(f"CREATE SCHEMA {schema}")
        t1, out1 = timed([AURUM, "sync", "catalog.yaml", "--quiet"], work)
        # The 1% change set: 0.5% updated, 0.25% deleted, 0.25% new.
        sh(["sqlite3", db], input=f"""
UPDATE golden_person SET email = 'changed' || golden_id || '@example.org' WHERE golden_id % 200 = 1;
DELETE FROM golden_person WHERE golden_id % 400 = 3;
WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < {n // 400})
INSERT INTO golden_person SELECT {n} + x, 'new', 'new', '2000-01-01', 'new' || x || '@example.com', 'city1', 1, 'crm' FROM i;
INSERT INTO runs(catalog, command, started_at, status) VALUES ('catalog.yaml', 'run', '2026-01-02', 'succeeded');
INSERT INTO run_steps(run_id, step_no, name, started_at, status) VALUES (last_insert_rowid(), 1, 'match:person', '2026-01-02', 'succeeded');
""")
        tp, outp = timed([AURUM, "sync", "catalog.yaml", "--plan"], work)
        t2, out2 = timed([AURUM, "sync", "catalog.yaml", "--quiet"], work)
        t3, out3 = timed([AURUM, "sync", "catalog.yaml", "--quiet"], work)
        rows = psql(f"SELECT count(*) FROM {schema}.golden")
        print(f"rows: {n:,} golden records; PostgreSQL table after the change set: {int(rows):,} rows")
        print(f"first sync (everything):      {t1:7.2f} s   {out1}")
        print(f"plan of the 1% change set:    {tp:7.2f} s   {outp}")
        print(f"sync of the 1% change set:    {t2:7.2f} s   {out2}")
        print(f"sync with nothing new:        {t3:7.2f} s   {out3}")
        print(f"ratio change-set sync / first sync: {t2 / t1:.3f}")
    finally:
        try:
            psql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        except Exception:
            pass
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
