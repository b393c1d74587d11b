#!/usr/bin/env python3
"""Repeats the incremental run of Benchmarks/incremental/run.py from a base it saved with
`--save-base DIR` (and `--work`, so that the changed source files are kept; a source's path is
part of the matching config, so they cannot move): restores the full run's warehouse and the
synced PostgreSQL database, runs `aurum run` on the changed data, and prints the run's seconds, its CPU seconds and its steps.
The full run is not repeated, so compare the figures with that run's full-run time.

Usage: python3 Benchmarks/incremental/rerun.py DIR [--bin .build/release/aurum] [--runs 1]
       [--pg-database aurum_bench_incremental] [--pg-socket /var/run/postgresql]
"""
import argparse, json, os, shutil, subprocess, sys, time, resource, sqlite3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build/release/aurum"))
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--pg-database", default="aurum_bench_incremental")
    ap.add_argument("--pg-socket", default="/var/run/postgresql")
    a = ap.parse_args()
    catalog = open(os.path.join(a.base, "catalog")).read().strip()
    warehouse = os.path.join(a.base, "run.db")
    for n in range(a.runs):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(warehouse + suffix):
                os.remove(warehouse + suffix)
        shutil.copy(os.path.join(a.base, "aurum.db"), warehouse)
        if "postgresql" in open(catalog).read():
            subprocess.run(["dropdb", "-h", a.pg_socket, "--if-exists", a.pg_database], check=True)
            subprocess.run(["createdb", "-h", a.pg_socket, "-T", a.pg_database + "_base", a.pg_database], check=True)
        subprocess.run(["sync"], check=True)
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run([a.bin, "run", catalog, "--warehouse", warehouse, "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        dt = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode != 0:
            sys.exit(f"aurum run failed ({p.returncode}):\n{p.stderr[-3000:]}")
        report = json.loads(p.stdout)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        con = sqlite3.connect(warehouse)
        steps = con.execute("""SELECT name, (julianday(ended_at) - julianday(started_at)) * 86400 FROM run_steps
                               WHERE run_id = ? ORDER BY step_no""", (report["run_id"],)).fetchall()
        con.close()
        print(f"incremental run {dt:.2f} s (CPU {cpu:.2f} s): " + ", ".join(f"{k} {v:.2f}" for k, v in steps))
        for m in report.get("matching", []):
            print("  match phases: " + ", ".join(f"{k} {v:.2f}" for k, v in m["seconds"].items()))


if __name__ == "__main__":
    main()
