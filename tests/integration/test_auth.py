"""Users, vhosts and permissions, checked exactly where RabbitMQ checks them.

Fixture users (fixtures/definitions.json), vhost '/':
  alice: configure ^alice\\.  write ^(alice\\.|amq\\.default$|amq\\.topic$)  read .*
         topic permissions on amq.topic: write ^alice\\.  read ^alice\\.
  bob:   configure/write/read ^bob\\. ; no access to 'pulse-test'
  nobody: no permissions anywhere

Where RabbitMQ 3.10 checks (all refusals are channel-level 403 ACCESS_REFUSED,
the connection stays usable):
  exchange.declare (not passive) / exchange.delete   configure on the exchange
  queue.declare (not passive) / queue.delete         configure on the queue
  passive declares                                   no permission check at all
  basic.publish                                      write on the exchange ('' -> 'amq.default'),
                                                     topic write on the routing key (topic exchanges)
  queue.bind / queue.unbind                          write on the queue, then read on the exchange,
                                                     then topic read on the binding key
  exchange.bind                                      write on the destination, read on the source
  basic.get / basic.consume / queue.purge            read on the queue
Permission checks come before existence checks (403 even for missing names).
"""
import pika
import pytest

from harness.amqp_assert import channel_closed, sync

ALICE = ("alice", "alice-secret1")
BOB = ("bob", "bob-secret2")
NOBODY = ("nobody", "nobody-secret3")


def refused(kind, name, user, vhost="/"):
    return "ACCESS_REFUSED - access to %s '%s' in vhost '%s' refused for user '%s'" % (
        kind, name, vhost, user)


def topic_refused(key, exchange, user, vhost="/"):
    return ("ACCESS_REFUSED - access to topic '%s' in exchange '%s' in vhost '%s' "
            "refused for user '%s'" % (key, exchange, vhost, user))


class User:
    """A connection as a given user; .ch() gives a fresh channel (the previous one
    may have been closed by an error)."""

    def __init__(self, broker, creds, vhost="/"):
        self.conn = broker.connect(user=creds[0], password=creds[1], vhost=vhost)
        self.name = creds[0]
        self._ch = None

    def ch(self):
        if self._ch is None or not self._ch.is_open:
            self._ch = self.conn.channel()
        return self._ch

    def close(self):
        try:
            if self.conn.is_open:
                self.conn.close()
        except Exception:
            pass


@pytest.fixture
def alice(broker):
    u = User(broker, ALICE)
    yield u
    u.close()


@pytest.fixture
def bob(broker):
    u = User(broker, BOB)
    yield u
    u.close()


@pytest.fixture
def guest_res(ch, uname):
    """Resources owned by guest: a queue, a direct and a topic exchange."""
    q, ex, tx = uname("auth.q"), uname("auth.ex"), uname("auth.tx")
    ch.queue_declare(q)
    ch.exchange_declare(ex, "direct")
    ch.exchange_declare(tx, "topic")
    ch.basic_publish("", q, b"guest's message")
    yield {"q": q, "ex": ex, "tx": tx}
    for fn, n in ((ch.queue_delete, q), (ch.exchange_delete, ex), (ch.exchange_delete, tx)):
        try:
            fn(n)
        except Exception:
            pass


def assert_refused(user, fn, text, code=403):
    with channel_closed(code, text=text):
        fn(user.ch())
        sync(user.ch())
    # only the channel was closed
    assert user.conn.is_open
    sync(user.ch())


# ------------------------------------------------------------------ configure

def test_configure_on_exchange_declare(alice, uname):
    ok = uname("alice.x")
    alice.ch().exchange_declare(ok, "topic", durable=False, auto_delete=True)
    bad = uname("other.x")
    assert_refused(alice, lambda c: c.exchange_declare(bad, "topic"), refused("exchange", bad, "alice"))
    alice.ch().exchange_delete(ok)


def test_configure_on_exchange_delete(alice, guest_res, uname, ch):
    assert_refused(alice, lambda c: c.exchange_delete(guest_res["ex"]),
                   refused("exchange", guest_res["ex"], "alice"))
    ch.exchange_declare(guest_res["ex"], passive=True)  # still there
    # permission is checked before existence
    missing = uname("missing.x")
    assert_refused(alice, lambda c: c.exchange_delete(missing), refused("exchange", missing, "alice"))
    own = uname("alice.x")
    alice.ch().exchange_declare(own, "direct")
    alice.ch().exchange_delete(own)


def test_configure_on_queue_declare(alice, uname):
    ok = uname("alice.q")
    alice.ch().queue_declare(ok, auto_delete=True)
    bad = uname("other.q")
    assert_refused(alice, lambda c: c.queue_declare(bad), refused("queue", bad, "alice"))
    alice.ch().queue_delete(ok)


def test_configure_on_server_named_queue(alice):
    """A server-named queue is 'amq.gen-...': alice may not configure it."""
    with channel_closed(403) as ei:
        alice.ch().queue_declare("", exclusive=True)
    t = ei.value.reply_text
    assert t.startswith("ACCESS_REFUSED - access to queue 'amq.gen-"), t
    assert t.endswith("' in vhost '/' refused for user 'alice'"), t
    assert alice.conn.is_open


def test_configure_on_queue_delete(alice, guest_res, uname, ch):
    assert_refused(alice, lambda c: c.queue_delete(guest_res["q"]), refused("queue", guest_res["q"], "alice"))
    assert ch.queue_declare(guest_res["q"], passive=True).method.message_count == 1
    missing = uname("missing.q")
    assert_refused(alice, lambda c: c.queue_delete(missing), refused("queue", missing, "alice"))


def test_passive_declares_need_no_permission(bob, guest_res):
    # bob has no permission at all on these names, yet passive declares succeed
    bob.ch().exchange_declare(guest_res["ex"], passive=True)
    ok = bob.ch().queue_declare(guest_res["q"], passive=True)
    assert ok.method.message_count == 1
    bob.ch().exchange_declare("amq.topic", passive=True)
    with channel_closed(404, text="NOT_FOUND - no queue 'nope.nothing' in vhost '/'"):
        bob.ch().queue_declare("nope.nothing", passive=True)


def test_reserved_names(ch, uname):
    with channel_closed(403, text="ACCESS_REFUSED - exchange name 'amq.foo' contains reserved prefix 'amq.*'"):
        ch.exchange_declare("amq.foo", "direct")
    ch2 = ch.connection.channel()
    with channel_closed(403, text="ACCESS_REFUSED - queue name 'amq.foo' contains reserved prefix 'amq.*'"):
        ch2.queue_declare("amq.foo")
    ch3 = ch.connection.channel()
    with channel_closed(403, text="ACCESS_REFUSED - operation not permitted on the default exchange"):
        ch3.exchange_delete("")
    ch4 = ch.connection.channel()
    with channel_closed(403, text="ACCESS_REFUSED - deletion of system exchange 'amq.direct' "
                                  "in vhost '/' not allowed"):
        ch4.exchange_delete("amq.direct")


# ---------------------------------------------------------------------- write

def test_write_on_publish(alice, guest_res, uname):
    assert_refused(alice, lambda c: c.basic_publish("amq.direct", "k", b"x"),
                   refused("exchange", "amq.direct", "alice"))
    assert_refused(alice, lambda c: c.basic_publish(guest_res["ex"], "k", b"x"),
                   refused("exchange", guest_res["ex"], "alice"))
    # permission before existence
    missing = uname("missing.x")
    assert_refused(alice, lambda c: c.basic_publish(missing, "k", b"x"), refused("exchange", missing, "alice"))


def test_default_exchange_is_checked_as_amq_default(alice, bob, guest_res, ch):
    # alice may write 'amq.default': publishing to '' works
    alice.ch().basic_publish("", guest_res["q"], b"from alice")
    sync(alice.ch())
    assert ch.queue_declare(guest_res["q"], passive=True).method.message_count == 2
    # bob may not: the refusal names 'amq.default'
    assert_refused(bob, lambda c: c.basic_publish("", "bob.anything", b"x"),
                   refused("exchange", "amq.default", "bob"))
    # the name 'amq.default' itself is checked the same way, then does not exist
    assert_refused(bob, lambda c: c.basic_publish("amq.default", "bob.anything", b"x"),
                   refused("exchange", "amq.default", "bob"))
    with channel_closed(404, text="NOT_FOUND - no exchange 'amq.default' in vhost '/'"):
        ch.basic_publish("amq.default", guest_res["q"], b"x")
        sync(ch)


def test_default_exchange_cannot_be_bound(bob, ch, guest_res, uname):
    with channel_closed(403, text="ACCESS_REFUSED - operation not permitted on the default exchange"):
        ch.queue_bind(guest_res["q"], "", "k")
    q = uname("bob.q")
    bob.ch().queue_declare(q, auto_delete=True)
    assert_refused(bob, lambda c: c.queue_bind(q, "", "k"),
                   "ACCESS_REFUSED - operation not permitted on the default exchange")
    bob.ch().queue_delete(q)


def test_bind_needs_write_on_queue_and_read_on_exchange(alice, bob, guest_res, uname):
    # alice: write on alice.* queues, read on everything
    q = uname("alice.q")
    alice.ch().queue_declare(q, auto_delete=True)
    alice.ch().queue_bind(q, "amq.direct", "k")
    alice.ch().queue_bind(q, guest_res["ex"], "k")
    alice.ch().queue_unbind(q, guest_res["ex"], "k")
    # no write on guest's queue
    assert_refused(alice, lambda c: c.queue_bind(guest_res["q"], "amq.direct", "k"),
                   refused("queue", guest_res["q"], "alice"))
    assert_refused(alice, lambda c: c.queue_unbind(guest_res["q"], "amq.direct", "k"),
                   refused("queue", guest_res["q"], "alice"))
    # bob: write on his queue, but no read on amq.direct
    bq = uname("bob.q")
    bob.ch().queue_declare(bq, auto_delete=True)
    assert_refused(bob, lambda c: c.queue_bind(bq, "amq.direct", "k"), refused("exchange", "amq.direct", "bob"))
    # queue (write) is checked before exchange (read)
    assert_refused(bob, lambda c: c.queue_bind(guest_res["q"], "amq.direct", "k"),
                   refused("queue", guest_res["q"], "bob"))
    # read permitted, exchange missing: 404
    with channel_closed(404, text="NOT_FOUND - no exchange 'bob.missing.x' in vhost '/'"):
        bob.ch().queue_bind(bq, "bob.missing.x", "k")
    bob.ch().queue_delete(bq)
    alice.ch().queue_delete(q)


def test_exchange_bind_needs_write_on_destination_read_on_source(alice, bob, guest_res, uname):
    dst = uname("alice.x")
    alice.ch().exchange_declare(dst, "direct", auto_delete=True)
    alice.ch().exchange_bind(dst, "amq.direct", "k")
    assert_refused(alice, lambda c: c.exchange_bind(guest_res["ex"], "amq.direct", "k"),
                   refused("exchange", guest_res["ex"], "alice"))
    bdst = uname("bob.x")
    bob.ch().exchange_declare(bdst, "direct", auto_delete=True)
    assert_refused(bob, lambda c: c.exchange_bind(bdst, "amq.direct", "k"),
                   refused("exchange", "amq.direct", "bob"))
    bob.ch().exchange_delete(bdst)
    alice.ch().exchange_delete(dst)


# ----------------------------------------------------------------------- read

def test_read_on_get_consume_purge(alice, bob, guest_res, uname):
    q = guest_res["q"]
    for op in (lambda c: c.basic_get(q), lambda c: c.basic_consume(q, lambda *a: None),
               lambda c: c.queue_purge(q)):
        assert_refused(bob, op, refused("queue", q, "bob"))
    missing = uname("missing.q")
    assert_refused(bob, lambda c: c.basic_get(missing), refused("queue", missing, "bob"))
    # alice reads everything
    m, p, body = alice.ch().basic_get(q, auto_ack=False)
    assert body == b"guest's message"
    alice.ch().basic_nack(m.delivery_tag, requeue=True)
    assert alice.ch().queue_purge(q).method.message_count == 1


def test_bob_full_cycle_in_own_namespace(bob, uname):
    q = uname("bob.q")
    ex = uname("bob.x")
    c = bob.ch()
    c.exchange_declare(ex, "fanout", auto_delete=True)
    c.queue_declare(q, auto_delete=False)
    c.queue_bind(q, ex)
    c.basic_publish(ex, "", b"bob's")
    sync(c)
    m, p, body = c.basic_get(q, auto_ack=True)
    assert body == b"bob's"
    c.queue_delete(q)
    c.exchange_delete(ex)


# -------------------------------------------------------------- topic permissions

def test_topic_write_permission_on_publish(alice, uname):
    q = uname("alice.q")
    c = alice.ch()
    c.queue_declare(q, auto_delete=True)
    c.queue_bind(q, "amq.topic", "alice.#")
    c.basic_publish("amq.topic", "alice.news", b"ok")
    sync(c)
    assert c.basic_get(q, auto_ack=True)[2] == b"ok"
    assert_refused(alice, lambda ch: ch.basic_publish("amq.topic", "bob.news", b"x"),
                   topic_refused("bob.news", "amq.topic", "alice"))
    assert_refused(alice, lambda ch: ch.basic_publish("amq.topic", "", b"x"),
                   topic_refused("", "amq.topic", "alice"))
    alice.ch().queue_delete(q)


def test_topic_read_permission_on_bind(alice, uname):
    q = uname("alice.q")
    alice.ch().queue_declare(q, auto_delete=True)
    alice.ch().queue_bind(q, "amq.topic", "alice.*")
    for key in ("#", "other.*", "*.alice"):
        assert_refused(alice, lambda c: c.queue_bind(q, "amq.topic", key),
                       topic_refused(key, "amq.topic", "alice"))
    # exchange-to-exchange bindings from a topic exchange are checked too
    dst = uname("alice.x")
    alice.ch().exchange_declare(dst, "topic", auto_delete=True)
    alice.ch().exchange_bind(dst, "amq.topic", "alice.#")
    assert_refused(alice, lambda c: c.exchange_bind(dst, "amq.topic", "#"),
                   topic_refused("#", "amq.topic", "alice"))
    alice.ch().exchange_delete(dst)
    alice.ch().queue_delete(q)


def test_topic_permissions_apply_only_to_their_exchange(alice, uname):
    """No topic permission defined for alice's own topic exchange: any key is fine."""
    tx = uname("alice.tx")
    q = uname("alice.q")
    c = alice.ch()
    c.exchange_declare(tx, "topic", auto_delete=True)
    c.queue_declare(q, auto_delete=True)
    c.queue_bind(q, tx, "#")
    c.basic_publish(tx, "whatever.key", b"any")
    sync(c)
    assert c.basic_get(q, auto_ack=True)[2] == b"any"
    c.queue_delete(q)
    c.exchange_delete(tx)


def test_topic_permissions_ignored_in_other_vhost(broker, uname):
    u = User(broker, ALICE, vhost="pulse-test")
    try:
        q = uname("any.q")
        c = u.ch()
        c.queue_declare(q, auto_delete=True)
        c.queue_bind(q, "amq.topic", "#")
        c.basic_publish("amq.topic", "bob.news", b"x")
        sync(c)
        assert c.basic_get(q, auto_ack=True)[2] == b"x"
        c.queue_delete(q)
    finally:
        u.close()


# ----------------------------------------------------------- connection-level

def connect_error(broker, user, password, vhost="/"):
    with pytest.raises(pika.exceptions.AMQPConnectionError) as ei:
        broker.connect(user=user, password=password, vhost=vhost)
    return ei.value


def _close_of(exc):
    """The ConnectionClosedByBroker behind a pika Probable*Error."""
    inner = exc.args[0] if exc.args else exc
    if isinstance(exc, pika.exceptions.ConnectionClosedByBroker):
        inner = exc
    return inner


def test_nobody_cannot_open_vhost(broker):
    e = connect_error(broker, *NOBODY)
    assert isinstance(e, pika.exceptions.ProbableAccessDeniedError), repr(e)
    assert "(530) \"NOT_ALLOWED - access to vhost '/' refused for user 'nobody'\"" in str(e), str(e)


def test_bob_cannot_open_pulse_test(broker):
    e = connect_error(broker, "bob", "bob-secret2", vhost="pulse-test")
    assert isinstance(e, pika.exceptions.ProbableAccessDeniedError), repr(e)
    assert "NOT_ALLOWED - access to vhost 'pulse-test' refused for user 'bob'" in str(e), str(e)


def test_unknown_vhost(broker):
    e = connect_error(broker, *ALICE, vhost="no-such-vhost")
    assert isinstance(e, pika.exceptions.ProbableAccessDeniedError), repr(e)
    assert "(530) 'NOT_ALLOWED - vhost no-such-vhost not found'" in str(e), str(e)


LOGIN_REFUSED = ("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. "
                 "For details see the broker logfile.")


@pytest.mark.parametrize("user,password", [
    ("alice", "wrong-password"), ("alice", ""), ("no-such-user", "whatever1"), ("guest", "Guest"),
], ids=["wrong-password", "empty-password", "unknown-user", "case-sensitive"])
def test_login_refused(broker, user, password):
    """pika announces authentication_failure_close, so RabbitMQ sends
    connection.close 403 (without that capability the socket is just closed)."""
    e = connect_error(broker, user, password)
    assert isinstance(e, pika.exceptions.ProbableAuthenticationError), repr(e)
    assert "(403) '%s'" % LOGIN_REFUSED in str(e), str(e)


def test_users_with_access_can_open(broker):
    for creds, vhost in ((ALICE, "/"), (ALICE, "pulse-test"), (BOB, "/"), (("guest", "guest"), "pulse-test")):
        c = broker.connect(user=creds[0], password=creds[1], vhost=vhost)
        assert c.is_open
        c.channel().exchange_declare("amq.direct", passive=True)
        c.close()


def test_guest_allowed_from_loopback(broker):
    """RabbitMQ's default loopback_users = guest: guest may log in only over
    loopback; elsewhere it gets 403 "ACCESS_REFUSED - user 'guest' can only
    connect via localhost". The suite only ever connects over 127.0.0.1, so only
    the allowed half is checked here (see RABBITMQ_NOTES_HOSTILE.md)."""
    c = broker.connect()
    assert c.is_open
    c.close()
