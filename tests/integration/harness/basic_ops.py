"""Small pika helpers shared by the basic.* tests."""
from harness.util import wait_for


def q_excl(ch):
    return ch.queue_declare("", exclusive=True).method.queue


def fill(ch, q, n, fmt=b"%d"):
    ch.confirm_delivery()
    for i in range(n):
        ch.basic_publish("", q, fmt % i)


def get_all(ch, q, ack=True):
    out = []
    while True:
        m, p, b = ch.basic_get(q, auto_ack=ack)
        if m is None:
            return out
        out.append(b)


def pump(conn, pred, timeout=3):
    return wait_for(lambda: conn.process_data_events(0.02) or pred(), timeout=timeout)
