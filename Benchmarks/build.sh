#!/usr/bin/env bash
# Builds one of the benchmark programs (Benchmarks/<name>/main.swift) in release mode, as a small
# package of its own under .build/benchmarks/<name> that depends on this repository by path, so the
# benchmarks stay out of the main package's graph. Prints the binary's path.
#
#   Benchmarks/build.sh parquet        # pqbench: AurumParquet against pyarrow
#   Benchmarks/build.sh csv-parse      # the CSV parser alone
#   Benchmarks/build.sh redis-mongo    # rows/s into and out of Redis and MongoDB
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
name="${1:?usage: Benchmarks/build.sh parquet|csv-parse|redis-mongo}"
case "$name" in
  parquet) deps='.product(name: "AurumParquet", package: "Aurum")' ;;
  csv-parse) deps='.product(name: "Aurum", package: "Aurum")' ;;
  redis-mongo) deps='.product(name: "Aurum", package: "Aurum"), .product(name: "AurumRedis", package: "Aurum"), .product(name: "AurumMongo", package: "Aurum")' ;;
  *) echo "unknown benchmark '$name' (parquet, csv-parse or redis-mongo)" >&2; exit 2 ;;
esac
pkg="$root/.build/benchmarks/$name"
mkdir -p "$pkg/Sources/bench"
cp "$root/Benchmarks/$name/main.swift" "$pkg/Sources/bench/main.swift"
cat > "$pkg/Package.swift" <<SWIFT
// swift-tools-version: 6.1
import PackageDescription
let package = Package(
    name: "bench-$name",
    dependencies: [.package(name: "Aurum", path: "$root")],
    targets: [.executableTarget(name: "bench", dependencies: [$deps], path: "Sources/bench")]
)
SWIFT
swift build -c release --package-path "$pkg" >&2
echo "$pkg/.build/release/bench"
