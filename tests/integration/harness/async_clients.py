"""Fast pika clients on SelectConnection (one thread and ioloop each): a publisher that keeps a
window of publisher confirms in flight, and a consumer that acks every delivery. Both can
reconnect when the broker goes away (crash tests) and keep a precise record of what happened.

BlockingConnection waits for each confirm (one fdatasync per message on a durable queue); these
keep hundreds in flight, which is what real publishers do and what makes group commit visible.
"""
import threading
import time

import pika
from pika.spec import Basic


class AsyncPublisher(threading.Thread):
    """Publishes message n = 0, 1, 2, ... built by `make(n) -> (body, BasicProperties)` to
    (`exchange`, `routing_key`) with at most `window` unconfirmed messages in flight.

    Stops after `total` messages are confirmed (None: until stop()). With `reconnect=True` a
    lost connection is retried every 0.1 s until stop(); the messages that were in flight when
    it was lost are neither confirmed nor nacked: their fate is unknown (`unknown`).

    Records: `published` (count; n runs 0..published-1), `confirmed`, `nacked`, `unknown`
    (sets of n), `connections` (successful connects), `errors` (close reasons).
    """

    def __init__(self, broker, make, routing_key, exchange="", window=500, total=None,
                 reconnect=False, name="publisher", **params):
        super().__init__(name=name, daemon=True)
        params.setdefault("heartbeat", 0)
        self.params = broker.pika_params(**params)
        self.make = make
        self.exchange = exchange
        self.routing_key = routing_key
        self.window = window
        self.total = total
        self.reconnect = reconnect
        self.published = 0
        self.confirmed = set()
        self.nacked = set()
        self.unknown = set()
        self.connections = 0
        self.errors = []
        self.finished = threading.Event()
        self._stopping = False
        self._conn = None
        self._ch = None
        self._inflight = {}  # delivery tag -> n
        self._next_tag = 1
        self._lock = threading.Lock()

    # -- control (any thread) ----------------------------------------------
    def stop(self):
        """Publishes nothing more; waits for the confirms in flight, then closes."""
        self._stopping = True
        conn = self._conn
        if conn is not None:
            try:
                conn.ioloop.add_callback_threadsafe(self._pump)
            except Exception:  # noqa: the loop is gone already
                pass

    def wait(self, timeout):
        if not self.finished.wait(timeout):
            raise AssertionError("%s did not finish within %s s (published %d, confirmed %d, "
                                 "errors %r)" % (self.name, timeout, self.published,
                                                 len(self.confirmed), self.errors[-3:]))
        self.join(5)
        return self

    def in_flight(self):
        with self._lock:
            return len(self._inflight)

    # -- thread ---------------------------------------------------------------
    def run(self):
        try:
            while True:
                try:
                    self._conn = pika.SelectConnection(
                        self.params, on_open_callback=self._on_open,
                        on_open_error_callback=self._on_open_error,
                        on_close_callback=self._on_closed)
                    self._conn.ioloop.start()
                except Exception as e:  # noqa: connect refused while the broker is down
                    self.errors.append(repr(e))
                self._lose_inflight()
                if self._done() or self._stopping or not self.reconnect:
                    break
                time.sleep(0.1)
        finally:
            self.finished.set()

    def _done(self):
        return self.total is not None and len(self.confirmed) + len(self.nacked) >= self.total

    def _lose_inflight(self):
        with self._lock:
            self.unknown.update(self._inflight.values())
            self._inflight.clear()

    def _on_open_error(self, conn, err):
        self.errors.append(repr(err))
        conn.ioloop.stop()

    def _on_closed(self, conn, reason):
        if not (self._stopping or self._done()):
            self.errors.append(repr(reason))
        conn.ioloop.stop()

    def _on_open(self, conn):
        self.connections += 1
        conn.channel(on_open_callback=self._on_channel)

    def _on_channel(self, ch):
        self._ch = ch
        ch.add_on_close_callback(self._on_channel_closed)
        self._next_tag = 1
        ch.confirm_delivery(ack_nack_callback=self._on_confirm,
                            callback=lambda _frame: self._pump())

    def _on_channel_closed(self, ch, reason):
        if not (self._stopping or self._done()):
            self.errors.append("channel: %r" % (reason,))
        if self._conn.is_open:
            self._conn.close()

    def _on_confirm(self, frame):
        m = frame.method
        with self._lock:
            tags = ([t for t in self._inflight if t <= m.delivery_tag] if m.multiple
                    else [m.delivery_tag])
            into = self.confirmed if isinstance(m, Basic.Ack) else self.nacked
            for t in tags:
                into.add(self._inflight.pop(t))
        self._pump()

    def _pump(self):
        ch = self._ch
        if ch is None or not ch.is_open:
            return
        while (not self._stopping and len(self._inflight) < self.window
               and (self.total is None or self.published < self.total)):
            n = self.published
            body, props = self.make(n)
            with self._lock:
                self._inflight[self._next_tag] = n
            self._next_tag += 1
            self.published += 1
            ch.basic_publish(self.exchange, self.routing_key, body, props)
        if not self._inflight and (self._stopping or self._done()):
            if self._conn.is_open:
                self._conn.close()


class AsyncConsumer(threading.Thread):
    """Consumes `queue` with prefetch `prefetch` and acks every delivery right away (or
    consumes with no-ack: `auto_ack=True`, the broker then sends as fast as we read).

    `check(props, body)` is called for each delivery and returns a key for it (e.g. the message
    id; it may raise or return anything: what it returns is recorded). Each delivery is recorded
    in `deliveries` as [key, redelivered, received_at, acked_at or None, connection number
    (1, 2, ...)]; `acked_at` is set once basic.ack has been handed to the connection (which
    may still be processing what it read before the broker died). With `reconnect=True` the
    consumer keeps reconnecting (every 0.1 s) until stop().
    """

    def __init__(self, broker, queue, check, prefetch=200, reconnect=False, name="consumer",
                 auto_ack=False, **params):
        super().__init__(name=name, daemon=True)
        params.setdefault("heartbeat", 0)
        self.params = broker.pika_params(**params)
        self.queue = queue
        self.check = check
        self.prefetch = prefetch
        self.reconnect = reconnect
        self.auto_ack = auto_ack
        self.deliveries = []
        self.connections = 0
        self.errors = []
        self.last_delivery = 0.0
        self.consuming = threading.Event()
        self.finished = threading.Event()
        self._stopping = False
        self._conn = None

    def stop(self):
        self._stopping = True
        conn = self._conn
        if conn is not None:
            try:
                conn.ioloop.add_callback_threadsafe(
                    lambda: conn.close() if conn.is_open else None)
            except Exception:  # noqa: the loop is gone already
                pass

    def wait(self, timeout):
        if not self.finished.wait(timeout):
            raise AssertionError("%s did not finish within %s s" % (self.name, timeout))
        self.join(5)
        return self

    def run(self):
        try:
            while not self._stopping:
                self.consuming.clear()
                try:
                    self._conn = pika.SelectConnection(
                        self.params, on_open_callback=self._on_open,
                        on_open_error_callback=self._on_open_error,
                        on_close_callback=self._on_closed)
                    self._conn.ioloop.start()
                except Exception as e:  # noqa
                    self.errors.append(repr(e))
                if not self.reconnect:
                    break
                time.sleep(0.1)
        finally:
            self.finished.set()

    def _on_open_error(self, conn, err):
        self.errors.append(repr(err))
        conn.ioloop.stop()

    def _on_closed(self, conn, reason):
        if not self._stopping:
            self.errors.append(repr(reason))
        conn.ioloop.stop()

    def _on_open(self, conn):
        self.connections += 1
        conn.channel(on_open_callback=self._on_channel)

    def _on_channel(self, ch):
        ch.add_on_close_callback(
            lambda c, r: self._conn.close() if self._conn.is_open else None)
        ch.basic_qos(prefetch_count=self.prefetch,
                     callback=lambda _f: ch.basic_consume(
                         self.queue, self._on_message, auto_ack=self.auto_ack,
                         callback=lambda _f: self.consuming.set()))

    def _on_message(self, ch, method, props, body):
        rec = [self.check(props, body), method.redelivered, time.time(), None, self.connections]
        self.deliveries.append(rec)
        self.last_delivery = rec[2]
        if self.auto_ack:
            rec[3] = rec[2]
            return
        try:
            ch.basic_ack(method.delivery_tag)
            rec[3] = time.time()
        except Exception as e:  # noqa: the connection died under us
            self.errors.append("ack: %r" % (e,))
