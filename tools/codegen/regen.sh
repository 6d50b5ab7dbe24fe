#!/usr/bin/env bash
# Regenerates src/amqp/generated (or OUT_DIR) from the spec and formats it like the tree.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$here/src/amqp/generated}
python3 "$here/tools/codegen/amqp_codegen.py" "$here/spec/amqp-rabbitmq-0.9.1.json" "$out"
clang-format --style="file:$here/.clang-format" -i "$out"/*.h "$out"/*.cc
