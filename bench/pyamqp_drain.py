#!/usr/bin/python3
"""Scenario 13's worker: py-amqp (kombu's transport) drains N messages from QUEUE the way a
Pulse Python consumer does: basic.consume, prefetch 100, one basic.ack per message. Prints one
JSON line: the rate and the client's CPU per message.

    pyamqp_drain.py HOST PORT QUEUE N
"""
import json
import resource
import sys
import time

import amqp


def _cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(host, port, queue, n):
    n = int(n)
    conn = amqp.Connection("%s:%s" % (host, port), userid="guest", password="guest",
                           heartbeat=0)
    conn.connect()
    ch = conn.channel()
    ch.basic_qos(0, 100, False)
    got = [0]

    def on_message(msg):
        got[0] += 1
        ch.basic_ack(msg.delivery_tag)

    cpu0, t0 = _cpu(), time.monotonic()
    ch.basic_consume(queue, callback=on_message)
    deadline = t0 + 300
    while got[0] < n and time.monotonic() < deadline:
        conn.drain_events(timeout=5)
    elapsed = time.monotonic() - t0
    cpu = _cpu() - cpu0
    conn.close()
    if got[0] != n:
        sys.exit("drained %d of %d" % (got[0], n))
    print(json.dumps({"received": got[0], "elapsed": elapsed, "rate": got[0] / elapsed,
                      "cpu_us_per_msg": cpu * 1e6 / got[0]}))


if __name__ == "__main__":
    main(*sys.argv[1:])
