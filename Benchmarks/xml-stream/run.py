#!/usr/bin/env python3
"""XML streaming benchmark: a ~500 MB XML export through Aurum's XML source, with time and peak memory.

Generates a deterministic customer export (`/export/customers/customer`, attributes, nested child
elements, a repeated child, a namespace-free default layout, CDATA notes, entities), about
`--mb` megabytes, then runs `aurum snapshot` of a one-source catalog (type: xml) into a fresh
warehouse, best of N runs, and prints the time, rows per second, MB per second and the peak resident
memory of the aurum process (max RSS from wait4). Target: peak memory under 200 MB, whatever the
file's size: the reader streams (libxml2's xmlTextReader), holding one record at a time.

Usage: python3 Benchmarks/xml-stream/run.py [--mb 500] [--runs 1] [--bin .build/release/aurum] [--keep]
       (after `swift build -c release --product aurum`)
"""
import argparse, os, random, shutil, subprocess, sys, tempfile, time

FIRST = ["Ann", "Bob", "Chloé", "Dmitri", "Eve", "Fatima", "Günter", "Hiro", "Inés", "Jon"]
LAST = ["Lee", "Müller", "O'Brien", "Smith", "Nakamura", "García", "Novak", "Okafor", "Rossi", "Berg"]
CITIES = ["Berlin", "Lisbon", "Oslo", "São Paulo", "Kraków", "Zürich", "Dublin", "Osaka"]


def generate(path, target_bytes, seed=42):
    """Writes records until the file reaches target_bytes; returns the number of records."""
    rnd = random.Random(seed)
    n = 0
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<export generated="2026-12-01">\n  <customers>\n')
        written = 0
        chunk = []
        while written < target_bytes:
            n += 1
            first, last, city = rnd.choice(FIRST), rnd.choice(LAST), rnd.choice(CITIES)
            phones = "".join(f'<phone type="{t}">+49 30 {rnd.randrange(1000000, 9999999)}</phone>'
                             for t in ("mobile", "home")[: rnd.randrange(1, 3)])
            rec = (f'    <customer id="{n}" status="{"active" if n % 7 else "closed"}">'
                   f'<name><first>{first}</first><last>{last.replace("&", "&amp;")}</last></name>'
                   f'<email>{first.lower()}.{n}@example.com</email>{phones}'
                   f'<address type="billing"><street>{rnd.randrange(1, 300)} Long Street &amp; Sons</street>'
                   f'<city>{city}</city><postcode>{rnd.randrange(10000, 99999)}</postcode><country>DE</country></address>'
                   f'<balance currency="EUR">{rnd.randrange(-5000, 100000) / 100:.2f}</balance>'
                   f'<created>20{rnd.randrange(10, 26):02d}-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}</created>'
                   f'<notes><![CDATA[Prefers <e-mail>; called {rnd.randrange(0, 50)} times]]></notes></customer>\n')
            chunk.append(rec)
            if len(chunk) == 10000:
                s = "".join(chunk)
                f.write(s)
                written += len(s.encode())
                chunk = []
        if chunk:
            f.write("".join(chunk))
        f.write("  </customers>\n</export>\n")
    return n


def run_measured(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{cmd[0]} failed ({status}): {err.decode()[-2000:]}")
    return dt, ru.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=500)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--bin", default=".build/release/aurum")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (the XML and the warehouse)")
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"{a.bin} not found: run `swift build -c release --product aurum` first")
    work = tempfile.mkdtemp(prefix="aurum-xml-bench-")
    xml = os.path.join(work, "export.xml")
    t0 = time.perf_counter()
    records = generate(xml, int(a.mb * 1e6))
    size = os.path.getsize(xml) / 1e6
    print(f"input: {records:,} records, {size:.1f} MB ({xml}), generated in {time.perf_counter() - t0:.1f} s")
    catalog = os.path.join(work, "catalog.yaml")
    with open(catalog, "w") as f:
        f.write("sources:\n  - {name: customers, type: xml, path: export.xml, options: {records: /export/customers/customer}}\n"
                "outputs:\n  - {format: csv, path: out.csv}\n")
    runs = []
    warehouse = os.path.join(work, "w.db")
    for _ in range(a.runs):
        for p in ["w.db", "w.db-wal", "w.db-shm"]:
            try: os.remove(os.path.join(work, p))
            except FileNotFoundError: pass
        runs.append(run_measured([a.bin, "snapshot", catalog, "--warehouse", warehouse, "--quiet"]))
    staged = subprocess.run(["sqlite3", warehouse, "SELECT count(*) FROM src_customers"], capture_output=True, text=True).stdout.strip()
    columns = subprocess.run(["sqlite3", warehouse, "SELECT count(*) FROM pragma_table_info('src_customers') WHERE name NOT LIKE '\\_\\_%' ESCAPE '\\'"],
                             capture_output=True, text=True).stdout.strip()
    t, peak = min(r[0] for r in runs), max(r[1] for r in runs)
    print(f"aurum snapshot (xml): {t:6.2f} s  {records / t:,.0f} rows/s  {size / t:5.1f} MB/s  peak RSS {peak:6.1f} MiB"
          f"  staged {staged} rows x {columns} columns   runs: {', '.join(f'{r[0]:.2f}' for r in runs)}")
    print(f"peak memory target: < 200 MB -> {'met' if peak * 1.048576 < 200 else 'MISSED'}")
    if str(records) != staged:
        sys.exit(f"staged {staged} rows, expected {records}")
    if not a.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
