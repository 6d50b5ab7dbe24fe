#!/usr/bin/env bash
# Installs Debian packages idempotently: only runs apt-get when something is missing.
# Usage: scripts/deps.sh build|test|fuzz
set -euo pipefail
build_pkgs=(build-essential cmake ninja-build ccache pkg-config clang-format python3
  libboost-dev libre2-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  nettle-dev libssl-dev zlib1g-dev libsqlite3-dev uuid-dev libgtest-dev libgmock-dev
  dpkg-dev fakeroot file lld librabbitmq-dev)
test_pkgs=(python3-pika python3-kombu python3-pytest python3-pytest-timeout python3-pytest-xdist
  python3-stomp python3-websocket python3-aiosmtpd amqp-tools
  python3-prometheus-client prometheus chromium
  systemd init-system-helpers passwd)

# The libFuzzer and sanitizer builds (scripts/fuzz.sh, scripts/sanitize.sh): clang and its
# runtimes.
fuzz_pkgs=(clang libclang-rt-14-dev)

want=("${build_pkgs[@]}")
[ "${1:-build}" = fuzz ] && want+=("${fuzz_pkgs[@]}")
[ "${1:-build}" = test ] && want+=("${test_pkgs[@]}")
# Tests start private RabbitMQ nodes of their own (cross-broker definitions, bench smoke, and the
# whole suite with PULSE_TEST_TARGET=rabbitmq) and use its rabbitmqadmin.
[ "${1:-build}" = test ] && want+=(rabbitmq-server)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm: the machine may ship Node.js from another Debian repository; use it if present.
if [ "${1:-build}" = test ]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  # The Debian rabbitmq-server package would start a node on 5672 (pulsed's port): tests only
  # run private nodes, so keep the packaged service from starting, now and at boot.
  no_start=""
  if [[ " ${missing[*]} " == *" rabbitmq-server "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
    no_start=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$no_start" >/dev/null
    $SUDO chmod +x "$no_start"
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ -n "$no_start" ]; then
    $SUDO rm -f "$no_start"
    command -v systemctl >/dev/null && $SUDO systemctl disable rabbitmq-server >/dev/null 2>&1 || true
  fi
fi

# The inspector's browser tests (tests/integration/test_inspector.py): playwright-core from npm,
# pinned by the committed package-lock.json, drives the chromium above (no browser download).
if [ "${1:-build}" = test ]; then
  browser_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/integration/browser"
  if [ ! -d "$browser_dir/node_modules/playwright-core" ]; then
    echo "installing playwright-core in $browser_dir"
    (cd "$browser_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
  fi
  # The Node.js client tests (amqplib, @stomp/stompjs + ws): npm ci again whenever a package the
  # committed package-lock.json lists is missing or at another version.
  /usr/bin/python3 "$(dirname "$0")/../tests/integration/harness/node_deps.py" \
    "$(dirname "$browser_dir")/node"
fi
