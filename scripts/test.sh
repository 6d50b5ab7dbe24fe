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

# The suite must pass beside a pulsed on the default ports, as scripts/setup.sh leaves one: no
# test, benchmark or tool may depend on a default port. If nothing listens on 127.0.0.1:5672,
# a pulsed with its defaults (temporary data directory) runs for the duration of the suite.
if (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  echo "== something already listens on 127.0.0.1:5672: the suite runs beside it"
else
  default_dir=$(mktemp -d /tmp/pulse-test-default.XXXXXX)
  build/src/app/pulsed --data-dir "$default_dir/data" >"$default_dir/pulsed.log" 2>&1 &
  default_pid=$!
  trap 'kill "$default_pid" 2>/dev/null && wait "$default_pid"; rm -rf "$default_dir";
        echo "== stopped the default-ports pulsed (pid $default_pid)"' EXIT
  for _ in $(seq 1 100); do
    grep -q "Prometheus metrics listening on" "$default_dir/pulsed.log" && break
    kill -0 "$default_pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q "Prometheus metrics listening on" "$default_dir/pulsed.log"; then
    echo "pulsed with its defaults failed to start:" >&2
    cat "$default_dir/pulsed.log" >&2
    exit 1
  fi
  echo "== started pulsed on the default ports (pid $default_pid, data in $default_dir) for" \
       "the suite, as scripts/setup.sh leaves one; it is stopped at the end"
fi

# The suite mostly waits on brokers and clients, so it runs in parallel pytest-xdist workers
# (one per core, 2 to 4; PULSE_TEST_WORKERS=0 runs it in this process). Each file runs whole in
# one worker (--dist loadfile): a module's private RabbitMQ node starts once, and every worker has
# its own session brokers on free ports.
workers=${PULSE_TEST_WORKERS:-$(nproc)}
if [ -z "${PULSE_TEST_WORKERS:-}" ]; then
  [ "$workers" -lt 2 ] && workers=2
  [ "$workers" -gt 4 ] && workers=4
fi
parallel=()
[ "$workers" -gt 0 ] && parallel=(-n "$workers" --dist loadfile)
echo "== integration tests (pytest, target ${PULSE_TEST_TARGET:-pulsed}, ${workers} workers)"
# --durations: the slowest steps in CI's log, so the suite's time can be kept in check.
PULSED_BIN="$PWD/build/src/app/pulsed" /usr/bin/python3 -m pytest tests/integration -q \
  -p no:cacheprovider --timeout=300 --durations=25 "${parallel[@]}" "$@"
rc=$?
# pytest's 5 means "no tests collected", which is a failure for this suite.
[ $rc -ne 0 ] && status=1
exit $status
