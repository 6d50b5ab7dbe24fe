#!/usr/bin/env bash
# Installs Debian packages idempotently: only runs apt-get when something is missing.
# Usage: scripts/deps.sh build|test
set -euo pipefail
build_pkgs=(build-essential cmake ninja-build ccache pkg-config clang-format python3
  libboost-dev libre2-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  nettle-dev libsqlite3-dev libgtest-dev libgmock-dev
  dpkg-dev fakeroot file)
test_pkgs=(python3-pika python3-kombu python3-pytest python3-pytest-timeout python3-stomp
  python3-websocket amqp-tools
  python3-prometheus-client prometheus
  systemd init-system-helpers passwd)

want=("${build_pkgs[@]}")
[ "${1:-build}" = test ] && want+=("${test_pkgs[@]}")
# The same suite can judge a real RabbitMQ node (PULSE_TEST_TARGET=rabbitmq).
[ "${1:-build}" = test ] && [ "${PULSE_TEST_TARGET:-pulsed}" = rabbitmq ] && want+=(rabbitmq-server)
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
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
