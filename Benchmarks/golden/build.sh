#!/usr/bin/env bash
# Builds golden-bench: a release build of the Aurum target, then swiftc over main.swift against its
# object files (the benchmark stays out of the package's dependency graph). Output:
# .build/golden-bench/golden-bench
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
swift build -c release --target Aurum
rel="$(swift build -c release --show-bin-path)"
out="$root/.build/golden-bench"
rm -rf "$out" && mkdir -p "$out/objs"
cp -r "$rel/Modules" "$out/Modules"
for m in Aurum Yams CYaml; do
  find "$rel/$m.build" -name '*.o' | while read -r o; do cp "$o" "$out/objs/$m-$(basename "$o")"; done
done
swiftc -O -I "$out/Modules" \
  -Xcc "-fmodule-map-file=$root/Sources/CSQLite3/module.modulemap" \
  -Xcc "-fmodule-map-file=$root/.build/checkouts/Yams/Sources/CYaml/include/module.modulemap" \
  "$root/Benchmarks/golden/main.swift" "$out"/objs/*.o -lsqlite3 -o "$out/golden-bench"
echo "built $out/golden-bench"
