"""AMQP publishers and consumers of the soak (pika, Debian's python3-pika): they ride out every
kill, restart and forced close by reconnecting, and tell the ledger what happened to each id."""
import json
import random
import threading
import time

import pika
import pika.exceptions as pe

# Errors after which the connection is gone: reconnect.
CONNECTION_ERRORS = (pe.AMQPConnectionError, pe.AMQPChannelError, pe.StreamLostError,
                     pe.ConnectionClosed, pe.ChannelClosed, ConnectionError, OSError)


def body_of(stream, mid, rng, big_every=50):
    """JSON with the id; one message in `big_every` carries 16-200 KiB (several frames)."""
    pad = rng.randrange(16 << 10, 200 << 10) if rng.randrange(big_every) == 0 \
        else rng.randrange(50, 1000)
    return json.dumps({"stream": stream, "id": mid, "pad": "x" * pad}).encode()


class Ids:
    """A publisher's ids: new ones in order (up to `count`), those to send again first, and
    the pace of `rate` per second (0: as fast as confirms come)."""

    def __init__(self, rate, count=None):
        self.rate = rate
        self.count = count
        self.next_id = 1
        self.pending = []  # ids to send again
        self.start = time.monotonic()
        self.sent = 0

    def take(self):
        """(id, sent before?), or None once `count` ids went out."""
        if self.pending:
            return self.pending.pop(), True
        if self.count is not None and self.next_id > self.count:
            return None
        self.next_id += 1
        return self.next_id - 1, False

    def again(self, mid):
        self.pending.append(mid)

    def pace(self):
        self.sent += 1
        if self.rate:
            ahead = self.sent / self.rate - (time.monotonic() - self.start)
            if ahead > 0:
                time.sleep(ahead)


class Worker(threading.Thread):
    def __init__(self, name, broker, log):
        super().__init__(name=name, daemon=True)
        self.broker = broker
        self.log = log
        self.stop_event = threading.Event()
        self.reconnects = 0
        self.error = None

    def params(self):
        return pika.ConnectionParameters(
            host="127.0.0.1", port=self.broker.port, heartbeat=10, socket_timeout=5,
            blocked_connection_timeout=None, connection_attempts=1,
            client_properties={"connection_name": self.name})

    def connect(self):
        """A connection, after as many attempts as it takes (the broker may be down)."""
        delay = 0.2
        while not self.stop_event.is_set():
            try:
                return pika.BlockingConnection(self.params())
            except CONNECTION_ERRORS:
                self.stop_event.wait(delay)
                delay = min(delay * 2, 2.0)
        return None

    def stop(self):
        self.stop_event.set()

    def loop(self):
        """serve() on a connection until stopped, on a new one after each lost connection."""
        while not self.stop_event.is_set():
            conn = self.connect()
            if conn is None:
                return
            try:
                self.serve(conn)
                conn.close()
                return
            except CONNECTION_ERRORS:
                self.reconnects += 1
            finally:
                if conn.is_open:
                    try:
                        conn.close()
                    except Exception:  # noqa
                        pass

    def run(self):
        try:
            self.loop()
        except Exception as e:  # noqa: a harness bug must show in the report, not vanish
            self.error = "%s: %r" % (self.name, e)
            self.log("worker %s died: %r" % (self.name, e))


class AmqpPublisher(Worker):
    """Persistent messages to `queue` through the default exchange, each confirmed before the
    next (pika's BlockingChannel), at about `rate` per second. A nacked message, or one whose
    connection died before its confirm, is sent again."""

    def __init__(self, name, broker, log, stream, queue, rate, seed, count=None):
        super().__init__(name, broker, log)
        self.stream = stream
        self.queue = queue
        self.ids = Ids(rate, count)  # count: stop after this many ids (None: until stopped)
        self.rng = random.Random(seed)

    def serve(self, conn):
        ch = conn.channel()
        ch.confirm_delivery()
        ch.queue_declare(self.queue, durable=True)
        props = pika.BasicProperties(delivery_mode=2, content_type="application/json")
        while not self.stop_event.is_set():
            taken = self.ids.take()
            if taken is None:
                return
            mid, again = taken
            self.stream.sent(mid, again)
            try:
                ch.basic_publish("", self.queue, body_of(self.stream.name, mid, self.rng), props)
                self.stream.confirm(mid)
            except pe.NackError:
                self.stream.nack(mid)
                self.ids.again(mid)
                self.stop_event.wait(0.5)  # a nack says the broker is in trouble: back off
            except CONNECTION_ERRORS:
                self.stream.lost_outcome(mid)
                self.ids.again(mid)
                raise
            self.ids.pace()


class AmqpConsumer(Worker):
    """Consumes `queue` with manual acks (prefetch 100), records each delivery, then acks it;
    one delivery in `reject_every` is rejected with requeue instead (it comes back flagged)."""

    def __init__(self, name, broker, log, stream, queue, seed, reject_every=200):
        super().__init__(name, broker, log)
        self.stream = stream
        self.queue = queue
        self.rng = random.Random(seed)
        self.reject_every = reject_every

    def on_message(self, ch, method, _props, body):
        if self.reject_every and self.rng.randrange(self.reject_every) == 0:
            self.stream.reject()
            ch.basic_reject(method.delivery_tag, requeue=True)
            return
        self.stream.receive(json.loads(body)["id"], method.redelivered)
        ch.basic_ack(method.delivery_tag)

    def serve(self, conn):
        ch = conn.channel()
        ch.queue_declare(self.queue, durable=True)
        ch.basic_qos(prefetch_count=100)
        ch.basic_consume(self.queue, self.on_message)
        while not self.stop_event.is_set():
            conn.process_data_events(time_limit=0.2)
