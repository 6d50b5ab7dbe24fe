#!/usr/bin/env bash
# The whole suite against sanitized builds: `asan` (AddressSanitizer + UndefinedBehaviorSanitizer,
# build-asan/) or `tsan` (ThreadSanitizer: the storage thread, the sync workers, the tools'
# worker pools; build-tsan/). Builds pulsed, the tools and the unit tests there, runs the unit
# tests, then the integration tests with PULSED_BIN from that build (the tools are found beside
# it). A sanitizer report aborts the process it is in (exit code 86), which fails its test.
#   scripts/sanitize.sh asan|tsan [unit|integration|all (default)] [pytest args...]
set -uo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
what=${2:-all}
shift $(( $# >= 2 ? 2 : $# ))
case $kind in
  asan) flag=-DPULSE_SANITIZE=ON ;;
  tsan) flag=-DPULSE_TSAN=ON ;;
  *) echo "usage: $0 asan|tsan [unit|integration|all] [pytest args...]" >&2; exit 2 ;;
esac
scripts/deps.sh test >/dev/null || exit 1
dir=build-$kind
# A unity build, as CI's (scripts/build.sh): the sanitized tree compiles in about half the time.
[ -f "$dir/build.ninja" ] ||
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPULSE_BUILD_EXAMPLES=OFF \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_CXX_FLAGS=-fno-var-tracking-assignments "$flag" >/dev/null ||
    exit 1
nice cmake --build "$dir" -j "$(nproc)" || exit 1

# Reports go to stderr, which the suite keeps in each broker's log; the exit code marks them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=86:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=86}
export TSAN_OPTIONS=${TSAN_OPTIONS:-exitcode=86:second_deadlock_stack=1}
status=0
if [ "$what" = unit ] || [ "$what" = all ]; then
  echo "== unit tests ($kind)"
  ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" || status=1
fi
if [ "$what" = integration ] || [ "$what" = all ]; then
  echo "== integration tests ($kind)"
  workers=${PULSE_TEST_WORKERS:-2}
  PULSED_BIN="$PWD/$dir/src/app/pulsed" /usr/bin/python3 -m pytest tests/integration -q \
    -p no:cacheprovider --timeout=600 -n "$workers" --dist loadfile "$@" || status=1
fi
exit $status
