"""pulse-listen and pulse-publish recover from every kind of lost connection, on pulsed and on a
real RabbitMQ node: a fault proxy dropping, resetting, half-closing and stalling connections
(a stall longer than two heartbeat intervals: missed heartbeats), the broker killed with SIGKILL
and restarted, the connection force-closed through the management API, the first URI of a list
going away; and pulse-listen itself killed mid-stream and started again on its durable queue.

In each: numbered messages are published before, during and after the fault; every confirmed one
reaches the listener at least once, the listener goes on receiving after the fault and says on
stderr that it lost the connection and recovered; the publisher loses no confirmed message and
honours its deadline."""
import json
import time
import uuid

import pytest

from harness.fault_proxy import FaultProxy
from harness.http_api import q
from harness.pulse_tools import Listener, Publisher, numbered, publish
from harness.util import wait_for

LOST = "pulse-listen: connection lost: "
RECOVERED = "pulse-listen: recovered on "
BATCH = 10


class Scenario:
    """A durable topic exchange and a durable listener queue (so that nothing published while
    the listener is away is lost), on `broker` (default: the target's)."""

    def __init__(self, target, broker=None):
        self.target = target
        self.broker = broker or target.broker
        tag = uuid.uuid4().hex[:10]
        self.exchange = "exchange/alice/%s/faults" % tag
        self.applabel = "faults-%s" % tag
        self.queue = "queue/alice/" + self.applabel
        self.target.declare_exchange(self.exchange, broker=self.broker)
        self.listener = None

    def listen(self, uri):
        self.listener = Listener(uri, ["--exchange", self.exchange, "--topic", "numbered.#",
                                       "--applabel", self.applabel, "--durable"])
        line = self.listener.wait_listening()
        assert line.startswith("pulse-listen: listening on %s (127.0.0.1:" % self.queue), line
        self.listening = line
        return self.listener

    def publish(self, numbers):
        """pulse-publish straight to the broker; every message must be confirmed."""
        rc, counts, proc = publish(self.target.uri(broker=self.broker), self.exchange,
                                   "numbered.fault", numbered(numbers))
        assert (rc, counts) == (0, (len(numbers), len(numbers), 0)), proc.describe()

    def close(self):
        if self.listener is not None:
            self.listener.kill()
        try:
            self.target.delete(exchanges=[self.exchange], queues=[self.queue], broker=self.broker)
        except Exception:
            pass  # the broker may be the one the test failed to bring back


@pytest.fixture
def scenario(pulse_target):
    made = []

    def make(broker=None):
        s = Scenario(pulse_target, broker)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


@pytest.fixture
def proxy(pulse_target):
    with FaultProxy(pulse_target.port) as p:
        yield p


def batches():
    return range(0, BATCH), range(BATCH, 2 * BATCH), range(2 * BATCH, 3 * BATCH)


def assert_recovered(listener, port):
    """The listener said it lost the connection and then that it recovered on `port`: returns
    the first `connection lost` line."""
    lost = listener.wait_stderr(LOST, timeout=60)[0]
    assert lost.endswith("; reconnecting"), lost
    rec = listener.wait_stderr(RECOVERED, timeout=90)[0]
    assert rec == RECOVERED + "127.0.0.1:%d" % port, rec
    return lost


def finish(listener, everything):
    listener.wait_numbers(everything, timeout=60)
    assert listener.stop() == 0, listener.describe()


FAULTS = {
    "drop": lambda p: p.drop(),
    "reset": lambda p: p.reset(),
    "half_close": lambda p: p.half_close(),
}


def through_fault(s, proxy, inject, while_faulty=None):
    """The listener through `proxy`, numbered messages before, during and after inject(); the
    proxy resumes (after while_faulty(listener), if given). Returns the `connection lost`
    line."""
    before, during, after = batches()
    listener = s.listen(s.target.uri(port=proxy.port, heartbeat=2))
    s.publish(before)
    listener.wait_numbers(before)
    inject()
    s.publish(during)
    if while_faulty:
        while_faulty(listener)
    proxy.resume()
    lost = assert_recovered(listener, proxy.port)
    s.publish(after)
    finish(listener, range(0, 3 * BATCH))
    return lost


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_listener_recovers_from_proxy_fault(scenario, proxy, fault):
    through_fault(scenario(), proxy, lambda: FAULTS[fault](proxy))
    assert proxy.accepted >= 2


def test_listener_detects_missed_heartbeats(scenario, proxy):
    """A stall (sockets open, nothing forwarded) is only seen through missed heartbeats."""
    stalled_at = []

    def stall():
        proxy.stall()
        stalled_at.append(time.monotonic())

    def lost_while_stalled(listener):
        listener.wait_stderr(LOST, timeout=30)
        detected = time.monotonic() - stalled_at[0]
        assert detected >= 2, "lost after %.1f s, before two heartbeat intervals" % detected
    through_fault(scenario(), proxy, stall, lost_while_stalled)


def listener_connection(api, proxy):
    """The broker's name of the listener's connection (the one coming from the proxy)."""
    def find():
        ports = set(proxy.upstream_ports())
        conns = api.get("/api/connections").json or []
        return [c["name"] for c in conns if c.get("peer_port") in ports]
    return wait_for(find, timeout=30, interval=0.2, msg="the listener's connection in the API")


def test_listener_recovers_from_force_close(pulse_target, scenario, proxy):
    api = pulse_target.api()

    def force_close():
        name, = listener_connection(api, proxy)
        r = api.delete("/api/connections/" + q(name), headers={"X-Reason": "pulse fault test"})
        assert r.status == 204, r
    lost = through_fault(scenario(), proxy, force_close)
    assert "CONNECTION_FORCED" in lost and "pulse fault test" in lost, lost


def test_listener_fails_over_to_the_next_uri(pulse_target, scenario, proxy):
    """Two URIs (a cluster's nodes, here two proxies to one broker): when the first stops
    accepting and drops its connections, the listener goes on through the second."""
    s = scenario()
    before, during, after = batches()
    with FaultProxy(pulse_target.port) as second:
        uris = [pulse_target.uri(port=p.port, heartbeat=2) for p in (proxy, second)]
        listener = s.listen(",".join(uris))
        assert s.listening.endswith("(127.0.0.1:%d)" % proxy.port), s.listening
        s.publish(before)
        listener.wait_numbers(before)
        proxy.refuse()
        proxy.drop()
        s.publish(during)
        assert_recovered(listener, second.port)
        s.publish(after)
        finish(listener, range(0, 3 * BATCH))
        assert second.accepted == 1


def test_listener_and_publisher_survive_kill_9(pulse_target, scenario):
    """SIGKILL of the broker: the durable queue keeps what was confirmed; a publisher running
    while the broker is down gets its messages confirmed once it is back."""
    with pulse_target.restartable() as broker:
        s = scenario(broker)
        before, during, after = batches()
        listener = s.listen(pulse_target.uri(broker=broker, heartbeat=2))
        s.publish(before)
        listener.wait_numbers(before)
        broker.stop_process(kill=True)
        listener.wait_stderr(LOST, timeout=30)
        down = Publisher(pulse_target.uri(broker=broker), s.exchange, "numbered.fault",
                         ["--deadline", "120000"])
        down.write(numbered(during))
        broker.start()
        rc, counts = down.finish(timeout=150)
        assert (rc, counts) == (0, (BATCH, BATCH, 0)), down.describe()
        assert_recovered(listener, broker.port)
        s.publish(after)
        finish(listener, range(0, 3 * BATCH))


def test_killed_listener_loses_nothing_it_did_not_print(pulse_target, scenario):
    """pulse-listen killed with SIGKILL in the middle of a stream, then started again on the same
    durable queue: every message is printed by one of the two at least once (a message acked
    before its line left the process would be lost), and one printed twice was redelivered."""
    s = scenario()
    total = 3000
    first = s.listen(pulse_target.uri())
    pub = Publisher(pulse_target.uri(), s.exchange, "numbered.kill")
    pub.write(numbered(range(total)))
    pub.close_input()
    first.wait_until(lambda: len(first.out) >= total // 10, 60, "a tenth of the stream")
    first.kill()
    first.wait_exit(10)
    printed = []
    for i, line in enumerate(first.out):
        try:
            printed.append(json.loads(line)["body"]["payload"]["n"])
        except ValueError:
            assert i == len(first.out) - 1, "a broken line before the last: %r" % line
    second = s.listen(pulse_target.uri())
    rc, counts = pub.finish()
    assert (rc, counts) == (0, (total, total, 0)), pub.describe()
    missing = set(range(total)) - set(printed)
    print("killed listener printed %d of %d messages" % (len(set(printed)), total))
    second.wait_numbers(missing, timeout=60)
    for m in second.messages:
        if m["body"]["payload"]["n"] in printed:
            assert m["redelivered"] is True, m
    assert second.stop() == 0, second.describe()


# -- the publisher's side -----------------------------------------------------------------------

class PublisherThroughProxy:
    """pulse-publish through the proxy into a durable queue the test reads back."""

    def __init__(self, target, proxy, deadline_ms):
        self.target, self.proxy = target, proxy
        tag = uuid.uuid4().hex[:10]
        self.exchange = "exchange/alice/%s/pub" % tag
        self.queue = "queue/alice/pub-%s" % tag
        target.declare_exchange(self.exchange)
        with target.channel() as ch:
            ch.queue_declare(self.queue, durable=True)
            ch.queue_bind(self.queue, self.exchange, "#")
        self.pub = Publisher(target.uri(port=proxy.port, heartbeat=2), self.exchange,
                             "numbered.pub", ["--deadline", str(deadline_ms)])

    def wait_depth(self, n):
        wait_for(lambda: self.target.queue_depth(self.queue) >= n, timeout=60, interval=0.1,
                 msg="%d messages in %s" % (n, self.queue))

    def received(self):
        out = []
        with self.target.channel() as ch:
            while True:
                method, _props, body = ch.basic_get(self.queue, auto_ack=True)
                if method is None:
                    return out
                out.append(json.loads(body)["payload"]["n"])

    def close(self):
        self.pub.kill()
        self.target.delete(exchanges=[self.exchange], queues=[self.queue])


@pytest.fixture
def through_proxy(pulse_target, proxy):
    made = []

    def make(deadline_ms):
        p = PublisherThroughProxy(pulse_target, proxy, deadline_ms)
        made.append(p)
        return p
    yield make
    proxy.resume()
    for p in made:
        p.close()


@pytest.mark.parametrize("fault,eof", [("drop", False), ("reset", False), ("half_close", False),
                                       ("stall", False), ("drop", True)])
def test_publisher_loses_no_confirmed_message(proxy, through_proxy, fault, eof):
    """Lines before, during and after the fault with stdin open throughout (an interactive or
    slow producer: pulse-publish keeps its connection while it waits for lines); eof=True:
    stdin ends while the fault lasts, so recovery happens while it waits for the confirms."""
    t = through_proxy(deadline_ms=30000)
    batches = [range(0, BATCH), range(BATCH, 2 * BATCH)] + ([] if eof else
                                                           [range(2 * BATCH, 3 * BATCH)])
    total = len(batches) * BATCH
    t.pub.write(numbered(batches[0]))
    t.wait_depth(BATCH)  # pulse-publish sends lines as they come
    accepted = proxy.accepted
    if fault == "stall":
        proxy.stall()
    else:
        FAULTS[fault](proxy)
    t.pub.write(numbered(batches[1]))
    if eof:
        t.pub.close_input()
    # it reconnects, at once or after missed heartbeats (the stall)
    wait_for(lambda: proxy.accepted > accepted, timeout=30, interval=0.1,
             msg="pulse-publish reconnecting")
    proxy.resume()
    if not eof:
        t.wait_depth(2 * BATCH)
        t.pub.write(numbered(batches[2]))
    rc, (published, confirmed, failed) = t.pub.finish(timeout=90)
    assert published == total and confirmed + failed == total, t.pub.describe()
    got = set(t.received())
    if rc == 0:
        assert failed == 0 and got == set(range(total)), t.pub.describe()
    else:
        # a deadline passed: reported honestly, and still at least `confirmed` arrived
        assert rc == 1 and failed > 0, t.pub.describe()
        assert len(got) >= confirmed, t.pub.describe()
        pytest.fail("deadline of 30 s passed for %d messages\n%s" % (failed, t.pub.describe()))


def test_publisher_honours_its_deadline(proxy, through_proxy):
    """A stall that outlasts --deadline: pulse-publish fails those lines on time, while its
    stdin is still open, and exits 1 saying so."""
    t = through_proxy(deadline_ms=3000)
    t.pub.write(numbered([0, 1]))
    t.wait_depth(2)
    # The queue has them; their confirms may still be on their way back through the proxy
    # (seen once in CI: the stall caught them, and lines 1-2 failed too). pulse-publish reads
    # them within its 100 ms idle slice.
    time.sleep(0.5)
    proxy.stall()
    start = time.monotonic()
    t.pub.write(numbered([2, 3, 4]))
    failures = t.pub.wait_stderr("pulse-publish: line ", count=3, timeout=30)
    elapsed = time.monotonic() - start
    assert 2.5 <= elapsed < 3 + 12, "failed %.1f s after the stall, deadline 3 s" % elapsed
    assert [f.split(":")[1] for f in failures] == [" line 3", " line 4", " line 5"], failures
    rc, (published, confirmed, failed) = t.pub.finish(timeout=30)
    assert rc == 1, t.pub.describe()
    assert (published, confirmed, failed) == (5, 2, 3), t.pub.describe()
