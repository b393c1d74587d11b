#!/usr/bin/env python3
"""Golden record versions benchmark: what recording versions adds to a run.

Generates `aurum generate people --records N --sources 3` (default 1,000,000, seed 42), runs
Benchmarks/matching/people.yaml on it twice (a first run, then an unchanged second run) with
`aurum run --json`, and prints, per run, the run's wall time, the golden stage's time and the
"golden versions" phase (GoldenVersions.record: compare every golden record with its open version,
write what changed) with its share of the run, plus the versions opened and the table's size.

Usage: python3 Benchmarks/golden-versions/run.py [--records 1000000] [--seed 42]
       [--bin .build/release/aurum] [--work DIR] [--keep]
"""
import argparse, json, os, shutil, sqlite3, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def run(binary, catalog):
    t0 = time.perf_counter()
    r = subprocess.run([binary, "run", catalog, "--json", "--quiet"], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"aurum run failed: {r.stderr[-2000:]}")
    report = json.loads(r.stdout)
    m = report["matching"][0]
    return dt, m["seconds"], report["run_id"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build/release/aurum"))
    ap.add_argument("--work")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="aurum-golden-versions-")
    os.makedirs(work, exist_ok=True)
    if not os.path.exists(os.path.join(work, "truth.csv")):
        subprocess.run([a.bin, "generate", "people", "--records", str(a.records), "--sources", "3", "--seed", str(a.seed),
                        "--out", work], check=True)
    shutil.copy(os.path.join(ROOT, "Benchmarks/matching/people.yaml"), os.path.join(work, "people.yaml"))
    db = os.path.join(work, "aurum.db")
    for f in (db, db + "-wal", db + "-shm"):
        if os.path.exists(f):
            os.remove(f)
    catalog = os.path.join(work, "people.yaml")
    print(f"{a.records:,} records, 3 sources, seed {a.seed}; {a.bin}")
    print(f"{'run':<22} {'wall s':>8} {'golden records s':>17} {'golden versions s':>18} {'share':>7} {'opened':>9}")
    for label in ("first run", "unchanged second run"):
        dt, secs, run_id = run(a.bin, catalog)
        con = sqlite3.connect(db)
        opened, = con.execute("SELECT opened FROM golden_version_runs WHERE run_id = ?", (run_id,)).fetchone()
        con.close()
        gv, gr = secs.get("golden versions", 0.0), secs.get("golden records", 0.0)
        print(f"{label:<22} {dt:8.2f} {gr:17.2f} {gv:18.2f} {100 * gv / dt:6.1f}% {opened:9,}")
    con = sqlite3.connect(db)
    n, = con.execute("SELECT count(*) FROM golden_versions").fetchone()
    pages = con.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'golden_versions%'").fetchone()[0] if has_dbstat(con) else None
    con.close()
    print(f"golden_versions: {n:,} rows" + (f", {pages / 2**20:.1f} MiB with its indexes" if pages else ""))
    if not a.keep and not a.work:
        shutil.rmtree(work)


def has_dbstat(con):
    try:
        con.execute("SELECT 1 FROM dbstat LIMIT 1")
        return True
    except sqlite3.Error:
        return False


if __name__ == "__main__":
    main()
