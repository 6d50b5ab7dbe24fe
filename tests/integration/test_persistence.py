"""Persistent messages (delivery_mode 2) in durable queues survive a restart of pulsed on the
same data directory, SIGTERM and kill -9 alike, once their publisher confirm arrived (issue 3,
RabbitMQ semantics). Transient messages, non-durable and exclusive queues do not."""
import datetime
import decimal
import random
import os
import re
import signal
import time

import pika
import pytest

from harness.async_clients import AsyncPublisher
from harness.broker import PulsedBroker
from harness.procfs import MiB, disk_usage, wait_stable
from harness.util import unique, wait_for

# Restarting a node on the same data directory is driven through the pulsed harness: every test
# here is pulsed-only except the control test, which runs against both targets.
pulsed_only = pytest.mark.pulsed_only

RESTARTS = pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "kill9"])
PERSISTENT = 2


@pytest.fixture
def node():
    b = PulsedBroker()
    b.start()
    yield b
    b.stop(check=False)


def close_quietly(c):
    try:
        if c.is_open:
            c.close()
    except Exception:  # noqa: the broker went away under it
        pass


def publish_confirmed(b, exchange, key, messages, **conn_kw):
    """Publishes [(body, props)] with confirms, one at a time (each waits for its confirm)."""
    c = b.connect(**conn_kw)
    try:
        ch = c.channel()
        ch.confirm_delivery()
        for body, props in messages:
            ch.basic_publish(exchange, key, body, props)
    finally:
        c.close()


def get_all(b, queue, ack=True, **conn_kw):
    """basic.get until empty: [(method, props, body)]."""
    c = b.connect(**conn_kw)
    out = []
    try:
        ch = c.channel()
        while True:
            m, p, body = ch.basic_get(queue, auto_ack=ack)
            if m is None:
                return out
            out.append((m, p, body))
    finally:
        c.close()


def message_count(b, queue):
    c = b.connect()
    try:
        return c.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        c.close()


def queue_exists(b, queue):
    c = b.connect()
    try:
        c.channel().queue_declare(queue, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker as e:
        assert e.reply_code == 404, e
        return False
    finally:
        close_quietly(c)


def props_dict(p):
    return {k: v for k, v in vars(p).items() if not k.startswith("_")}


# -- every property and body shape ------------------------------------------------------------

NESTED_HEADERS = {
    "str": "héllo wörld",
    "int": 42,
    "neg": -7,
    "long": 2 ** 40,
    "bool": True,
    "false": False,
    "bytes": b"\x00\x01\xfe\xff",
    "void": None,
    "decimal": decimal.Decimal("3.14159"),
    "negdec": decimal.Decimal("-0.5"),
    "ts": datetime.datetime(2021, 6, 5, 4, 3, 2),
    "table": {"inner": {"deep": [1, "two", {"three": decimal.Decimal("12.5")}]},
              "when": datetime.datetime(1999, 12, 31, 23, 59, 59)},
    "array": [1, [2, [3, []]], {"k": "v"}, datetime.datetime(2000, 1, 1), decimal.Decimal("7"),
              b"raw", None, True],
    "empty-table": {},
    "empty-array": [],
}


def all_props(i):
    return pika.BasicProperties(
        content_type="application/x-pulse-%d" % i,
        content_encoding="gzip",
        headers=dict(NESTED_HEADERS, index=i),
        delivery_mode=PERSISTENT,
        priority=i % 10,
        correlation_id="corr-%d" % i,
        reply_to="reply.queue.%d" % i,
        expiration="86400000",  # a day: must not run out during the test
        message_id="msg-%d" % i,
        timestamp=1600000000 + i,
        type="pulse.test.type",
        user_id="guest",
        app_id="pulse-it")


def shaped_messages():
    """(body, props, conn_kw) for every body shape the store must keep byte-exact."""
    rnd = random.Random(3)
    return [
        (bytes(range(256)) * 4, all_props(0), {}),  # every byte value
        (b"", all_props(1), {}),  # empty body: a header frame and no body frame
        (rnd.randbytes(1024 * 1024), all_props(2), {}),  # 1 MiB: 8 frames at frame_max 131072
        (rnd.randbytes(300 * 1024 + 7), all_props(3), {"frame_max": 4096}),  # ~76 body frames
        (b"\x00", pika.BasicProperties(delivery_mode=PERSISTENT), {}),  # no other property
        (b"\r\n\xce\x00end", all_props(5), {"frame_max": 4096}),
    ] + [(b"seq-%d" % i, pika.BasicProperties(delivery_mode=PERSISTENT, message_id=str(i)), {})
         for i in range(6, 40)]


def publish_shaped(b, exchange):
    for body, props, kw in shaped_messages():
        publish_confirmed(b, exchange, "", [(body, props)], **kw)


def declare_twins(b, tag):
    """A durable fanout exchange feeding two durable queues: `main` is kept across the restart,
    `twin` is read before it (what pika decodes from pulsed before the restart is the
    reference for what comes back after it)."""
    x, main, twin = "px-" + tag, "pq-" + tag, "pt-" + tag
    c = b.connect()
    ch = c.channel()
    ch.exchange_declare(x, "fanout", durable=True)
    for q in (main, twin):
        ch.queue_declare(q, durable=True)
        ch.queue_bind(q, x)
    c.close()
    return x, main, twin


def assert_shaped(got, reference, kill):
    expected = shaped_messages()
    assert len(got) == len(expected), (len(got), len(expected))
    for i, ((m, p, body), (rm, rp, rbody), (ebody, eprops, _kw)) in enumerate(
            zip(got, reference, expected)):
        assert body == ebody, "message %d: body differs (%d bytes, expected %d)" % (
            i, len(body), len(ebody))
        assert props_dict(p) == props_dict(rp), "message %d: properties differ" % i
        assert p.delivery_mode == PERSISTENT and p.message_id == eprops.message_id
        if not kill:  # see test_redelivered_flag_after_restart for the kill -9 case
            assert not m.redelivered, "message %d was never delivered: redelivered=False" % i


@pulsed_only
@RESTARTS
def test_persistent_messages_survive_restart(node, kill):
    x, main, twin = declare_twins(node, unique("s"))
    publish_shaped(node, x)
    reference = get_all(node, twin)
    # Sanity of the reference itself: the properties as published (pika's own round trip).
    assert [b for _m, _p, b in reference] == [b for b, _p, _k in shaped_messages()]
    assert reference[0][1].headers == dict(NESTED_HEADERS, index=0)
    assert props_dict(reference[3][1]) == props_dict(all_props(3))

    node.restart(kill=kill)

    got = get_all(node, main, frame_max=4096)  # deliveries split in small frames too
    assert_shaped(got, reference, kill)
    if not kill:  # kill -9 may lose acks not yet synced (RabbitMQ's do come back)
        assert get_all(node, twin) == []  # acked before the restart: stays acked
    assert get_all(node, main) == []


def test_properties_round_trip_control(broker, uname):
    """Control for the restart tests, on both targets: what pika decodes for every shaped
    message without a restart is what it published (so comparisons after a restart are fair)."""
    q = uname("ctl")
    c = broker.connect()
    c.channel().queue_declare(q, exclusive=False, auto_delete=False)
    c.close()
    try:
        for body, props, kw in shaped_messages():
            publish_confirmed(broker, "", q, [(body, props)], **kw)
        got = get_all(broker, q, frame_max=4096)
        assert [b for _m, _p, b in got] == [b for b, _p, _k in shaped_messages()]
        for (_m, p, _b), (_body, props, _kw) in zip(got, shaped_messages()):
            assert props_dict(p) == props_dict(props)
    finally:
        c = broker.connect()
        c.channel().queue_delete(q)
        c.close()


# -- what does not survive ---------------------------------------------------------------------

@pulsed_only
@RESTARTS
def test_transient_messages_and_queues_are_gone(node, kill):
    tag = unique("t")
    durable, nondurable, exclusive = "dq-" + tag, "nq-" + tag, "eq-" + tag
    c = node.connect()
    ch = c.channel()
    ch.queue_declare(durable, durable=True)
    ch.queue_declare(nondurable, durable=False)
    ch.confirm_delivery()
    kept = []
    for i in range(30):
        mode = (PERSISTENT, 1, None)[i % 3]  # unset delivery_mode is transient
        body = b"m%d-%s" % (i, str(mode).encode())
        ch.basic_publish("", durable, body, pika.BasicProperties(delivery_mode=mode))
        if mode == PERSISTENT:
            kept.append(body)
        ch.basic_publish("", nondurable, body, pika.BasicProperties(delivery_mode=PERSISTENT))
    # An exclusive durable queue with persistent messages, its connection still open.
    ch.queue_declare(exclusive, durable=True, exclusive=True)
    ch.basic_publish("", exclusive, b"e", pika.BasicProperties(delivery_mode=PERSISTENT))
    assert message_count(node, durable) == 30

    node.restart(kill=kill)
    close_quietly(c)

    assert [b for _m, _p, b in get_all(node, durable)] == kept
    assert not queue_exists(node, nondurable)
    assert not queue_exists(node, exclusive)


# -- redelivered flag ---------------------------------------------------------------------------

def persistent(body):
    return body, pika.BasicProperties(delivery_mode=PERSISTENT)


@pulsed_only
@RESTARTS
def test_redelivered_flag_after_restart(node, kill):
    """Delivered and not acked before the restart: back with redelivered=True; acked: gone;
    nacked with requeue: back (delivered, so redelivered=True); never delivered: back with
    redelivered=False after a clean shutdown. After kill -9 every recovered message comes back
    redelivered, as in RabbitMQ 3.10 (delivery marks are not synced per delivery, so neither
    broker can know better)."""
    with open(node.log_path, "rb") as f:
        assert b"did not stop cleanly" not in f.read(), "a new data directory is no crash"
    tag = unique("r")
    q_get, q_consume = "rg-" + tag, "rc-" + tag
    c = node.connect()
    ch = c.channel()
    for q in (q_get, q_consume):
        ch.queue_declare(q, durable=True)
        publish_confirmed(node, "", q, [persistent(b"m%d" % i) for i in range(10)])

    # q_get: m0..m4 fetched without ack; m0 and m1 acked; m2 nacked with requeue (back in the
    # queue, marked delivered); m3 and m4 unacked at the restart; m5..m9 never delivered.
    tags = [ch.basic_get(q_get, auto_ack=False)[0].delivery_tag for _ in range(5)]
    ch.basic_ack(tags[0])
    ch.basic_ack(tags[1])
    ch.basic_nack(tags[2], requeue=True)

    # q_consume: a consumer with prefetch 3 gets m0..m2 and is cancelled (so that acking m0
    # lets no m3 through); m0 acked, m1 and m2 unacked; m3..m9 never delivered.
    cch = c.channel()
    cch.basic_qos(prefetch_count=3)
    got = []
    ctag = cch.basic_consume(q_consume, lambda _c, m, _p, b: got.append((m.delivery_tag, b)))
    wait_for(lambda: c.process_data_events(0.02) or len(got) == 3, msg="3 deliveries")
    cch.basic_cancel(ctag)
    assert [b for _t, b in got] == [b"m0", b"m1", b"m2"]
    cch.basic_ack(got[0][0])

    if kill:
        # kill -9 may lose acks and delivered marks that were not yet synced (at-least-once,
        # as in RabbitMQ); a confirmed publish on the same connection after them is a barrier:
        # its confirm means a sync covering everything this connection did before completed.
        bch = c.channel()
        bch.confirm_delivery()
        bch.basic_publish("", q_get, b"barrier", pika.BasicProperties(delivery_mode=PERSISTENT))
        bch.basic_publish("", q_consume, b"barrier",
                          pika.BasicProperties(delivery_mode=PERSISTENT))
    log_mark = len(open(node.log_path, "rb").read())
    node.restart(kill=kill)
    close_quietly(c)
    with open(node.log_path, "rb") as f:
        f.seek(log_mark)
        warned = b"the last run did not stop cleanly" in f.read()
    assert warned == kill, "the operator is told about a crash, and only then"

    def check(queue, delivered, never):
        never = never + ([b"barrier"] if kill else [])
        after = [(b, m.redelivered) for m, _p, b in get_all(node, queue)]
        assert [b for b, _r in after] == delivered + never, (queue, after)
        flags = dict(after)
        assert all(flags[b] for b in delivered), ("delivered before: redelivered=True", after)
        if kill:
            assert all(flags[b] for b in never), ("after a crash: redelivered=True", after)
        else:
            assert not any(flags[b] for b in never), ("never delivered: redelivered=False",
                                                      after)

    check(q_get, [b"m2", b"m3", b"m4"], [b"m%d" % i for i in range(5, 10)])
    check(q_consume, [b"m1", b"m2"], [b"m%d" % i for i in range(3, 10)])


@pulsed_only
def test_acks_sent_just_before_a_clean_stop_are_kept(node):
    """Acks already on the wire when SIGTERM comes are handled before the connection is closed
    with CONNECTION_FORCED: after the restart those messages are gone and only the unacked
    ones come back."""
    q = "acks-" + unique("s")
    n = 400
    c = node.connect()
    ch = c.channel()
    ch.queue_declare(q, durable=True)
    publish_confirmed(node, "", q, [persistent(b"m%d" % i) for i in range(n)])
    ch.basic_qos(prefetch_count=n)
    got = []
    ch.basic_consume(q, lambda _c, m, _p, b: got.append((m.delivery_tag, b)))
    wait_for(lambda: c.process_data_events(0.02) or len(got) == n, msg="all delivered")
    # One basic.ack each, as a client settling its batch does; the last ten stay unacked. The
    # broker is stopped while they are written and gets SIGTERM before it runs again, so the
    # signal and the acks wait for it together.
    os.kill(node.pid, signal.SIGSTOP)
    try:
        for tag, _b in got[:-10]:
            ch.basic_ack(tag)
        os.kill(node.pid, signal.SIGTERM)
    finally:
        os.kill(node.pid, signal.SIGCONT)
    node.restart(kill=False)
    close_quietly(c)
    left = [b for _m, _p, b in get_all(node, q)]
    assert left == [b for _t, b in got[-10:]]


# -- priority queue -----------------------------------------------------------------------------

@pulsed_only
@RESTARTS
def test_priority_queue_order_after_restart(node, kill):
    q = unique("prio")
    c = node.connect()
    c.channel().queue_declare(q, durable=True, arguments={"x-max-priority": 10})
    c.close()
    plan = [(1, b"p1a"), (5, b"p5a"), (None, b"pN"), (9, b"p9"), (5, b"p5b"), (1, b"p1b"),
            (20, b"p20"), (0, b"p0"), (10, b"p10")]
    publish_confirmed(node, "", q, [(b, pika.BasicProperties(delivery_mode=PERSISTENT, priority=p))
                                    for p, b in plan])
    node.restart(kill=kill)
    got = [b for _m, _p, b in get_all(node, q)]
    # above max counts as max (20 and 10 tie, FIFO); no priority counts as 0
    assert got == [b"p20", b"p10", b"p9", b"p5a", b"p5b", b"p1a", b"p1b", b"pN", b"p0"]


# -- TTL across a restart -----------------------------------------------------------------------

SHORT_TTL = 1500  # ms: runs out while the broker is down
DOWN = 3.0  # s from the publish to the restart
PARTIAL_TTL = 8000  # ms: partly spent while down; must outlast the restart


@pulsed_only
def test_ttl_runs_while_the_broker_is_down(node):
    tag = unique("ttl")
    q_exp, q_part, q_dl, dlx, dlq = ("te-" + tag, "tp-" + tag, "td-" + tag, "tx-" + tag,
                                     "tdl-" + tag)
    c = node.connect()
    ch = c.channel()
    ch.exchange_declare(dlx, "fanout", durable=True)
    ch.queue_declare(dlq, durable=True)
    ch.queue_bind(dlq, dlx)
    ch.queue_declare(q_exp, durable=True)
    ch.queue_declare(q_part, durable=True)
    ch.queue_declare(q_dl, durable=True, arguments={"x-message-ttl": SHORT_TTL,
                                                    "x-dead-letter-exchange": dlx})
    c.close()

    def msg(body, expiration=None):
        return body, pika.BasicProperties(delivery_mode=PERSISTENT, expiration=expiration)

    t0 = time.time()
    publish_confirmed(node, "", q_exp, [msg(b"short", str(SHORT_TTL)), msg(b"long", "600000")])
    publish_confirmed(node, "", q_part, [msg(b"partial", str(PARTIAL_TTL))])
    publish_confirmed(node, "", q_dl, [msg(b"d%d" % i) for i in range(3)])
    node.stop_process(kill=True)
    time.sleep(max(0.0, t0 + DOWN - time.time()))  # every short TTL ran out while down
    node.start()
    restarted = time.time() - t0
    assert restarted < PARTIAL_TTL / 1000 - 1.0, "restart too slow for this test (%.1f s)" % (
        restarted)

    # expired while down: gone, never delivered; the long one is still there
    assert [b for _m, _p, b in get_all(node, q_exp)] == [b"long"]
    # x-message-ttl ran out while down: dead-lettered (reason expired), not delivered
    assert get_all(node, q_dl) == []
    wait_for(lambda: message_count(node, dlq) == 3, timeout=5, msg="3 dead-lettered messages")
    dead = get_all(node, dlq)
    assert [b for _m, _p, b in dead] == [b"d0", b"d1", b"d2"]
    for m, p, _b in dead:
        (death,) = p.headers["x-death"]
        assert death["reason"] == "expired" and death["queue"] == q_dl and death["count"] == 1
        assert p.delivery_mode == PERSISTENT
    # PARTIAL_TTL, DOWN+ of it spent while down: still there now ...
    assert message_count(node, q_part) == 1
    # ... and gone PARTIAL_TTL after the publish (not after the restart: DOWN later)
    time.sleep(max(0.0, t0 + PARTIAL_TTL / 1000 + 1.5 - time.time()))
    assert get_all(node, q_part) == []


# -- disk space is given back -------------------------------------------------------------------

BIG = 64 * 1024
BIG_COUNT = 800  # 50 MiB of bodies


def publish_big(b, queue):
    rnd = random.Random(11)
    bodies = [rnd.randbytes(BIG) for _ in range(8)]
    pub = AsyncPublisher(b, lambda n: (bodies[n % 8], pika.BasicProperties(
        delivery_mode=PERSISTENT, message_id=str(n))), queue, window=64, total=BIG_COUNT)
    pub.start()
    pub.wait(120)
    assert len(pub.confirmed) == BIG_COUNT and not pub.nacked, pub.errors


@pulsed_only
@pytest.mark.parametrize("how", ["purge", "delete", "drain"])
def test_disk_space_freed(node, how):
    q = unique("disk")
    c = node.connect()
    c.channel().queue_declare(q, durable=True)
    c.close()
    before = wait_stable(lambda: disk_usage(node.data_dir))
    publish_big(node, q)
    full = disk_usage(node.data_dir)
    print("data dir: %.1f MiB before, %.1f MiB with %d x %d KiB persistent messages"
          % (before / MiB, full / MiB, BIG_COUNT, BIG // 1024))
    assert full - before >= 0.9 * BIG_COUNT * BIG, "the messages are not on disk"

    c = node.connect()
    ch = c.channel()
    if how == "purge":
        assert ch.queue_purge(q).method.message_count == BIG_COUNT
    elif how == "delete":
        assert ch.queue_delete(q).method.message_count == BIG_COUNT
    else:
        ch.basic_qos(prefetch_count=100)
        n = 0
        for m, _p, _b in ch.consume(q, inactivity_timeout=5):
            assert m is not None, "drain stalled after %d messages" % n
            n += 1
            ch.basic_ack(m.delivery_tag)
            if n == BIG_COUNT:
                break
        ch.cancel()
        assert message_count(node, q) == 0
    c.close()

    slack = 4 * MiB
    wait_for(lambda: disk_usage(node.data_dir) <= before + slack, timeout=10,
             msg="data dir back near %.1f MiB after %s (now %.1f MiB)"
             % (before / MiB, how, disk_usage(node.data_dir) / MiB))
    node.restart()
    after = disk_usage(node.data_dir)
    print("after %s and a restart: %.1f MiB" % (how, after / MiB))
    assert after <= before + slack
    if how == "delete":
        assert not queue_exists(node, q)
    else:
        assert message_count(node, q) == 0


# -- a large backlog comes back quickly ---------------------------------------------------------

BACKLOG = 100_000


@pulsed_only
def test_backlog_recovery_time(node):
    q = unique("backlog")
    c = node.connect()
    c.channel().queue_declare(q, durable=True)
    c.close()
    pad = b"." * 80
    t = time.time()
    pub = AsyncPublisher(node, lambda n: (b"%08d" % n + pad, pika.BasicProperties(
        delivery_mode=PERSISTENT)), q, window=2000, total=BACKLOG)
    pub.start()
    pub.wait(180)
    assert len(pub.confirmed) == BACKLOG and not pub.nacked, pub.errors
    print("published %d persistent messages with confirms in %.1f s"
          % (BACKLOG, time.time() - t))

    log_mark = len(open(node.log_path, "rb").read())
    t = time.time()
    node.restart(kill=True)
    wait_for(lambda: message_count(node, q) == BACKLOG, timeout=30, interval=0.1,
             msg="%d messages back" % BACKLOG)
    elapsed = time.time() - t
    print("%d persistent messages available %.2f s after kill -9 + start" % (BACKLOG, elapsed))
    assert elapsed < 20.0

    c = node.connect()
    ch = c.channel()
    for n in range(3):
        m, _p, body = ch.basic_get(q, auto_ack=True)
        assert body == b"%08d" % n + pad  # redelivered: either after kill -9 (see above)
    c.close()

    with open(node.log_path, "rb") as f:
        f.seek(log_mark)
        log = f.read().decode(errors="replace")
    count = re.compile(r"\b100[,_ ]?000\b")
    lines = [ln for ln in log.splitlines() if "recover" in ln.lower() and count.search(ln)]
    assert any(q in ln for ln in lines), (
        "no log line after the restart names queue %s, 'recover' and the count %d:\n%s"
        % (q, BACKLOG, log[-3000:]))
    print("log: %s" % [ln for ln in lines if q in ln][0])
