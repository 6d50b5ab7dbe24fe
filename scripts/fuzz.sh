#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, build-fuzz/) and runs each for a while on
# a scratch copy of its committed seed corpus, with its dictionary (tests/fuzz/dict/<name>.dict)
# when there is one. Prints, per target, the executions, coverage (cov = edges, ft = features)
# and corpus size libFuzzer reached; a crash stops that target, keeps the input in
# build-fuzz/crashes/ and makes the script fail.
#   scripts/fuzz.sh [-t seconds per target (60)] [-j parallel jobs (1)] [target...]
# New inputs found are left in build-fuzz/corpus/<name>/; copy the interesting ones (and every
# crash, once fixed) into tests/fuzz/corpus/<dir>/ so the replay tests keep them.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=60
jobs=1
while getopts "t:j:" opt; do
  case $opt in
    t) seconds=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) echo "usage: $0 [-t seconds] [-j jobs] [target...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

scripts/deps.sh fuzz >/dev/null || exit 1
command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing" >&2; exit 1; }
[ -f build-fuzz/build.ninja ] ||
  CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPULSE_BUILD_FUZZERS=ON -DPULSE_BUILD_TESTS=OFF -DPULSE_BUILD_EXAMPLES=OFF >/dev/null ||
  exit 1
# Configure again so that targets added since are listed.
cmake build-fuzz >/dev/null || exit 1

mapfile -t entries < build-fuzz/fuzz_targets.txt
declare -A corpus_of
all=()
for e in "${entries[@]}"; do
  [ -z "$e" ] && continue
  name=${e%%$'\t'*}
  corpus_of[$name]=${e#*$'\t'}
  all+=("$name")
done
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
for t in "${targets[@]}"; do
  [ -n "${corpus_of[$t]:-}" ] || { echo "fuzz: no target $t (have: ${all[*]})" >&2; exit 2; }
done
nice cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]}" || exit 1

mkdir -p build-fuzz/crashes build-fuzz/logs
run_one() {
  local t=$1 dir=build-fuzz/corpus/$1 dict=tests/fuzz/dict/$1.dict
  mkdir -p "$dir"
  cp -n "tests/fuzz/corpus/${corpus_of[$t]}"/* "$dir"/ 2>/dev/null
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="build-fuzz/crashes/$t-")
  [ -f "$dict" ] && args+=(-dict="$dict")
  # tests/fuzz/options/<name>: more libFuzzer flags for that target, one a line (# comments).
  [ -f "tests/fuzz/options/$t" ] && args+=($(sed 's/#.*//' "tests/fuzz/options/$t"))
  ASAN_OPTIONS=detect_leaks=1 "build-fuzz/tests/fuzz/$t" "${args[@]}" "$dir" \
    >"build-fuzz/logs/$t.log" 2>&1
  local rc=$? stats
  stats=$(grep -E "^#[0-9]+.*(DONE|pulse|INITED)" "build-fuzz/logs/$t.log" | tail -1 |
          sed -E 's/^#([0-9]+)\s+\S+\s+(cov: [0-9]+ ft: [0-9]+ corp: [0-9]+\/\S+).*/\1 runs, \2/')
  if [ $rc -eq 0 ]; then
    echo "fuzz: $t: ok in ${seconds}s: $stats"
  else
    echo "fuzz: $t: FAILED (rc $rc): $stats; see build-fuzz/logs/$t.log"
    grep -m3 -E "ERROR: |SUMMARY: |Test unit written" "build-fuzz/logs/$t.log" | sed 's/^/  /'
  fi
  return $rc
}
export -f run_one
export seconds
failed=0
if [ "$jobs" -gt 1 ]; then
  for t in "${targets[@]}"; do printf '%s\t%s\n' "$t" "${corpus_of[$t]}"; done |
    xargs -P "$jobs" -L1 bash -c 'declare -A corpus_of=(["$0"]="$1"); run_one "$0"' || failed=1
else
  for t in "${targets[@]}"; do run_one "$t" || failed=1; done
fi
[ $failed -eq 0 ] && echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without a finding" ||
  echo "fuzz: findings above"
exit $failed
