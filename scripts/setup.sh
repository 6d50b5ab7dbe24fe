#!/usr/bin/env bash
# Installs every dependency, builds, and starts pulsed with its defaults
# (AMQP on 127.0.0.1:5672, guest/guest, data in ./var/pulse). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
scripts/build.sh
mkdir -p var
if [ -f var/pulsed.pid ] && kill -0 "$(cat var/pulsed.pid)" 2>/dev/null; then
  echo "pulsed already running (pid $(cat var/pulsed.pid)); restarting"
  kill "$(cat var/pulsed.pid)"
  while kill -0 "$(cat var/pulsed.pid)" 2>/dev/null; do sleep 0.1; done
fi
nohup build/src/app/pulsed --data-dir var/pulse "$@" >var/pulsed.log 2>&1 &
echo $! >var/pulsed.pid
for _ in $(seq 1 100); do
  if grep -q "listening on" var/pulsed.log; then
    grep "listening on" var/pulsed.log
    echo "pulsed running (pid $(cat var/pulsed.pid)), log in var/pulsed.log; stop with: kill \$(cat var/pulsed.pid)"
    exit 0
  fi
  kill -0 "$(cat var/pulsed.pid)" 2>/dev/null || break
  sleep 0.1
done
echo "pulsed failed to start:" >&2
cat var/pulsed.log >&2
exit 1
