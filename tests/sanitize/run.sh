#!/usr/bin/env bash
# Builds the unit and sim test executables with -fsanitize=address,undefined
# into a second build tree and runs each of them; fails on any test failure
# or sanitizer report (UBSan halts on the first finding). Called by ctest
# (tests/sanitize/CMakeLists.txt):
#
#   run.sh SOURCE_DIR BUILD_DIR "TARGET..."
set -euo pipefail
src=$1 bin=$2 targets=$3
jobs=$(nproc)
flags="-O1 -g1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
start=$SECONDS

# Tests are found by running each binary (not discovered at build time), and
# only the test executables are built: no ringd binary, benchmarks or fuzzers.
cmake -S "$src" -B "$bin" -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS="$flags" \
  -DRINGD_STATIC=OFF -DRINGD_BUILD_BENCH=OFF -DRINGD_SANITIZE_SUBBUILD=ON \
  -DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST >"$bin.configure.log" 2>&1 ||
  { cat "$bin.configure.log"; exit 1; }
# shellcheck disable=SC2086
if ! cmake --build "$bin" -j"$jobs" --target $targets >"$bin.build.log" 2>&1; then
  grep -E "error|Error" "$bin.build.log" | head -40
  exit 1
fi
built=$SECONDS
echo "sanitize: configured and built $(wc -w <<<"$targets") test executables in $((built - start)) s"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
logs="$bin/logs"
rm -rf "$logs" && mkdir -p "$logs"
# $jobs at a time (nproc). Every binary runs as $jobs gtest shards, so the
# slow ones (sim_chaos_test, ring_bucket_index_test) do not run alone at
# the end.
# shellcheck disable=SC2086
for t in $targets; do for ((s = 0; s < jobs; s++)); do echo "$t $s"; done; done |
  xargs -P"$jobs" -L1 bash -c '
  bin=$0 logs=$1 shards=$2 t=$3 shard=$4
  exe=$(find "$bin/tests" -maxdepth 1 -name "$t" -type f -executable | head -1)
  log="$logs/$t.$shard.log" s=$SECONDS
  if GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$shard "$exe" --gtest_brief=1 >"$log" 2>&1; then
    echo "sanitize: $t shard $shard passed ($((SECONDS - s)) s)"
  else
    echo "sanitize: $t shard $shard FAILED ($((SECONDS - s)) s)"; touch "$logs/$t.$shard.failed"
  fi' "$bin" "$logs" "$jobs"
failed=$(find "$logs" -name '*.failed' | sort)
for f in $failed; do
  name=$(basename "$f" .failed)
  echo "===== $name (last 60 lines of $logs/$name.log) ====="
  tail -60 "$logs/$name.log"
done
echo "sanitize: build $((built - start)) s, tests $((SECONDS - built)) s"
[[ -z $failed ]]
