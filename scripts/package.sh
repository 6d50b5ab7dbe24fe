#!/usr/bin/env bash
# Builds the Debian package pulse-broker_<version>_<arch>.deb into build/dist/ (CPack DEB with
# dpkg-shlibdeps for the library dependencies). Usage: scripts/package.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
scripts/deps.sh build
[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j "$(nproc)"
# fakeroot: files in the archive are root:root whoever builds it.
(cd "$build" && fakeroot cpack --config CPackConfig.cmake)
ls -1 "$build"/dist/*.deb
