"""Memory and disk watermarks with a pika BlockingConnection publisher: connection.blocked when
the limit is crossed (only publishing connections), connection.unblocked when memory falls back
below it, publishing then resumes. The amqplib test (test_node_amqplib.py) covers the blocked
notification for node clients."""
import threading
import time

import pytest

from harness.broker import PulsedBroker
from harness.procfs import MiB
from harness.util import wait_for

ALARM = {"vm_memory_high_watermark.absolute": "1MB"}  # shared with test_node_amqplib.py
DISK_ALARM = {"disk_free_limit.absolute": str(10 ** 15)}  # 1 PB: more than any disk here
HEADROOM = 32 * MiB  # the memory limit is set this far above the idle broker's usage
# 256 KiB bodies: glibc serves them with mmap, so their memory goes back to the system once
# freed. (pulsed without paging keeps the RSS of a drained backlog of 64 KiB bodies: freed heap
# chunks are not returned, the alarm would never clear.)
CHUNK = 256 * 1024


class Watcher:
    """Records connection.blocked / connection.unblocked on a BlockingConnection: `events` as
    its callbacks dispatch them (from process_data_events), `wire` as soon as the frame is
    read, even while the BlockingConnection is inside a basic_publish held up by TCP
    back-pressure (the broker stops reading a blocked connection)."""

    def __init__(self, conn):
        self.events = []
        self.wire = []
        conn.add_on_connection_blocked_callback(
            lambda _c, f: self.events.append(("blocked", f.method.reason, time.time())))
        conn.add_on_connection_unblocked_callback(
            lambda _c, _f: self.events.append(("unblocked", None, time.time())))
        conn._impl.add_on_connection_blocked_callback(  # noqa: the underlying connection
            lambda _c, f: self.wire.append(("blocked", f.method.reason, time.time())))
        conn._impl.add_on_connection_unblocked_callback(
            lambda _c, _f: self.wire.append(("unblocked", None, time.time())))

    def kinds(self):
        return [e[0] for e in self.events]

    @property
    def blocked(self):
        return bool(self.events) and self.events[-1][0] == "blocked"

    def on_wire(self, kind):
        return any(e[0] == kind for e in self.wire)


def drop(conn):
    """Tears down a connection the broker may no longer read from (a blocked one would never
    get its connection.close answered)."""
    try:
        conn._impl._transport._sock.shutdown(2)  # noqa: pika has no public abort
    except Exception:  # noqa
        pass
    try:
        conn.process_data_events(0.2)
    except Exception:  # noqa: the expected ConnectionClosed/StreamLostError
        pass


def test_memory_alarm_blocks_publishing_connection_only(broker_with, uname):
    b = broker_with(ALARM)
    # A connection that only consumes is never blocked, and can declare and get.
    cons = b.connect()
    cons_w = Watcher(cons)
    q = uname("wm")
    cch = cons.channel()
    cch.queue_declare(q, auto_delete=False)

    pub = b.connect()
    w = Watcher(pub)
    pch = pub.channel()
    pch.queue_declare(q, passive=True)  # declaring is not publishing: not blocked for it
    pch.basic_publish("", q, b"x")
    wait_for(lambda: pub.process_data_events(0.05) or w.blocked, timeout=10,
             msg="connection.blocked after a publish")
    assert w.events[0][1] == "low on memory", w.events
    cons.process_data_events(0.5)
    assert cons_w.events == []
    # The consuming connection still works, and the publish that met the alarm is not in the
    # queue: as RabbitMQ's reader does, the broker stopped right after its method frame, and
    # its content waits unread until the alarm clears.
    method, _, _ = cch.basic_get(q, auto_ack=True)
    assert method is None
    assert cch.queue_declare(q, passive=True).method.message_count == 0
    cch.queue_delete(q)
    cons.close()
    drop(pub)


def test_disk_free_limit_blocks_publishers_at_once(broker_with, uname):
    b = broker_with(DISK_ALARM)
    pub = b.connect()
    w = Watcher(pub)
    ch = pub.channel()
    q = uname("disk")
    ch.queue_declare(q, exclusive=True)
    t = time.time()
    ch.basic_publish("", q, b"x")
    wait_for(lambda: pub.process_data_events(0.05) or w.blocked, timeout=10,
             msg="connection.blocked for the disk alarm")
    print("blocked %.2f s after the first publish, reason %r" % (time.time() - t, w.events[0][1]))
    assert w.events[0][1] == "low on disk", w.events
    drop(pub)


# -- crossing the memory watermark and falling back below it -----------------------------------

def rabbit_memory_used(b):
    """RabbitMQ's own view of its memory use (what its watermark is compared with)."""
    import json
    r = b.ctl("status", "--formatter", "json")
    assert r.returncode == 0, r.stderr
    mem = json.loads(r.stdout)["memory"]
    return int(mem["total"][mem.get("strategy", "rss")]) if isinstance(mem.get("total"), dict) \
        else int(mem["total"])


@pytest.fixture
def limited(broker, broker_with):
    """(broker, limit): a broker whose memory watermark is HEADROOM above its idle usage.
    pulsed: a fresh node, restarted with vm_memory_high_watermark.absolute; RabbitMQ: a node
    of its own (paging only at the limit itself, so that memory really grows) whose watermark
    is set at run time."""
    if broker.target == "pulsed":
        b = PulsedBroker()
        b.start()
        c = b.connect()
        c.channel().queue_declare("", exclusive=True)
        c.close()
        time.sleep(0.3)
        limit = b.rss() + HEADROOM
        b.config["vm_memory_high_watermark.absolute"] = str(limit)
        # As for RabbitMQ below: page only at the limit itself, so that memory really grows.
        b.config["vm_memory_high_watermark_paging_ratio"] = "0.99"
        b.restart()
        yield b, limit
        b.stop(check=False)
    else:
        b = broker_with({"vm_memory_high_watermark_paging_ratio": "0.99"})
        limit = rabbit_memory_used(b) + HEADROOM
        r = b.ctl("set_vm_memory_high_watermark", "absolute", str(limit))
        assert r.returncode == 0, r.stderr
        yield b, limit
        b.ctl("set_vm_memory_high_watermark", "0.4")


def test_blocked_when_memory_crosses_then_unblocked_after_drain(limited, uname):
    b, limit = limited
    q = uname("cross")
    body = bytes(range(256)) * (CHUNK // 256)
    state = {"published": 0, "after_unblock": 0, "error": None, "phase": "filling"}
    stop = threading.Event()

    pub = b.connect()
    w = Watcher(pub)
    pch = pub.channel()
    pch.queue_declare(q, auto_delete=False)

    def publisher():
        # Publishes 256 KiB messages and services the connection after each one. Once the
        # broker stops reading, basic_publish blocks in TCP back-pressure (as for any pika
        # BlockingConnection user) until the broker reads again after connection.unblocked;
        # if the blocked callback was dispatched first it waits without publishing. After
        # connection.unblocked it publishes 20 more messages.
        try:
            while not stop.is_set():
                if "unblocked" in w.kinds():
                    state["phase"] = "resumed"
                    if state["after_unblock"] == 20:
                        break
                    state["after_unblock"] += 1
                elif w.blocked:
                    state["phase"] = "blocked"
                    pub.process_data_events(0.05)
                    continue
                elif state["published"] * CHUNK > 10 * HEADROOM:
                    # Stop publishing but keep reading: what was already sent may still be
                    # in the broker's socket buffer, and a connection.blocked still on its way.
                    if state["phase"] != "never blocked":
                        state["phase"], state["gave_up_at"] = "never blocked", time.time()
                    pub.process_data_events(0.05)
                    continue
                pch.basic_publish("", q, body)
                state["published"] += 1
                pub.process_data_events(0)
            pub.process_data_events(0.1)
        except Exception as e:  # noqa
            state["error"] = repr(e)

    t = threading.Thread(target=publisher, daemon=True)
    t.start()
    try:
        wait_for(lambda: w.on_wire("blocked") or state["error"]
                 or time.time() > state.get("gave_up_at", float("inf")) + 5,
                 timeout=60, interval=0.05, msg="connection.blocked")
        assert state["error"] is None, state
        assert w.on_wire("blocked"), (
            "published %.0f MiB without connection.blocked (limit %.0f MiB)"
            % (state["published"] * CHUNK / MiB, limit / MiB))
        assert w.wire[0][1] == "low on memory"
        blocked_at = state["published"]
        print("blocked after %d x %d KiB (%.0f MiB) with the limit at %.0f MiB"
              % (blocked_at, CHUNK // 1024, blocked_at * CHUNK / MiB, limit / MiB))

        # Another connection drains the queue while the publisher is blocked.
        cons = b.connect()
        cw = Watcher(cons)
        cch = cons.channel()
        cch.basic_qos(prefetch_count=50)
        drained = [0]
        cch.basic_consume(q, lambda c, m, _p, _b: (drained.__setitem__(0, drained[0] + 1),
                                                   c.basic_ack(m.delivery_tag)))
        # (Some of what the publisher wrote is still unread in the socket: the broker stopped
        # reading from it. The queue holds what it did read.)
        wait_for(lambda: cons.process_data_events(0.05) or drained[0] > 0
                 and cch.queue_declare(q, passive=True).method.message_count == 0,
                 timeout=60, msg="the consumer to drain the queue")
        print("drained %d messages while the publisher was blocked" % drained[0])
        # Memory must fall back below the limit: then connection.unblocked, publishing resumes.
        wait_for(lambda: cons.process_data_events(0.05) or w.on_wire("unblocked"),
                 timeout=60, msg="connection.unblocked after the drain (limit %.0f MiB)"
                 % (limit / MiB))
        wait_for(lambda: cons.process_data_events(0.05) or not t.is_alive(),
                 timeout=30, msg="the publisher to resume and publish 20 more")
        assert state["error"] is None, state
        assert state["phase"] == "resumed" and state["after_unblock"] == 20, state
        wait_for(lambda: cons.process_data_events(0.05) or drained[0] >= state["published"],
                 timeout=30, msg="the messages published after unblocking")
        # What the publisher had written before the block is read once it lifts: on a busy
        # machine that can cross the limit once more (as on RabbitMQ). Any further block must
        # lift again once drained, each notification alternating. The publisher's thread has
        # ended: its connection is read here, or a last connection.unblocked would never be.
        wait_for(lambda: cons.process_data_events(0.05) or pub.process_data_events(0)
                 or w.wire[-1][0] == "unblocked",
                 timeout=60, msg="the publisher unblocked at the end")
        kinds = [e[0] for e in w.wire]
        assert kinds[:2] == ["blocked", "unblocked"], w.wire
        assert all(a != b for a, b in zip(kinds, kinds[1:])), w.wire
        assert w.kinds() == kinds, w.events  # pika's callbacks ran too
        assert cw.events == [] and cw.wire == [], "the consuming connection was blocked"
        assert drained[0] == state["published"]
        cch.queue_delete(q)
        cons.close()
        pub.close()
    finally:
        stop.set()
        t.join(5)
        if pub.is_open and not t.is_alive():
            drop(pub)
