"""STOMP publisher and consumer of the soak (stomp.py, Debian's python3-stomp). A SEND with a
receipt is the STOMP publisher's confirm: pulsed sends the RECEIPT once the persistent message is
on disk, as RabbitMQ does."""
import json
import logging
import queue
import random
import threading

import stomp

from amqp_workers import Ids, Worker, body_of

STOMP_ERRORS = (stomp.exception.StompException, ConnectionError, OSError)
# stomp.py logs every failed connection attempt (pulsed is down during a restart).
logging.getLogger("stomp.py").setLevel(logging.CRITICAL)


class _Listener(stomp.ConnectionListener):
    def __init__(self, on_message=None):
        self.receipts = queue.Queue()
        self.errors = queue.Queue()
        self.gone = threading.Event()
        self.handler = on_message

    def on_receipt(self, frame):
        self.receipts.put(frame.headers.get("receipt-id"))

    def on_error(self, frame):
        self.errors.put(frame.headers.get("message", ""))

    def on_disconnected(self):
        self.gone.set()

    def on_message(self, frame):
        if self.handler:
            self.handler(frame)


class StompWorker(Worker):
    def stomp_connect(self, on_message=None):
        delay = 0.2
        while not self.stop_event.is_set():
            # vhost: stomp.py's host header, which RabbitMQ and pulsed read as the vhost
            # (without it, the server's host name).
            conn = stomp.Connection12([("127.0.0.1", self.broker.stomp_port)],
                                      heartbeats=(5000, 5000), auto_decode=False, vhost="/",
                                      reconnect_attempts_max=1)
            listener = _Listener(on_message)
            conn.set_listener("soak", listener)
            try:
                conn.connect("guest", "guest", wait=True, headers={"client-id": self.name})
                return conn, listener
            except STOMP_ERRORS:
                self.stop_event.wait(delay)
                delay = min(delay * 2, 2.0)
        return None, None

    @staticmethod
    def close(conn):
        try:
            if conn.is_connected():
                conn.disconnect()
        except Exception:  # noqa: the broker may be gone already
            pass


class StompPublisher(StompWorker):
    """Persistent SENDs to /queue/<queue>, each with a receipt awaited before the next."""

    def __init__(self, name, broker, log, stream, queue_name, rate, seed):
        super().__init__(name, broker, log)
        self.stream = stream
        self.destination = "/queue/" + queue_name
        self.ids = Ids(rate)
        self.rng = random.Random(seed)

    def loop(self):
        while not self.stop_event.is_set():
            conn, listener = self.stomp_connect()
            if conn is None:
                return
            try:
                self.publish(conn, listener)
            finally:
                self.close(conn)

    def lost(self, mid):
        self.stream.lost_outcome(mid)
        self.ids.again(mid)
        self.reconnects += 1

    def publish(self, conn, listener):
        while not self.stop_event.is_set():
            mid, again = self.ids.take()
            self.stream.sent(mid, again)
            receipt = "r%d-%d" % (mid, self.ids.sent)
            try:
                conn.send(self.destination, body_of(self.stream.name, mid, self.rng),
                          headers={"persistent": "true", "receipt": receipt,
                                   "content-type": "application/json"})
            except STOMP_ERRORS:
                self.lost(mid)
                return
            # A blocked connection (disk or memory alarm) holds the receipt for as long as the
            # alarm lasts; only a lost connection ends the wait.
            while True:
                try:
                    got = listener.receipts.get(timeout=0.5)
                except queue.Empty:
                    if listener.gone.is_set() or not listener.errors.empty():
                        self.lost(mid)
                        return
                    continue
                if got == receipt:
                    self.stream.confirm(mid)
                    break
            self.ids.pace()


class StompConsumer(StompWorker):
    """SUBSCRIBE ack:client-individual, prefetch-count 100; each MESSAGE recorded, then ACKed."""

    def __init__(self, name, broker, log, stream, queue_name, seed):
        super().__init__(name, broker, log)
        self.stream = stream
        self.destination = "/queue/" + queue_name
        self.conn = None

    def on_message(self, frame):
        body = json.loads(frame.body)
        self.stream.receive(body["id"], frame.headers.get("redelivered") == "true")
        try:
            self.conn.ack(frame.headers["ack"])
        except STOMP_ERRORS:
            pass  # unacked: it comes back, flagged redelivered

    def loop(self):
        while not self.stop_event.is_set():
            conn, listener = self.stomp_connect(self.on_message)
            if conn is None:
                return
            self.conn = conn
            try:
                conn.subscribe(self.destination, id="1", ack="client-individual",
                               headers={"prefetch-count": "100", "durable": "true",
                                        "auto-delete": "false"})
                while not self.stop_event.is_set() and not listener.gone.is_set():
                    self.stop_event.wait(0.2)
                if listener.gone.is_set():
                    self.reconnects += 1
            except STOMP_ERRORS:
                self.reconnects += 1
            finally:
                self.close(conn)
