#!/usr/bin/env python3
"""PostgreSQL connector benchmark: Aurum against the reference tools, in the same run.

What it measures (each child process timed with os.wait4, wall clock, peak RSS of the child):
  1. Load: CSV (--rows, default 1,000,000 x 12 columns from `aurum generate customers --seed 42`)
     -> PostgreSQL table.
       - `aurum run` of a catalog with one csv source and a postgresql output (table dropped before
         each run; Aurum creates it with types from the values). The run's own step times
         (run_steps in the warehouse) are printed too, since `run` also does transform/integrate.
       - `psql -c "\\copy customers FROM 'customers.csv' WITH (FORMAT csv, HEADER)"` into a
         pre-created (truncated) table of 12 text columns.
       - pgloader with a load-command file (pgloader/load.template) reading the same CSV into the
         same kind of 12-text-column table (truncated by pgloader itself).
     Ratios: aurum / \\copy (target <= 1.25) and aurum / pgloader.
  2. Snapshot: PostgreSQL table (the table Aurum loaded in 1) -> staging warehouse.
       - `aurum snapshot` of a catalog with one postgresql source (query: the table name), fresh
         warehouse each run.
       - `psql -c "\\copy customers TO STDOUT WITH (FORMAT csv)" | sqlite3 out.db ".mode csv"
         ".import /dev/stdin customers"` into a fresh database with a pre-created 12-column table,
         journal_mode=WAL and synchronous=NORMAL (the pipeline is timed as one shell process).
     Ratio: aurum / psql|sqlite3 (target <= 1.0).
  3. Upsert: a change set of 10,000 updated, 1,000 new and 1,000 deleted rows applied to a keyed
     table (created by `aurum run` with options {key: customer_id}, so it has Aurum's unique index)
     at 100,000 (--small) and at --rows rows. There is no CLI command for keyed upserts yet, so two paths:
       - Aurum's own code: upsert/main.swift calls PostgresTable.upsert(columns:rows:) and
         PostgresTable.delete(keys:) (Sources/AurumPostgres/Target.swift) and times both in-process
         (after connecting; reading the change file is not timed). run.py builds it with swiftc against
         the object files of the release build (Aurum, AurumPostgres, Yams, CYaml in .build/release);
         if that fails it says so and only the SQL path is measured.
       - The same SQL through one `psql -f` process per statement group (process start and connect
         included): BEGIN; CREATE TEMP TABLE aurum_stage ... WITH NO DATA; ALTER ... ADD aurum_ord;
         \\copy (text format); INSERT ... SELECT DISTINCT ON (key) ... ON CONFLICT (key) DO UPDATE;
         COMMIT; then BEGIN; CREATE TEMP TABLE aurum_keys ...; \\copy; DELETE ... USING; COMMIT.
     Every trial uses its own change set (disjoint rows, spread evenly over the key range, fresh keys
     for the new rows), so the table keeps its size; a CHECKPOINT precedes each trial. Reported: best
     of --runs at both sizes and their ratio (should be ~1: the cost must not scale with table size).
     Two change sets (--spread): "even" spreads the rows over the whole key range (every 100th row
     at 1M, so it touches about half the heap pages: a worst case for page-level I/O and WAL
     full-page images), "clustered" takes 11,000 consecutive keys (a fresh range per trial).
     Needs --small >= 10,000 x (2 x --runs + 1) rows (even) and 4/3 x 2 x --runs x 11,000 (clustered).
  4. Redis and MongoDB: the same --rows CSV -> `aurum run` with a redis output (a hash per row under
     a key template with a fresh prefix) and with a mongodb output (a fresh database, write mode
     replace: drop + unordered insert_many of 1,000). Reported: rows/s of the whole run and of its
     output step (run_steps), against a reference in the same run that writes the same rows:
       - Redis: `redis-cli --pipe` of one HSET per row (RESP generated beforehand, not timed);
       - MongoDB: pymongo (the SecantusDB venv's, AURUM_VENV) insert_many of 1,000 unordered
         (documents built beforehand, not timed).
     Ratio: reference rows/s / aurum output-step rows/s (lower is better; 1.0 = as fast).
     The keys and the databases are removed afterwards. Best of --kv-runs (default 1).

How to run (from /work/main, after `swift build -c release`):
    python3 Benchmarks/postgres/run.py [--rows 1000000] [--runs 3] [--bin .build/release/aurum] [--keep]

Prerequisites:
  - PostgreSQL 15 running locally (`bash scripts/servers/postgres.sh`), reachable over the Unix
    socket /var/run/postgresql as a superuser role for the current user (pgloader uses the same
    socket: postgresql://USER@unix:/var/run/postgresql:5432/DB).
  - psql, sqlite3 and pgloader on PATH (`apt-get install -y pgloader`); swiftc (the toolchain that
    built .build/release) for the upsert tool.
  - The script drops and re-creates the database `aurum_bench` (override with --db).
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
SOCK = "/var/run/postgresql"
COLS = ["customer_id", "first_name", "last_name", "email", "phone", "street", "city", "postcode",
        "country", "birth_date", "signup_at", "balance"]


def run_wait4(cmd, shell=False, cwd=None, env=None):
    """Runs a child and reaps it with os.wait4: (seconds, peak RSS MiB of that child, stderr).
    For a shell pipeline the RSS is the shell's own, so it is not reported. Exits on failure."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, shell=shell, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = status
    dt = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{cmd if shell else cmd[0]} failed ({status}): {err.decode(errors='replace')[-3000:]}")
    return dt, ru.ru_maxrss / 1024, err.decode(errors="replace")


def psql(db, sql, *extra):
    r = subprocess.run(["psql", "-h", SOCK, "-d", db, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", *extra, "-c", sql],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"psql failed: {sql[:200]}: {r.stderr}")
    return r.stdout.strip()


def text_table_sql(name):
    return f"CREATE TABLE {name} (" + ", ".join(f"{c} text" for c in COLS) + ")"


def step_times(warehouse):
    q = ("SELECT name, printf('%.2f', (julianday(ended_at) - julianday(started_at)) * 86400) FROM run_steps "
         "WHERE run_id = (SELECT max(run_id) FROM runs) ORDER BY step_no")
    r = subprocess.run(["sqlite3", "-separator", " ", warehouse, q], capture_output=True, text=True)
    return ", ".join(f"{l.split(' ')[0]} {l.split(' ')[1]} s" for l in r.stdout.strip().splitlines() if l)


def fmt_runs(xs):
    return ", ".join(f"{t:.2f}" for t in xs)


def rm(*paths):
    for p in paths:
        for suffix in ("", "-wal", "-shm", "-journal"):
            try: os.remove(p + suffix)
            except FileNotFoundError: pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--small", type=int, default=100_000, help="smaller table size for the upsert test")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bin", default=".build/release/aurum")
    ap.add_argument("--db", default="aurum_bench")
    ap.add_argument("--only", default="load,snapshot,upsert,redis,mongo")
    ap.add_argument("--kv-runs", type=int, default=1, help="runs of the Redis and MongoDB benchmarks")
    ap.add_argument("--spread", default="even,clustered", help="upsert change sets: even, clustered or both")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    only = set(a.only.split(","))
    aurum = os.path.abspath(a.bin)
    if not os.path.exists(aurum):
        sys.exit(f"{a.bin} not found: run `swift build -c release` first")
    for tool in ("psql", "sqlite3", "pgloader"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found on PATH (see the prerequisites at the top of this file)")
    password = os.environ.get("PGPASSWORD", "aurum-test")
    user = os.environ.get("PGUSER") or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    db = a.db
    subprocess.run(["dropdb", "-h", SOCK, "--if-exists", db], check=True)
    subprocess.run(["createdb", "-h", SOCK, db], check=True)
    conn = f"host={SOCK} dbname={db}"

    work = tempfile.mkdtemp(prefix="aurum-pgbench-")
    csv = os.path.join(work, "customers.csv")
    subprocess.run([aurum, "generate", "customers", "--rows", str(a.rows), "--seed", "42", "--out", csv],
                   check=True, stdout=subprocess.DEVNULL)
    size = os.path.getsize(csv) / 1e6
    print(f"input: {a.rows:,} rows x 12 columns, {size:.1f} MB; PostgreSQL {psql(db, 'SHOW server_version')}, "
          f"database {db} over {SOCK}; best of {a.runs}")

    # ---------------------------------------------------------------- 1. CSV -> PostgreSQL
    load_cat = os.path.join(work, "load.yaml")
    with open(load_cat, "w") as f:
        f.write("sources:\n  - {name: customers, type: csv, path: customers.csv}\n"
                f"outputs:\n  - {{format: postgresql, connection: \"{conn}\", table: customers}}\n")
    if "load" in only or "snapshot" in only:
        t_aurum, t_copy, t_pgl = [], [], []
        steps = ""
        psql(db, "DROP TABLE IF EXISTS copy_customers; DROP TABLE IF EXISTS pgl_customers; "
                 + text_table_sql("copy_customers") + "; " + text_table_sql("pgl_customers"))
        with open(os.path.join(HERE, "pgloader", "load.template")) as f:
            tmpl = f.read()
        pgl_file = os.path.join(work, "load.pgl")
        with open(pgl_file, "w") as f:
            f.write(tmpl.replace("@CSV@", csv).replace("@TARGET@", f"postgresql://{user}@unix:{SOCK}:5432/{db}")
                    .replace("@TABLE@", "pgl_customers"))
        env = dict(os.environ, PGPASSWORD=password)
        runs = a.runs if "load" in only else 1
        for i in range(runs):
            wh = os.path.join(work, "load.db"); rm(wh)
            psql(db, "DROP TABLE IF EXISTS customers")
            psql(db, "CHECKPOINT")
            t_aurum.append(run_wait4([aurum, "run", load_cat, "--warehouse", wh, "--quiet"], cwd=work))
            steps = step_times(wh)
            if "load" not in only: break
            psql(db, "TRUNCATE copy_customers"); psql(db, "CHECKPOINT")
            t_copy.append(run_wait4(["psql", "-h", SOCK, "-d", db, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                                     f"\\copy copy_customers FROM '{csv}' WITH (FORMAT csv, HEADER)"]))
            psql(db, "CHECKPOINT")
            t_pgl.append(run_wait4(["pgloader", "--quiet", pgl_file], cwd=work, env=env))
        if "load" in only:
            n_a = psql(db, "SELECT count(*) FROM customers")
            n_c = psql(db, "SELECT count(*) FROM copy_customers")
            n_p = psql(db, "SELECT count(*) FROM pgl_customers")
            ta, tc, tp = (min(t for t, _, _ in x) for x in (t_aurum, t_copy, t_pgl))
            ma, mc, mp = (max(m for _, m, _ in x) for x in (t_aurum, t_copy, t_pgl))
            types = psql(db, "SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute "
                             "WHERE attrelid = 'customers'::regclass AND attnum > 0")
            print("\n1. CSV -> PostgreSQL table")
            print(f"  aurum run        : {ta:6.2f} s  peak {ma:6.1f} MiB  rows {n_a}  runs: {fmt_runs(t for t, _, _ in t_aurum)}")
            print(f"     steps (last run): {steps}")
            print(f"     column types Aurum chose: {types}")
            print(f"  psql \\copy       : {tc:6.2f} s  peak {mc:6.1f} MiB  rows {n_c}  runs: {fmt_runs(t for t, _, _ in t_copy)}")
            print(f"  pgloader         : {tp:6.2f} s  peak {mp:6.1f} MiB  rows {n_p}  runs: {fmt_runs(t for t, _, _ in t_pgl)}")
            print(f"  ratio aurum / \\copy    = {ta / tc:.2f}  (target <= 1.25)")
            # The same ratio round by round (aurum, then \copy, then pgloader in each): less
            # sensitive than the best-of ratio to one lucky or unlucky run on a noisy machine.
            per = [a_[0] / c_[0] for a_, c_ in zip(t_aurum, t_copy)]
            print(f"     per round: median {statistics.median(per):.2f}, {min(per):.2f} to {max(per):.2f}  (rounds: {' '.join(f'{x:.2f}' for x in per)})")
            print(f"  ratio aurum / pgloader = {ta / tp:.2f}")

    # ---------------------------------------------------------------- 2. PostgreSQL -> warehouse
    if "snapshot" in only:
        snap_cat = os.path.join(work, "snap.yaml")
        with open(snap_cat, "w") as f:
            f.write(f"sources:\n  - {{name: customers, type: postgresql, connection: \"{conn}\", query: customers}}\n"
                    # validate wants an output; snapshot only reads the sources into the warehouse
                    "outputs:\n  - {format: csv, path: unused.csv}\n")
        out_db = os.path.join(work, "out.db")
        pipe = (f"psql -h {SOCK} -d {db} -X -q -v ON_ERROR_STOP=1 -c '\\copy customers TO STDOUT WITH (FORMAT csv)'"
                f" | sqlite3 {out_db} '.mode csv' '.import /dev/stdin customers'")
        s_aurum, s_pipe = [], []
        for i in range(a.runs):
            wh = os.path.join(work, "snap.db"); rm(wh, out_db)
            s_aurum.append(run_wait4([aurum, "snapshot", snap_cat, "--warehouse", wh, "--quiet"], cwd=work))
            subprocess.run(["sqlite3", out_db, "PRAGMA journal_mode=WAL;",
                            "CREATE TABLE customers (" + ", ".join(COLS) + ")"], check=True, stdout=subprocess.DEVNULL)
            # synchronous is per connection: set it in the importing sqlite3 process itself.
            s_pipe.append(run_wait4(pipe.replace(f"sqlite3 {out_db} ", f"sqlite3 -cmd 'PRAGMA synchronous=NORMAL' {out_db} "), shell=True))
        n_a = subprocess.run(["sqlite3", wh, "SELECT count(*) FROM src_customers"], capture_output=True, text=True).stdout.strip()
        n_p = subprocess.run(["sqlite3", out_db, "SELECT count(*) FROM customers"], capture_output=True, text=True).stdout.strip()
        ta, tp = min(t for t, _, _ in s_aurum), min(t for t, _, _ in s_pipe)
        ma = max(m for _, m, _ in s_aurum)
        print("\n2. PostgreSQL table -> warehouse (source: the table Aurum loaded)")
        print(f"  aurum snapshot       : {ta:6.2f} s  peak {ma:6.1f} MiB  rows {n_a}  runs: {fmt_runs(t for t, _, _ in s_aurum)}")
        print(f"  psql \\copy | sqlite3 : {tp:6.2f} s  (pipeline)      rows {n_p}  runs: {fmt_runs(t for t, _, _ in s_pipe)}")
        print(f"  ratio aurum / psql|sqlite3 = {ta / tp:.2f}  (target <= 1.0)")

    # ---------------------------------------------------------------- 3. Upsert change set
    if "upsert" in only:
        print("\n3. Upsert 10,000 updated + 1,000 new, then delete 1,000 rows, keyed on customer_id")
        tool = build_upsert_tool(aurum, work)
        for spread in a.spread.split(","):
          results = {n: upsert_bench(aurum, tool, work, db, conn, n, a.runs, spread) for n in (a.small, a.rows)}
          print(f"  change set {spread}: " + {"even": "rows spread evenly over the whole key range (every 100th row at 1M)",
                                               "clustered": "11,000 consecutive keys (10,000 updated, next 1,000 deleted), a fresh range per trial"}[spread])
          labels = {"swift": "Aurum PostgresTable.upsert + delete (Swift API, in-process, after connect)",
                  "sql": "the same SQL run through psql (temp table + COPY + INSERT ... ON CONFLICT; DELETE ... USING)"}
          for path in ("swift", "sql"):
            if path not in results[a.small]: continue
            print(f"    {labels[path]}:")
            for n in (a.small, a.rows):
                best, ups, dels, runs = results[n][path]
                print(f"      table {n:>9,} rows: {best:6.3f} s  (best; upsert {ups:.3f} s + delete {dels:.3f} s)  runs: "
                      + ", ".join(f"{t:.3f}" for t in runs))
            print(f"      ratio {a.rows:,} / {a.small:,} = {results[a.rows][path][0] / results[a.small][path][0]:.2f}  (should stay near 1)")

    # ---------------------------------------------------------------- 4. Redis and MongoDB
    if "redis" in only or "mongo" in only:
        print(f"\n4. {a.rows:,} rows into Redis and into MongoDB (aurum run of the CSV; reference in the same run)")
    if "redis" in only:
        kv_redis(aurum, work, csv, a.rows, a.kv_runs)
    if "mongo" in only:
        kv_mongo(aurum, work, csv, a.rows, a.kv_runs)

    if not a.keep:
        shutil.rmtree(work)
        subprocess.run(["dropdb", "-h", SOCK, "--if-exists", db])
    else:
        print(f"\nkept {work} and database {db}")


def read_csv_rows(csv_path):
    import csv as csvmod
    with open(csv_path, newline="", encoding="utf-8") as f:
        r = csvmod.reader(f)
        header = next(r)
        return header, list(r)


def output_step(warehouse):
    q = ("SELECT (julianday(ended_at) - julianday(started_at)) * 86400 FROM run_steps "
         "WHERE run_id = (SELECT max(run_id) FROM runs) AND name LIKE 'output:%'")
    r = subprocess.run(["sqlite3", warehouse, q], capture_output=True, text=True)
    return float(r.stdout.strip().splitlines()[-1])


def kv_line(label, rows, t):
    print(f"  {label:<44}: {t:7.2f} s  {rows / t:10,.0f} rows/s")


def kv_redis(aurum, work, csv, n, runs):
    import urllib.parse
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    u = urllib.parse.urlparse(url)
    host, port, dbn = u.hostname or "127.0.0.1", str(u.port or 6379), (u.path.strip("/") or "0")
    cli = ["redis-cli", "-h", host, "-p", port, "-n", dbn]
    if not shutil.which("redis-cli"):
        print("  (redis-cli not on PATH: Redis benchmark skipped)"); return
    header, rows = read_csv_rows(csv)
    ki = header.index("customer_id")
    best_run, best_out, best_ref = None, None, None
    for i in range(runs):
        prefix = f"aurumbench:{os.getpid()}:{i}:"
        cat = os.path.join(work, "redis.yaml")
        with open(cat, "w") as f:
            f.write("sources:\n  - {name: customers, type: csv, path: customers.csv}\n"
                    f"outputs:\n  - {{format: redis, connection: \"{url}\", options: {{key: \"{prefix}a:{{customer_id}}\"}}}}\n")
        wh = os.path.join(work, "redis.db"); rm(wh)
        t = run_wait4([aurum, "run", cat, "--warehouse", wh, "--quiet"], cwd=work)[0]
        to = output_step(wh)
        # The same rows as HSET commands in RESP, for redis-cli --pipe.
        resp = os.path.join(work, "redis.resp")
        with open(resp, "wb") as f:
            for r in rows:
                args = [b"HSET", f"{prefix}p:{r[ki]}".encode()]
                for h, v in zip(header, r):
                    args += [h.encode(), v.encode()]
                f.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in args))
        tr = run_wait4(" ".join(cli) + f" --pipe < {resp}", shell=True)[0]
        na = int(subprocess.run(cli + ["EVAL", "return #redis.call('KEYS', ARGV[1])", "0", f"{prefix}a:*"], capture_output=True, text=True).stdout.strip() or -1)
        np_ = int(subprocess.run(cli + ["EVAL", "return #redis.call('KEYS', ARGV[1])", "0", f"{prefix}p:*"], capture_output=True, text=True).stdout.strip() or -1)
        # Clean up in one pipe of UNLINKs.
        with open(resp, "wb") as f:
            for r in rows:
                for side in (b"a", b"p"):
                    k = f"{prefix}".encode() + side + b":" + r[ki].encode()
                    f.write(b"*2\r\n$6\r\nUNLINK\r\n$%d\r\n%s\r\n" % (len(k), k))
        subprocess.run(" ".join(cli) + f" --pipe < {resp} > /dev/null", shell=True)
        if na != n or np_ != n:
            sys.exit(f"redis benchmark: expected {n} keys each, aurum wrote {na}, redis-cli {np_}")
        if best_out is None or to < best_out:
            best_run, best_out = t, to
        best_ref = tr if best_ref is None else min(best_ref, tr)
    print("  Redis (hashes, one key per row):")
    kv_line("aurum run (whole pipeline)", n, best_run)
    kv_line("aurum output:redis step", n, best_out)
    kv_line("redis-cli --pipe of HSET (reference)", n, best_ref)
    print(f"  ratio aurum output step / redis-cli --pipe (time) = {best_out / best_ref:.2f}")


def kv_mongo(aurum, work, csv, n, runs):
    url = os.environ.get("MONGO_URL", "mongodb://127.0.0.1:27017").rstrip("/")
    py = os.path.join(os.environ.get("AURUM_VENV", "/opt/aurum-venv"), "bin", "python")
    if not os.path.exists(py):
        print(f"  ({py} not found: MongoDB benchmark skipped)"); return
    ref = os.path.join(work, "mongo_ref.py")
    with open(ref, "w") as f:
        f.write("""import csv, sys, time, pymongo
url, db, path = sys.argv[1:4]
with open(path, newline='', encoding='utf-8') as fh:
    r = csv.reader(fh); header = next(r)
    docs = [dict(zip(header, row)) for row in r]
for d in docs: d['customer_id'] = int(d['customer_id'])
c = pymongo.MongoClient(url, serverSelectionTimeoutMS=5000)
k = c[db].customers
k.drop()
t0 = time.perf_counter()
for i in range(0, len(docs), 1000):
    k.insert_many(docs[i:i + 1000], ordered=False)
t = time.perf_counter() - t0
print(t, k.count_documents({}))
c.drop_database(db)
""")
    best_run, best_out, best_ref = None, None, None
    for i in range(runs):
        db = f"aurumbench_{os.getpid()}_{i}"
        cat = os.path.join(work, "mongo.yaml")
        with open(cat, "w") as f:
            f.write("sources:\n  - {name: customers, type: csv, path: customers.csv}\n"
                    f"outputs:\n  - {{format: mongodb, connection: \"{url}/{db}\", table: customers}}\n")
        wh = os.path.join(work, "mongo.db"); rm(wh)
        t = run_wait4([aurum, "run", cat, "--warehouse", wh, "--quiet"], cwd=work)[0]
        to = output_step(wh)
        cnt = subprocess.run([py, "-c", f"import pymongo; c = pymongo.MongoClient('{url}'); print(c['{db}'].customers.count_documents({{}})); c.drop_database('{db}')"],
                             capture_output=True, text=True)
        r = subprocess.run([py, ref, url, db + "_ref", csv], capture_output=True, text=True)
        if r.returncode != 0 or cnt.returncode != 0:
            sys.exit(f"mongo benchmark failed: {r.stderr[-2000:]} {cnt.stderr[-2000:]}")
        tr, nr = r.stdout.split()
        na = int(cnt.stdout.strip())
        if na != n or int(nr) != n:
            sys.exit(f"mongo benchmark: expected {n} documents each, aurum wrote {na}, pymongo {nr}")
        if best_out is None or to < best_out:
            best_run, best_out = t, to
        best_ref = float(tr) if best_ref is None else min(best_ref, float(tr))
    print("  MongoDB (SecantusDB; one document per row):")
    kv_line("aurum run (whole pipeline)", n, best_run)
    kv_line("aurum output:mongodb step", n, best_out)
    kv_line("pymongo insert_many x1000 (reference)", n, best_ref)
    print(f"  ratio aurum output step / pymongo (time) = {best_out / best_ref:.2f}")


def copy_escape(v):
    return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def build_upsert_tool(aurum, work):
    """Builds upsert/main.swift with swiftc against the object files of the release build next to
    the aurum binary (copied first, so a concurrent build cannot change them mid-link).
    Returns the executable's path, or None (with the reason printed) when that does not work."""
    rel = os.path.dirname(aurum)
    root = os.path.abspath(os.path.join(rel, "..", ".."))
    link = os.path.join(work, "link")
    try:
        shutil.copytree(os.path.join(rel, "Modules"), os.path.join(link, "Modules"))
        objs = []
        for m in ("Aurum", "AurumPostgres", "Yams", "CYaml", "CAurumSQLite"):
            for d, _, files in os.walk(os.path.join(rel, f"{m}.build")):
                for f in files:
                    if f.endswith(".o"):
                        dst = os.path.join(link, f"{m}-{f}"); shutil.copy(os.path.join(d, f), dst); objs.append(dst)
        yams_map = os.path.join(root, ".build", "checkouts", "Yams", "Sources", "CYaml", "include", "module.modulemap")
        exe = os.path.join(work, "aurum-pg-upsert")
        cmd = ["swiftc", "-O", "-I", os.path.join(link, "Modules"),
               "-Xcc", f"-fmodule-map-file={root}/Sources/CLibPQ/module.modulemap",
               "-Xcc", f"-fmodule-map-file={root}/Sources/CSQLite3/module.modulemap",
               # A C target's module map is generated into the build directory (the aurum-wal VFS).
               "-Xcc", f"-fmodule-map-file={rel}/CAurumSQLite.build/module.modulemap",
               "-Xcc", f"-fmodule-map-file={yams_map}", "-Xcc", "-I/usr/include/postgresql",
               os.path.join(HERE, "upsert", "main.swift"), *objs, "-lpq", "-lsqlite3", "-o", exe]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"   (could not build the Swift upsert tool, measuring the SQL path only: {r.stderr[-500:]})")
            return None
        return exe
    except OSError as e:
        print(f"   (could not build the Swift upsert tool, measuring the SQL path only: {e})")
        return None


def change_set(ids, j, J, spread="even"):
    """Trial j of J. even: 10,000 rows to update at sorted positions i*stride + j, and 1,000 keys to
    delete at positions whose offset within a stride block is >= J, so that all trials are disjoint
    (the changes touch rows all over the table). clustered: 11,000 consecutive keys from the middle of
    the key range (from the first quarter on), the first 10,000 updated and the last 1,000 deleted, a fresh range per trial."""
    if spread == "clustered":
        start = len(ids) // 4 + j * 11_000
        assert start + 11_000 <= len(ids), "table too small for this many trials"
        return ids[start:start + 10_000], ids[start + 10_000:start + 11_000]
    stride = len(ids) // 10_000
    dstride = len(ids) // 1_000
    free = stride - J
    assert free > 0 and (j // free + 1) * stride <= dstride, "table too small for this many trials"
    upd = [ids[i * stride + j] for i in range(10_000)]
    dele = [ids[i * dstride + (j // free) * stride + J + j % free] for i in range(1_000)]
    assert not set(upd) & set(dele)
    return upd, dele


def upsert_bench(aurum, tool, work, db, conn, n, runs, spread):
    """Creates table up_N (n rows, Aurum's keyed table) and applies disjoint change sets:
    `runs` through psql (Aurum's SQL) and, with the tool, `runs` through PostgresTable itself.
    Returns {"sql": (best, upsert, delete, all), "swift": (...)}."""
    csv = os.path.join(work, f"up{n}.csv")
    subprocess.run([aurum, "generate", "customers", "--rows", str(n), "--seed", "7", "--out", csv],
                   check=True, stdout=subprocess.DEVNULL)
    table = f"up_{n}"
    cat = os.path.join(work, f"up{n}.yaml")
    with open(cat, "w") as f:
        f.write(f"sources:\n  - {{name: customers, type: csv, path: {os.path.basename(csv)}}}\n"
                f"outputs:\n  - {{format: postgresql, connection: \"{conn}\", table: {table}, options: {{key: customer_id}}}}\n")
    psql(db, f"DROP TABLE IF EXISTS {table}")
    wh = os.path.join(work, f"up{n}.db"); rm(wh)
    subprocess.run([aurum, "run", cat, "--warehouse", wh, "--quiet"], check=True, cwd=work)
    psql(db, f"VACUUM ANALYZE {table}")
    ids = [int(x) for x in psql(db, f"SELECT customer_id FROM {table} ORDER BY customer_id").split()]
    max_id = ids[-1]
    cols = psql(db, f"SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
                    f"WHERE attrelid = '{table}'::regclass AND attnum > 0 AND NOT attisdropped")
    col_list = [c.strip() for c in cols.split(",")]
    non_key = [c for c in col_list if c != "customer_id"]
    keys = "customer_id"
    ci, ei = col_list.index("customer_id"), col_list.index("email")
    paths = [("sql", None)] + ([("swift", tool)] if tool else [])
    J = runs * len(paths)
    results = {}
    for pi, (name, exe) in enumerate(paths):
        times, ups, dels = [], [], []
        for r in range(runs):
            j = pi * runs + r
            upd, dele = change_set(ids, j, J, spread)
            # Rows as COPY text, straight from the table; changed email; new rows get fresh keys.
            src = subprocess.run(["psql", "-h", SOCK, "-d", db, "-X", "-q", "-c",
                                  f"COPY (SELECT {cols} FROM {table} WHERE customer_id = ANY('{{{','.join(map(str, upd))}}}'::bigint[]) "
                                  f"ORDER BY customer_id) TO STDOUT"], capture_output=True, text=True, check=True).stdout.splitlines()
            lines = []
            for line in src:
                f = line.split("\t")
                f[ei] = copy_escape(f"changed{j}.") + f[ei]
                lines.append(f)
            for k in range(1_000):
                f = list(lines[k])
                f[ci] = str(max_id + 1 + j * 1_000 + k)
                lines.append(f)
            rows_file = os.path.join(work, f"changes{n}_{j}.tsv")
            keys_file = os.path.join(work, f"keys{n}_{j}.tsv")
            with open(keys_file, "w") as fh:
                fh.write("".join(f"{k}\n" for k in dele))
            before = int(psql(db, f"SELECT count(*) FROM {table}"))
            if exe is None:
                with open(rows_file, "w") as fh:  # + aurum_ord, as PostgresTable.copy(ordinalFrom: 0) sends
                    for i, f in enumerate(lines):
                        fh.write("\t".join(f) + f"\t{i}\n")
                upsert_sql = (
                    "BEGIN;\n"
                    f"CREATE TEMP TABLE aurum_stage ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA;\n"
                    "ALTER TABLE aurum_stage ADD COLUMN aurum_ord bigint;\n"
                    f"\\copy aurum_stage ({cols}, aurum_ord) FROM '{rows_file}'\n"
                    f"INSERT INTO {table} ({cols})\n"
                    f"SELECT DISTINCT ON ({keys}) {cols} FROM aurum_stage ORDER BY {keys}, aurum_ord DESC\n"
                    f"ON CONFLICT ({keys}) DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in non_key) + ";\n"
                    "COMMIT;\n")
                delete_sql = (
                    "BEGIN;\n"
                    f"CREATE TEMP TABLE aurum_keys ON COMMIT DROP AS SELECT {keys} FROM {table} WITH NO DATA;\n"
                    f"\\copy aurum_keys ({keys}) FROM '{keys_file}'\n"
                    f"DELETE FROM {table} AS t USING aurum_keys AS k WHERE t.{keys} = k.{keys};\n"
                    "COMMIT;\n")
                sql_u = os.path.join(work, f"upsert{n}_{j}.sql"); open(sql_u, "w").write(upsert_sql)
                sql_d = os.path.join(work, f"delete{n}_{j}.sql"); open(sql_d, "w").write(delete_sql)
                psql(db, "CHECKPOINT")
                tu = run_wait4(["psql", "-h", SOCK, "-d", db, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", sql_u])[0]
                td = run_wait4(["psql", "-h", SOCK, "-d", db, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", sql_d])[0]
            else:
                with open(rows_file, "w") as fh:  # header + rows; the tool reads customer_id as an integer
                    fh.write("\t".join(col_list) + "\n")
                    for f in lines:
                        fh.write("\t".join(f) + "\n")
                psql(db, "CHECKPOINT")
                r_ = subprocess.run([exe, conn, table, rows_file, keys_file], capture_output=True, text=True)
                if r_.returncode != 0:
                    sys.exit(f"aurum-pg-upsert failed: {r_.stderr}")
                out = dict((l.split()[0], (float(l.split()[1]), int(l.split()[2]))) for l in r_.stdout.splitlines())
                tu, td = out["upsert"][0], out["delete"][0]
                if out["upsert"][1] != 11_000 or out["delete"][1] != 1_000:
                    sys.exit(f"aurum-pg-upsert: unexpected counts {out}")
            after = int(psql(db, f"SELECT count(*) FROM {table}"))
            changed = int(psql(db, f"SELECT count(*) FROM {table} WHERE email LIKE 'changed{j}.%'"))
            if after != before or changed != 11_000:
                sys.exit(f"upsert check failed at {n} rows ({name}): before {before}, after {after}, changed rows {changed} (expected 11000)")
            times.append(tu + td); ups.append(tu); dels.append(td)
        best = min(range(runs), key=lambda i: times[i])
        results[name] = (times[best], ups[best], dels[best], times)
    return results


if __name__ == "__main__":
    main()
