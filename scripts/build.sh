#!/usr/bin/env bash
# Configures (once) and builds into build/ with Ninja and ccache.
# PULSE_CI_BUILD=1 (set by .ci/run) configures a build made once from scratch, that nobody edits
# in nor steps through in a debugger, for about half the compile time:
# - a unity build (CMAKE_UNITY_BUILD): a target's .cc files compile in batches, each header parsed
#   and each template instantiated once per batch; in a build one edits in, an edit would
#   recompile its whole batch, and ccache would hit only for unchanged batches;
# - -fno-var-tracking-assignments: the same -O2 code and full -g debug information, with less
#   precise locations for optimized-out variables.
# It applies when build/ is first configured.
set -euo pipefail
cd "$(dirname "$0")/.."
ci=()
[ "${PULSE_CI_BUILD:-0}" = 1 ] &&
  ci=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_CXX_FLAGS=-fno-var-tracking-assignments)
[ -f build/build.ninja ] ||
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${ci[@]}"
cmake --build build -j "$(nproc)"
