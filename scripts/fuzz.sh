#!/usr/bin/env bash
# Builds and runs one libFuzzer target of the Fuzz/ package on a copy of its seed corpus (and its
# regression inputs), so a run never grows the repository.
#   scripts/fuzz.sh FuzzParquet|FuzzXLSX|FuzzXML|FuzzCSV|FuzzJSON [SECONDS] [extra libFuzzer flags...]
#   FUZZ_NO_BUILD=1 scripts/fuzz.sh ...   reuse the last build
# Crash/leak/timeout artifacts land in $FUZZ_OUT (default /tmp/aurum-fuzz/<target>/artifacts).
set -euo pipefail
target=${1:?usage: scripts/fuzz.sh TARGET [SECONDS] [libFuzzer flags...]}
seconds=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/Fuzz"
[ -d "$fuzz/Sources/$target" ] || { echo "no fuzz target $target in $fuzz/Sources" >&2; exit 2; }

if [ -z "${FUZZ_NO_BUILD:-}" ]; then
  (cd "$fuzz" && nice -n 10 swift build -c release --product "$target" --sanitize fuzzer \
     -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld -Xswiftc -enable-testing)
fi
bin="$fuzz/.build/release/$target"

out=${FUZZ_OUT:-/tmp/aurum-fuzz/$target}
mkdir -p "$out/artifacts"
corpus=$(mktemp -d "${TMPDIR:-/tmp}/aurum-fuzz-$target-corpus.XXXXXX")
# Scratch files (the readers read paths) and the xlsx reader's temporary directories: a private tmpfs dir.
scratch=$(mktemp -d "${FUZZ_TMP_ROOT:-/dev/shm}/aurum-fuzz-$target.XXXXXX")
trap 'rm -rf "$corpus" "$scratch"' EXIT
for d in "$fuzz/Corpus/$target" "$fuzz/Regressions/$target"; do
  [ -d "$d" ] && find "$d" -type f -exec cp {} "$corpus/" \;
done
export FUZZ_TMP=$scratch TMPDIR=$scratch
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=0}
nice -n 10 "$bin" "$corpus" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
  -timeout=10 -print_final_stats=1 -artifact_prefix="$out/artifacts/" "$@" 2>&1 | tee "$out/log.txt"
