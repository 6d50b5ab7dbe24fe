#!/usr/bin/env bash
# Installs test dependencies (idempotently), builds, and runs the whole suite: GoogleTest unit
# tests through ctest, then the integration tests (pytest, real clients, real pulsed process).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test || exit 1
scripts/build.sh || exit 1

status=0
echo "== unit tests (ctest)"
ctest --test-dir build --output-on-failure -j "$(nproc)" || status=1

echo "== integration tests (pytest, target ${PULSE_TEST_TARGET:-pulsed})"
PULSED_BIN="$PWD/build/src/app/pulsed" /usr/bin/python3 -m pytest tests/integration -q \
  -p no:cacheprovider --timeout=300 "$@"
rc=$?
# pytest's 5 means "no tests collected", which is a failure for this suite.
[ $rc -ne 0 ] && status=1
exit $status
