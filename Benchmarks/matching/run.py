#!/usr/bin/env python3
"""Matching benchmark: Aurum against Splink on the same generated person records, in one run.

For each size (default 100,000 and 1,000,000 records in 3 sources, seed 42):
  1. `aurum generate people` writes the source files and truth.csv;
  2. `aurum dedupe FILE... --out DIR --id-column id` (zero configuration), when the build has it;
  3. `aurum run Benchmarks/matching/people.yaml` (the shipped catalog), copied beside the data;
     its xref becomes clusters.csv;
  4. Splink 5 with DuckDB (splink_dedupe.py) in the venv of setup.sh;
  5. `aurum evaluate` on each clusters.csv against the truth.
Prints a table: tool, records, wall time, peak RSS, precision, recall, F1, and time / Splink's.
Peak RSS is the max resident set of the measured process (for Splink, the Python process with
DuckDB inside), from wait4.

Usage: python3 Benchmarks/matching/run.py [--sizes 100000,1000000] [--sources 3] [--seed 42]
       [--bin .build/release/aurum] [--python /opt/aurum-splink-venv/bin/python] [--skip-splink]
       [--work DIR] [--keep]
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def run_measured(cmd, env=None, log=None):
    """Runs cmd; returns (seconds, peak RSS MiB, exit status, stderr tail)."""
    t0 = time.perf_counter()
    err = open(log, "w") if log else subprocess.DEVNULL
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    if log:
        err.close()
    code = os.waitstatus_to_exitcode(status)
    tail = open(log).read()[-3000:] if log else ""
    return dt, ru.ru_maxrss / 1024, code, tail


def has_subcommand(binary, name):
    """Whether `aurum --help` lists the subcommand."""
    r = subprocess.run([binary, "--help"], capture_output=True, text=True)
    return any(line.strip().split(" ")[0] == name for line in r.stdout.splitlines() if line.startswith("  "))


def evaluate(binary, truth, clusters):
    r = subprocess.run([binary, "evaluate", "--truth", truth, "--clusters", clusters, "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"  evaluate failed: {r.stderr.strip()}", file=sys.stderr)
        return None
    return json.loads(r.stdout)


# people.yaml's source names and the generator's files they read.
CATALOG_FILES = {"crm": "crm_contacts.csv", "webshop": "webshop_customers.csv", "benefits": "benefits_register.csv"}


def xref_to_clusters(db, path):
    """The catalog run's xref (source, source_key, golden_id) as clusters.csv keyed like truth.csv."""
    import sqlite3
    con = sqlite3.connect(db)
    with open(path, "w") as f:
        f.write("source,record_id,cluster_id\n")
        for src, key, gid in con.execute("SELECT source, source_key, golden_id FROM xref ORDER BY source, source_key"):
            f.write(f"{CATALOG_FILES[src]},{key},{gid}\n")
    con.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--sources", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build/release/aurum"))
    ap.add_argument("--python", default=os.environ.get("AURUM_SPLINK_PYTHON", "/opt/aurum-splink-venv/bin/python"))
    ap.add_argument("--catalog", default=os.path.join(HERE, "people.yaml"))
    ap.add_argument("--skip-splink", action="store_true")
    ap.add_argument("--splink-args", default="", help="extra arguments for splink_dedupe.py")
    ap.add_argument("--work")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"{a.bin} not found: run `swift build -c release --product aurum` first")
    work = a.work or tempfile.mkdtemp(prefix="aurum-match-")
    os.makedirs(work, exist_ok=True)
    dedupe = has_subcommand(a.bin, "dedupe")
    if not dedupe:
        print(f"note: {a.bin} has no `dedupe` subcommand: skipping aurum dedupe and aurum run", file=sys.stderr)
    catalog = dedupe and os.path.exists(a.catalog)
    if dedupe and not catalog:
        print(f"note: {a.catalog} not found: skipping aurum run", file=sys.stderr)
    splink = not a.skip_splink
    if splink and subprocess.run([a.python, "-c", "import splink"], capture_output=True).returncode != 0:
        print(f"note: {a.python} cannot import splink (run Benchmarks/matching/setup.sh): skipping Splink", file=sys.stderr)
        splink = False

    rows = []
    for n in [int(x) for x in a.sizes.split(",") if x]:
        data = os.path.join(work, f"people-{n}")
        t0 = time.perf_counter()
        subprocess.run([a.bin, "generate", "people", "--records", str(n), "--sources", str(a.sources),
                        "--seed", str(a.seed), "--out", data, "--quiet"], check=True)
        print(f"generated {n:,} records in {time.perf_counter() - t0:.1f}s: {data}", file=sys.stderr)
        truth = os.path.join(data, "truth.csv")
        files = sorted(os.path.join(data, f) for f in os.listdir(data) if f.endswith(".csv") and f != "truth.csv")
        runs = []
        if dedupe:
            out = os.path.join(work, f"dedupe-{n}")
            shutil.rmtree(out, ignore_errors=True)
            runs.append(("aurum dedupe", out, [a.bin, "dedupe", *files, "--out", out, "--id-column", "id"], None))
        if catalog:
            out = os.path.join(work, f"catalog-{n}")
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(out)
            # The catalog reads its files relative to itself: run a copy beside the data.
            shutil.copy(a.catalog, os.path.join(data, "people.yaml"))
            runs.append(("aurum run (catalog)", out, [a.bin, "run", os.path.join(data, "people.yaml"),
                                                       "--warehouse", os.path.join(out, "aurum.db"), "--quiet"], None))
        if splink:
            out = os.path.join(work, f"splink-{n}")
            shutil.rmtree(out, ignore_errors=True)
            runs.append(("splink 5 (duckdb)", out, [a.python, os.path.join(HERE, "splink_dedupe.py"), *files, "--out", out,
                                                    *a.splink_args.split()], None))
        for tool, out, cmd, env in runs:
            os.makedirs(out, exist_ok=True)
            print(f"running {tool} on {n:,} records …", file=sys.stderr, flush=True)
            dt, rss, code, tail = run_measured(cmd, env=env, log=os.path.join(out, "stderr.log"))
            if code != 0:
                print(f"  {tool} failed ({code}):\n{tail}", file=sys.stderr)
                rows.append((tool, n, dt, rss, None))
                continue
            if tool.startswith("aurum run"):
                xref_to_clusters(os.path.join(out, "aurum.db"), os.path.join(out, "clusters.csv"))
            rows.append((tool, n, dt, rss, evaluate(a.bin, truth, os.path.join(out, "clusters.csv"))))
            print(f"  {dt:.1f}s, peak {rss:.0f} MiB", file=sys.stderr)

    splink_time = {n: dt for tool, n, dt, _, e in rows if tool.startswith("splink") and e}
    print()
    print(f"{'tool':<22} {'records':>10} {'time s':>9} {'peak MiB':>9} {'precision':>9} {'recall':>7} {'F1':>7} {'largest':>7} {'time/splink':>11}")
    for tool, n, dt, rss, e in rows:
        ratio = f"{dt / splink_time[n]:.2f}" if n in splink_time else "-"
        if e is None:
            print(f"{tool:<22} {n:>10,} {dt:>9.1f} {rss:>9.0f} {'failed':>9}")
            continue
        print(f"{tool:<22} {n:>10,} {dt:>9.1f} {rss:>9.0f} {e['precision']:>9.4f} {e['recall']:>7.4f} {e['f1']:>7.4f} "
              f"{e['largest_cluster']:>7} {ratio:>11}")
    if not a.keep and not a.work:
        shutil.rmtree(work)
    else:
        print(f"\noutputs kept in {work}")


if __name__ == "__main__":
    main()
