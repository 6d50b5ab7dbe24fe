#!/usr/bin/env bash
# Soak and chaos run of pulsed: installs what it needs (idempotently), builds pulsed and the
# Pulse tools into build/, then runs bench/soak/soak.py with the given arguments
# (e.g. --minutes 30 --out bench/soak/RESULTS.md). See bench/soak/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh test
scripts/build.sh >/dev/null
exec /usr/bin/python3 bench/soak/soak.py "$@"
