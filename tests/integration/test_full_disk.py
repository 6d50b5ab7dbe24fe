"""A full disk under pulsed's data directory (a small tmpfs, so root is needed): publishes that
cannot be written are nacked, nothing confirmed is lost, and once there is room again the same
queues take persistent messages and pages as before, without a restart. The disk alarm is off
(disk_free_limit 1 byte) so that writes really fail with ENOSPC: with the alarm on (the
soak, bench/soak, runs that way) publishers are blocked first and only in-flight writes fail.
pulsed only: what RabbitMQ does when its message store hits ENOSPC is its own matter (its
disk alarm keeps it from getting there)."""
import os
import subprocess
import tempfile

import pika
import pika.exceptions as pe
import pytest

from harness.broker import PulsedBroker, target_name

pytestmark = pytest.mark.skipif(target_name() != "pulsed", reason="pulsed's storage")

FS_MB = 48


@pytest.fixture
def small_fs():
    path = tempfile.mkdtemp(prefix="pulse-it-fullfs-")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % FS_MB, "fullfs", path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(path)
        pytest.skip("cannot mount a tmpfs here (%s)" % r.stderr.strip())
    yield path
    subprocess.run(["umount", "-l", path])
    os.rmdir(path)


class Ballast:
    """Takes every free byte of the filesystem until removed."""

    def __init__(self, fs):
        self.path = os.path.join(fs, "ballast")

    def fill(self):
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for size in (1 << 20, 1 << 12, 1):
                chunk = b"\0" * size
                while True:
                    try:
                        if os.write(fd, chunk) < size:
                            break
                    except OSError:
                        break
        finally:
            os.close(fd)
        assert os.statvfs(os.path.dirname(self.path)).f_bfree == 0

    def remove(self):
        os.unlink(self.path)


@pytest.fixture
def broker(small_fs):
    b = PulsedBroker(config={"disk_free_limit.absolute": 1,
                             "paging.queue_memory_limit": 256 * 1024})
    b.data_dir = os.path.join(small_fs, "data")
    os.makedirs(b.data_dir)
    b.start(definitions=False)
    yield b
    b.stop(check=False)


def publish(ch, queue, body, persistent=True):
    """True if confirmed, False if nacked."""
    try:
        ch.basic_publish("", queue, body,
                         pika.BasicProperties(delivery_mode=2 if persistent else 1))
        return True
    except pe.NackError:
        return False


def drain(broker, queue):
    conn = broker.connect()
    ch = conn.channel()
    bodies = []
    while True:
        method, _props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            break
        bodies.append(body)
    conn.close()
    return bodies


def test_persistent_publishes_work_again_once_the_disk_has_room(broker, small_fs):
    conn = broker.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    ch.queue_declare("q", durable=True)
    confirmed = []
    for i in range(50):
        assert publish(ch, "q", b"before-%d" % i)
        confirmed.append(b"before-%d" % i)
    ballast = Ballast(small_fs)
    ballast.fill()
    # Nothing can be written: persistent publishes are nacked, not confirmed.
    nacked = 0
    for i in range(20):
        body = b"full-%d-" % i + b"x" * 4096
        if publish(ch, "q", body):
            confirmed.append(body)
        else:
            nacked += 1
    assert nacked > 0, "a persistent message was confirmed while nothing could be written"
    ballast.remove()
    # Room again: the same queue, on the same connection, confirms again (the queue's log
    # carried on; it was not left unusable until a restart).
    for i in range(50):
        body = b"after-%d" % i
        assert publish(ch, "q", body), "nacked after the disk had room again (message %d)" % i
        confirmed.append(body)
    conn.close()
    broker.restart()
    got = drain(broker, "q")
    missing = [b for b in confirmed if b not in got]
    assert not missing, "confirmed messages lost: %r" % missing[:5]
    # A nacked message may still have been enqueued (AMQP: "may or may not"), never twice.
    assert len(got) == len(set(got))


def test_paged_transient_messages_survive_a_full_disk(broker, small_fs):
    """A non-durable queue past its memory budget pages to disk; a full disk must not make the
    paged messages unreadable."""
    conn = broker.connect()
    ch = conn.channel()
    ch.queue_declare("paged", durable=False)
    ballast = Ballast(small_fs)
    sent = []
    for i in range(400):
        if i == 100:
            ballast.fill()
        body = b"%05d-" % i + b"y" * 8192
        ch.basic_publish("", "paged", body, pika.BasicProperties(delivery_mode=1))
        sent.append(body)
    ballast.remove()
    for i in range(400, 500):  # writes work again
        body = b"%05d-" % i + b"y" * 8192
        ch.basic_publish("", "paged", body, pika.BasicProperties(delivery_mode=1))
        sent.append(body)
    conn.close()
    got = drain(broker, "paged")
    assert got == sent
    log = open(broker.log_path).read()
    assert "could not be read back" not in log
