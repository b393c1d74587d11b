#!/usr/bin/env python3
"""Incremental-run benchmark (issue 5): a full run on a 1,000,000-record base, then a 1% change set
and a second (incremental) run, in one process; prints both times, the ratio and per-step seconds.

  1. `aurum generate people --records N --sources 3 --seed 42` writes the three source files;
  2. Benchmarks/matching/people.yaml is copied beside them (it reads its files relative to itself);
  3. `aurum run people.yaml --json`: the full run (the first run of a warehouse);
  4. a change set is applied to the CSV files, deterministically with --change-seed: about 1% of
     the rows get another value in one attribute (e-mail, phone, street or city), 0.5% are deleted
     and 0.5% new rows are added (each a perturbed copy of an existing person, under a new id);
  5. `aurum run people.yaml --json` again: the incremental run.
Per-step seconds come from the run ledger (run_steps); the matching step's phases from the report.

The issue's incremental run includes a sync to PostgreSQL: by default the catalog gets a sync
output of the golden records into a table of a fresh database (`--pg-database`, over the Unix
socket `--pg-socket`; dropped and created by the script), so the full run writes every golden
record there and the incremental run only what changed. `--no-postgres` leaves it out (then the
figures are snapshot diff + transform + re-match + re-survive). --sync-catalog-extra appends
another YAML snippet of outputs.

Usage: python3 Benchmarks/incremental/run.py [--records 1000000] [--seed 42] [--change-seed 7]
       [--bin .build/release/aurum] [--work DIR] [--keep] [--no-postgres] [--pg-database NAME]
       [--sync-catalog-extra FILE]
"""
import argparse, csv, json, os, random, resource, shutil, sqlite3, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CATALOG = os.path.join(ROOT, "Benchmarks", "matching", "people.yaml")
FILES = ["crm_contacts.csv", "webshop_customers.csv", "benefits_register.csv"]
# Per file: the attributes an update may change (the column people.yaml maps).
UPDATABLE = {
    "crm_contacts.csv": ["email", "phone", "street", "city"],
    "webshop_customers.csv": ["email_address", "mobile", "address_line1", "town"],
    "benefits_register.csv": ["contact_email", "telephone", "street_address", "city"],
}
NAME = {"crm_contacts.csv": "first_name", "webshop_customers.csv": "given_name", "benefits_register.csv": "forename"}


def perturb(value, rng):
    """Another plausible value: one character changed or appended."""
    if not value:
        return "x" + str(rng.randrange(10))
    i = rng.randrange(len(value))
    c = value[i]
    r = str(rng.randrange(10)) if c.isdigit() else chr(ord("a") + rng.randrange(26))
    return value[:i] + r + value[i + 1:]


def apply_changes(path, rng, update=0.01, delete=0.005, insert=0.005, tag="new"):
    """Rewrites one CSV file with the change set; returns (updated, deleted, inserted)."""
    name = os.path.basename(path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    id_col = header.index("id")
    cols = [header.index(c) for c in UPDATABLE[name] if c in header]
    given = header.index(NAME[name]) if NAME[name] in header else None
    n = len(body)
    picks = rng.sample(range(n), int(n * (update + delete)))
    updates, deletes = set(picks[:int(n * update)]), set(picks[int(n * update):])
    out, inserted = [], 0
    for i, row in enumerate(body):
        if i in deletes:
            continue
        if i in updates:
            row = list(row)
            c = rng.choice(cols)
            row[c] = perturb(row[c], rng)
        out.append(row)
    for k in range(int(n * insert)):
        row = list(body[rng.randrange(n)])
        row[id_col] = f"{tag}-{k + 1}"
        if given is not None and rng.random() < 0.5:
            row[given] = perturb(row[given], rng)
        out.insert(rng.randrange(len(out) + 1), row)
        inserted += 1
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(out)
    return len(updates), len(deletes), inserted


def run_aurum(binary, catalog, warehouse, log):
    """(wall seconds, report); the run's CPU seconds (user + system) go to CPU_SECONDS[warehouse-run]."""
    t0 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log, "w") as err:
        p = subprocess.run([binary, "run", catalog, "--warehouse", warehouse, "--json"], stdout=subprocess.PIPE, stderr=err, text=True)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"aurum run failed ({p.returncode}); see {log}:\n" + open(log).read()[-3000:])
    report = json.loads(p.stdout)
    CPU_SECONDS[report["run_id"]] = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return dt, report


# CPU seconds per run id: on a shared machine wall time moves with the load, CPU time much less.
CPU_SECONDS = {}


def step_seconds(warehouse, run_id):
    """(step name, seconds) of one run, from the run ledger."""
    con = sqlite3.connect(warehouse)
    rows = con.execute("""SELECT name, (julianday(ended_at) - julianday(started_at)) * 86400 FROM run_steps
                          WHERE run_id = ? ORDER BY step_no""", (run_id,)).fetchall()
    con.close()
    return rows


def save_base(a, data, warehouse):
    """The full run's warehouse, the catalog's path and (as PG_DATABASE_base) the synced database."""
    shutil.rmtree(a.save_base, ignore_errors=True)
    os.makedirs(a.save_base)
    with open(os.path.join(a.save_base, "catalog"), "w") as f:
        f.write(os.path.join(data, "people.yaml"))
    con = sqlite3.connect(warehouse)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    shutil.copy(warehouse, os.path.join(a.save_base, "aurum.db"))
    if not a.no_postgres:
        base = a.pg_database + "_base"
        subprocess.run(["dropdb", "-h", a.pg_socket, "--if-exists", base], check=True)
        subprocess.run(["createdb", "-h", a.pg_socket, "-T", a.pg_database, base], check=True)
    print(f"base saved in {a.save_base}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--sources", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--change-seed", type=int, default=7)
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build/release/aurum"))
    ap.add_argument("--work")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--sync-catalog-extra", help="YAML appended to the catalog (more outputs)")
    ap.add_argument("--no-postgres", action="store_true", help="no PostgreSQL sync output")
    ap.add_argument("--pg-database", default="aurum_bench_incremental")
    ap.add_argument("--pg-socket", default="/var/run/postgresql")
    ap.add_argument("--save-base", metavar="DIR",
                    help="after the full run, copy the warehouse to DIR (with the catalog's path: the source "
                         "files stay where they are, changed) and the PostgreSQL database to PG_DATABASE_base, so that the incremental run can be repeated "
                         "(Benchmarks/incremental/rerun.py)")
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"{a.bin} not found: run `swift build -c release --product aurum` first")
    work = a.work or tempfile.mkdtemp(prefix="aurum-incremental-")
    data = os.path.join(work, "data")
    shutil.rmtree(data, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([a.bin, "generate", "people", "--records", str(a.records), "--sources", str(a.sources),
                    "--seed", str(a.seed), "--out", data, "--quiet"], check=True)
    print(f"generated {a.records:,} records in {time.perf_counter() - t0:.1f}s: {data}", file=sys.stderr)
    catalog = os.path.join(data, "people.yaml")
    shutil.copy(CATALOG, catalog)
    if not a.no_postgres:
        subprocess.run(["dropdb", "-h", a.pg_socket, "--if-exists", a.pg_database], check=True)
        subprocess.run(["createdb", "-h", a.pg_socket, a.pg_database], check=True)
        with open(catalog, "a") as f:
            f.write(f"\noutputs:\n  - {{name: golden_pg, format: postgresql, connection: \"host={a.pg_socket} dbname={a.pg_database}\", "
                    f"table: golden_person, data: golden, sync: true}}\n")
    if a.sync_catalog_extra:
        with open(catalog, "a") as f:
            f.write("\n" + open(a.sync_catalog_extra).read())
    warehouse = os.path.join(work, "aurum.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(warehouse + suffix):
            os.remove(warehouse + suffix)

    print("full run …", file=sys.stderr, flush=True)
    full_s, full = run_aurum(a.bin, catalog, warehouse, os.path.join(work, "full.log"))
    rng = random.Random(a.change_seed)
    changes = {f: apply_changes(os.path.join(data, f), rng) for f in FILES if os.path.exists(os.path.join(data, f))}
    if a.save_base:
        save_base(a, data, warehouse)
    print("incremental run …", file=sys.stderr, flush=True)
    inc_s, inc = run_aurum(a.bin, catalog, warehouse, os.path.join(work, "incremental.log"))

    print(f"\nchange set (updated / deleted / inserted rows):")
    for f, (u, d, i) in changes.items():
        print(f"  {f:<24} {u:>7,} / {d:>7,} / {i:>7,}")
    full_steps = dict(step_seconds(warehouse, full["run_id"]))
    inc_steps = step_seconds(warehouse, inc["run_id"])
    print(f"\n{'step':<28} {'full s':>9} {'incremental s':>14}")
    for name, s in inc_steps:
        print(f"{name:<28} {full_steps.get(name, 0):>9.2f} {s:>14.2f}")
    for m_full, m_inc in zip(full.get("matching", []), inc.get("matching", [])):
        print(f"\nmatching {m_inc['entity']}: path {m_inc['path']}, changed {m_inc['changed_records']:,}, "
              f"compared {m_inc['compared_records']:,}, re-clustered {m_inc['reclustered_records']:,} "
              f"(full: {m_full['records']:,} records)")
        print("  phases (incremental): " + ", ".join(f"{k} {v:.2f}" for k, v in m_inc["seconds"].items()))
        print("  phases (full):        " + ", ".join(f"{k} {v:.2f}" for k, v in m_full["seconds"].items()))
    full_cpu, inc_cpu = CPU_SECONDS[full["run_id"]], CPU_SECONDS[inc["run_id"]]
    print(f"\nfull run        {full_s:8.1f} s   (CPU {full_cpu:.1f} s)")
    print(f"incremental run {inc_s:8.1f} s   (CPU {inc_cpu:.1f} s)")
    print(f"ratio           {inc_s / full_s:8.3f}  (target <= 0.10; CPU ratio {inc_cpu / full_cpu:.3f})")
    print(f"load average    {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if not a.no_postgres:
        for r in (full, inc):
            for o in r.get("sync", []):
                print(f"  sync {json.dumps(o)}")
        n = subprocess.run(["psql", "-h", a.pg_socket, "-d", a.pg_database, "-XAt", "-c", "SELECT count(*) FROM golden_person"],
                           capture_output=True, text=True).stdout.strip()
        print(f"PostgreSQL golden_person rows after the incremental run: {n}")
    if not a.keep and not a.work:
        shutil.rmtree(work)
    else:
        print(f"\noutputs kept in {work}")


if __name__ == "__main__":
    main()
