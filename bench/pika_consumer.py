#!/usr/bin/python3
"""A pika consumer for bench/stream.py: the reference reader written with a client we did not
write. Same shape as pulse::Consumer: its own auto-delete queue queue/guest/<applabel> bound to
(exchange, topic), prefetch, one basic.ack per message.

    pika_consumer.py HOST PORT EXCHANGE TOPIC APPLABEL [PREFETCH]

stderr: "ready <queue>" once consuming. stdout: "count <n>" every 100 ms and every 1000 messages, and at exit
(SIGTERM).
"""
import signal
import sys
import time

import pika

stopping = False


def main():
    global stopping
    host, port, exchange, topic, applabel = sys.argv[1:6]
    prefetch = int(sys.argv[6]) if len(sys.argv) > 6 else 100
    queue = "queue/guest/" + applabel

    def stop(_signum, _frame):
        global stopping
        stopping = True
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    conn = pika.BlockingConnection(pika.ConnectionParameters(host=host, port=int(port)))
    ch = conn.channel()
    ch.exchange_declare(exchange, exchange_type="topic", durable=True, passive=True)
    ch.queue_declare(queue, auto_delete=True)
    ch.queue_bind(queue, exchange, routing_key=topic)
    ch.basic_qos(prefetch_count=prefetch)
    count = 0

    def on_message(channel, method, _properties, _body):
        nonlocal count
        count += 1
        channel.basic_ack(method.delivery_tag)
        if count % 1000 == 0:  # process_data_events may dispatch for longer than its limit
            print("count %d" % count, flush=True)
    ch.basic_consume(queue, on_message)
    print("ready " + queue, file=sys.stderr, flush=True)
    last = time.monotonic()
    while not stopping:
        conn.process_data_events(time_limit=0.1)
        now = time.monotonic()
        if now - last >= 0.1:
            last = now
            print("count %d" % count, flush=True)
    print("count %d" % count, flush=True)
    conn.close()


if __name__ == "__main__":
    main()
