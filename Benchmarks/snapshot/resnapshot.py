#!/usr/bin/env python3
"""Re-snapshot benchmark: the second snapshot of keyed sources against the first, in the same run.

Generates `aurum generate people --records N --sources 3 --seed 42` (three keyed CSV files), copies
Benchmarks/matching/people.yaml beside them, then times, each in a fresh warehouse (best of --runs):
  - first:     `aurum snapshot people.yaml` into an empty warehouse (no previous snapshot);
  - second:    the same again (every key looked up in the previous snapshot, nothing changed);
  - changed:   a third snapshot after 1% of each file's rows changed (0.5% updated, 0.25% deleted,
               0.25% new), so the change set is not empty.
Prints the times, the ratio second / first (target <= 1.3) and the change counts of the last run.

Usage: python3 Benchmarks/snapshot/resnapshot.py [--records 1000000] [--runs 3] [--bin .build/release/aurum]
"""
import argparse, csv, os, shutil, sqlite3, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd):
    """(wall seconds, CPU seconds user + system) of one run."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit(f"{' '.join(cmd)} failed ({status}): {err.decode()[-2000:]}")
    return time.perf_counter() - t0, ru.ru_utime + ru.ru_stime


def change(path, seed):
    """Rewrites a CSV with 1% of its rows changed: every 200th updated, every 400th (offset) deleted, 0.25% appended."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    out = []
    for i, r in enumerate(body):
        if i % 400 == 7:
            continue
        if i % 200 == 3:
            r = list(r)
            r[-1] = (r[-1] + "x") if r[-1] else "x"
        out.append(r)
    for j in range(len(body) // 400):
        r = list(body[j])
        r[0] = f"new-{seed}-{j}"
        out.append(r)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bin", default=".build/release/aurum")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"{a.bin} not found: run `swift build -c release` first")
    work = tempfile.mkdtemp(prefix="aurum-resnap-")
    data = os.path.join(work, "data")
    subprocess.run([a.bin, "generate", "people", "--records", str(a.records), "--sources", "3", "--seed", "42",
                    "--out", data, "--quiet"], check=True)
    shutil.copy(os.path.join(HERE, "..", "matching", "people.yaml"), os.path.join(data, "people.yaml"))
    catalog = os.path.join(data, "people.yaml")
    files = sorted(f for f in os.listdir(data) if f.endswith(".csv") and f != "truth.csv")
    pristine = os.path.join(work, "pristine")
    os.makedirs(pristine)
    for f in files:
        shutil.copy(os.path.join(data, f), os.path.join(pristine, f))
    rows = 0
    for f in files:
        with open(os.path.join(data, f), encoding="utf-8") as h:
            rows += sum(1 for _ in h) - 1

    first, second, changed = [], [], []
    db = os.path.join(work, "w.db")
    for _ in range(a.runs):
        for suffix in ["", "-wal", "-shm"]:
            try: os.remove(db + suffix)
            except FileNotFoundError: pass
        for f in files:
            shutil.copy(os.path.join(pristine, f), os.path.join(data, f))
        cmd = [a.bin, "snapshot", catalog, "--warehouse", db, "--quiet"]
        first.append(timed(cmd))
        second.append(timed(cmd))
        for i, f in enumerate(files):
            change(os.path.join(data, f), i)
        changed.append(timed(cmd))
    con = sqlite3.connect(db)
    counts = con.execute("SELECT source, inserted, updated, deleted, unchanged FROM change_counts "
                         "WHERE run_id = (SELECT max(run_id) FROM change_counts) ORDER BY source").fetchall()
    con.close()
    # Best of the runs; CPU time too, as the wall time on a shared machine depends on the others.
    tf, ts, tc = (min(w for w, _ in x) for x in (first, second, changed))
    cf, cs, cc = (min(c for _, c in x) for x in (first, second, changed))
    runs = lambda x: ', '.join(f'{w:.2f}' for w, _ in x)
    print(f"input: {rows:,} keyed rows in {len(files)} files ({a.records:,} people)")
    print(f"first snapshot  : {tf:6.2f} s  cpu {cf:5.2f} s   runs: {runs(first)}")
    print(f"second snapshot : {ts:6.2f} s  cpu {cs:5.2f} s   runs: {runs(second)}")
    print(f"1% changed      : {tc:6.2f} s  cpu {cc:5.2f} s   runs: {runs(changed)}")
    print(f"ratio second / first = {ts / tf:.2f} wall, {cs / cf:.2f} cpu  (target <= 1.3);  changed / first = {tc / tf:.2f} wall, {cc / cf:.2f} cpu")
    for s, i, u, d, n in counts:
        print(f"  {s}: {i} inserted, {u} updated, {d} deleted, {n} unchanged")
    if a.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
