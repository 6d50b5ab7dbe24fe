"""Both brokers for the Pulse-layer tests in one normal run (the `pulse_target` fixture).

CI runs the suite on the default target only (pulsed), yet the Pulse tools must be judged against
RabbitMQ too: so these tests get pulsed (the session broker) and a private RabbitMQ node with the
management plugin, booted once per session and stopped with the other session brokers."""
import contextlib
import urllib.parse

import pika

from harness.broker import PulsedBroker, RabbitBroker, target_name
from harness.http_api import HttpApi, q

# alice has every permission on pulse-test (fixtures/definitions.json): a Pulse user on a
# vhost of its own, so URIs carry real credentials and a non-default vhost.
USER, PASSWORD, VHOST = "alice", "alice-secret1", "pulse-test"

_RABBIT_KEY = ("pulse-layer", "rabbitmq")


def broker_for(name, registry, session_broker):
    """The broker handle for target `name`: the session broker when it is the suite's target,
    else a private RabbitMQ node kept in `registry` (the conftest's session brokers, stopped at
    the end of the session). None when pulsed is asked for in a RabbitMQ run."""
    if name == target_name():
        return session_broker()
    if name == "rabbitmq":
        b = registry.get(_RABBIT_KEY)
        if b is None:
            # rabbitmq_stomp and rabbitmq_web_stomp too, so the STOMP and Web-STOMP tests
            # judge pulsed against the same node.
            b = RabbitBroker(plugins=["rabbitmq_stomp", "rabbitmq_web_stomp"]).start()
            registry[_RABBIT_KEY] = b
        return b
    return None


class PulseTarget:
    """A broker as the Pulse tests see it: AMQP and management ports and alice's credentials."""

    def __init__(self, name, broker):
        self.name = name
        self.broker = broker
        self.user, self.password, self.vhost = USER, PASSWORD, VHOST

    def __repr__(self):
        return "<PulseTarget %s %r>" % (self.name, self.broker)

    @property
    def port(self):
        return self.broker.port

    @property
    def stomp_port(self):
        return self.broker.stomp_port

    @property
    def web_stomp_port(self):
        return self.broker.web_stomp_port

    @property
    def http_port(self):
        return self.broker.http_port

    def uri(self, port=None, broker=None, **query):
        """alice's amqp:// URI to the broker (or to `port`, e.g. a fault proxy's)."""
        b = broker or self.broker
        uri = "amqp://%s:%s@127.0.0.1:%d/%s" % (
            USER, urllib.parse.quote(PASSWORD, safe=""), port or b.port, q(VHOST))
        if query:
            uri += "?" + urllib.parse.urlencode(query)
        return uri

    def api(self, broker=None):
        return HttpApi(broker or self.broker)

    def connect(self, broker=None):
        b = broker or self.broker
        return pika.BlockingConnection(b.pika_params(USER, PASSWORD, VHOST))

    @contextlib.contextmanager
    def channel(self, broker=None):
        c = self.connect(broker)
        try:
            yield c.channel()
        finally:
            if c.is_open:
                c.close()

    def declare_exchange(self, name, broker=None):
        """A durable topic exchange, as Pulse publishers declare theirs."""
        with self.channel(broker) as ch:
            ch.exchange_declare(name, "topic", durable=True)

    def delete(self, exchanges=(), queues=(), broker=None):
        with self.channel(broker) as ch:
            for queue in queues:
                ch.queue_delete(queue)
            for exchange in exchanges:
                ch.exchange_delete(exchange)

    def queue_depth(self, queue, broker=None):
        """Messages ready in `queue` (pika passive declare)."""
        with self.channel(broker) as ch:
            return ch.queue_declare(queue, passive=True).method.message_count

    @contextlib.contextmanager
    def restartable(self):
        """A broker this test may kill -9 and restart: a private pulsed (the session one is
        shared), or the RabbitMQ node itself (its restart keeps port and data; a second node
        would cost another boot)."""
        if self.name == "rabbitmq":
            yield self.broker
            return
        b = PulsedBroker().start()
        try:
            yield b
        finally:
            b.stop(check=False)
