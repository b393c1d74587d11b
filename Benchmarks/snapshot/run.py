#!/usr/bin/env python3
"""Snapshot benchmark: Aurum's CSV snapshot against the sqlite3 shell's .import, in the same run.

Generates a deterministic 1,000,000-row x 12-column customer CSV (quoted fields with commas and
quotes, empty values, accented text) with `aurum generate customers`, then times
  - `aurum snapshot` of a one-source catalog into a fresh warehouse (WAL, synchronous=NORMAL), and
  - `sqlite3` importing the same file into a fresh database with the same journal settings,
best of N runs each, with peak memory (max RSS) of each process. Prints both and the ratio.

Usage: python3 Benchmarks/snapshot/run.py [--rows 1000000] [--runs 3] [--bin .build/release/aurum]
"""
import argparse, os, resource, shutil, subprocess, sys, tempfile, time


def run_measured(cmd, stdin=None):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin else None, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if stdin:
        p.stdin.write(stdin.encode()); p.stdin.close()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{cmd[0]} failed ({status}): {err.decode()[-2000:]}")
    return dt, ru.ru_maxrss / 1024

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bin", default=".build/release/aurum")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"{a.bin} not found: run `swift build -c release` first")
    work = tempfile.mkdtemp(prefix="aurum-bench-")
    csv = os.path.join(work, "customers.csv")
    subprocess.run([a.bin, "generate", "customers", "--rows", str(a.rows), "--seed", "42", "--out", csv], check=True)
    size = os.path.getsize(csv) / 1e6
    catalog = os.path.join(work, "catalog.yaml")
    with open(catalog, "w") as f:
        f.write("sources:\n  - {name: customers, type: csv, path: customers.csv}\noutputs:\n  - {format: csv, path: out.csv}\n")
    aurum, shell = [], []
    for i in range(a.runs):
        for p in ["w.db", "w.db-wal", "w.db-shm", "s.db", "s.db-wal", "s.db-shm"]:
            try: os.remove(os.path.join(work, p))
            except FileNotFoundError: pass
        aurum.append(run_measured([a.bin, "snapshot", catalog, "--warehouse", os.path.join(work, "w.db"), "--quiet"]))
        script = ("PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n.mode csv\n"
                  f".import '{csv}' customers\n")
        shell.append(run_measured(["sqlite3", os.path.join(work, "s.db")], stdin=script))
    # Same rows in both.
    n_aurum = subprocess.run(["sqlite3", os.path.join(work, "w.db"), "SELECT count(*) FROM src_customers"], capture_output=True, text=True).stdout.strip()
    n_shell = subprocess.run(["sqlite3", os.path.join(work, "s.db"), "SELECT count(*) FROM customers"], capture_output=True, text=True).stdout.strip()
    ta, ma = min(t for t, _ in aurum), max(m for _, m in aurum)
    ts, ms = min(t for t, _ in shell), max(m for _, m in shell)
    print(f"input: {a.rows:,} rows x 12 columns, {size:.1f} MB ({csv})")
    print(f"aurum snapshot : {ta:6.2f} s  peak {ma:6.1f} MiB  rows {n_aurum}   runs: {', '.join(f'{t:.2f}' for t, _ in aurum)}")
    print(f"sqlite3 .import: {ts:6.2f} s  peak {ms:6.1f} MiB  rows {n_shell}   runs: {', '.join(f'{t:.2f}' for t, _ in shell)}")
    print(f"ratio aurum / sqlite3 = {ta / ts:.2f}  (target <= 1.0)")
    if not a.keep:
        shutil.rmtree(work)

if __name__ == "__main__":
    main()
