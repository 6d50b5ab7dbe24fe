"""Authentication hardening: a wrong user and a wrong password look the same (reply and
timing), and failed logins are limited per source address (auth_failure_limit.*, Pulse's own
keys; RabbitMQ has no such limit), for AMQP and the management API's Basic auth."""
import base64
import http.client
import statistics
import time

import pika
import pytest

from rawamqp import (CONNECTION_CLOSE, CONNECTION_START, CONNECTION_TUNE, PROTOCOL_HEADER, Close,
                     ConnectionClosed, RawAMQP, longstr, shortstr, table)

REFUSED = ("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. "
           "For details see the broker logfile.")
LIMIT = {"auth_failure_limit.max_failures": 3,
         "auth_failure_limit.window": 60000,
         "auth_failure_limit.block_for": 60000,
         "auth_failure_limit.exempt_loopback": "false"}


def login(broker, user, password, source=None):
    """'ok' (tune received), or the connection.close text of a refused login."""
    c = RawAMQP(broker.host, broker.port, source=source)
    try:
        c.send(PROTOCOL_HEADER)
        c.read_method(CONNECTION_START)
        props = {"product": "t", "capabilities": {"authentication_failure_close": True}}
        resp = b"\x00" + user.encode() + b"\x00" + password.encode()
        c.send_method(0, (10, 11), table(props) + shortstr("PLAIN") + longstr(resp)
                      + shortstr("en_US"))
        f = c.read_method()
        if f.method == CONNECTION_TUNE:
            return "ok"
        assert f.method == CONNECTION_CLOSE, f
        return Close.from_frame(f).text
    finally:
        c.sock.close()


def pika_refusal(broker, user, password):
    with pytest.raises(pika.exceptions.AMQPConnectionError) as e:
        broker.connect(user=user, password=password)
    return repr(e.value)


@pytest.mark.pulsed_only
def test_wrong_user_and_wrong_password_get_the_same_reply(broker):
    assert login(broker, "no-such-user", "x") == REFUSED
    assert login(broker, "guest", "wrong") == REFUSED
    assert pika_refusal(broker, "no-such-user", "x") == pika_refusal(broker, "guest", "wrong")


@pytest.mark.pulsed_only
def test_wrong_user_takes_as_long_as_wrong_password(broker):
    """The refusal is delayed (RabbitMQ's silent-close delay applies to both alike), so time
    the start-ok -> close round trip, which includes the password hash."""
    def timed(user):
        c = RawAMQP(broker.host, broker.port)
        c.send(PROTOCOL_HEADER)
        c.read_method(CONNECTION_START)
        props = {"product": "t", "capabilities": {"authentication_failure_close": True}}
        resp = b"\x00" + user.encode() + b"\x00wrong-password"
        payload = table(props) + shortstr("PLAIN") + longstr(resp) + shortstr("en_US")
        t0 = time.perf_counter()
        c.send_method(0, (10, 11), payload)
        assert c.read_method().method == CONNECTION_CLOSE
        dt = time.perf_counter() - t0
        c.sock.close()
        return dt
    unknown = [timed("no-such-user") for _ in range(15)]
    known = [timed("guest") for _ in range(15)]
    mu, mk = statistics.median(unknown), statistics.median(known)
    # Both hash the password: on a loaded machine the medians stay within a few ms.
    assert abs(mu - mk) < 0.005, (mu, mk)


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def http_get(broker, path, headers, source=None):
    c = http.client.HTTPConnection(broker.host, broker.http_port, timeout=10,
                                   source_address=(source, 0) if source else None)
    try:
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


@pytest.mark.pulsed_only
def test_failures_block_one_address_and_not_others(broker_with):
    b = broker_with(LIMIT)
    assert login(b, "guest", "guest") == "ok"  # successes do not count
    for _ in range(3):
        assert login(b, "guest", "wrong") == REFUSED
    # 127.0.0.1 is now blocked, even with the right password, with the same reply.
    assert login(b, "guest", "guest") == REFUSED
    # Another loopback address is unaffected.
    assert login(b, "guest", "guest", source="127.0.0.2") == "ok"
    # The management API counts the same way, separately: 127.0.0.2 fails there three times.
    for _ in range(3):
        assert http_get(b, "/api/whoami", {"Authorization": basic("guest", "bad")},
                        source="127.0.0.2")[0] == 401
    wrong = http_get(b, "/api/whoami", {"Authorization": basic("guest", "bad")}, "127.0.0.3")
    blocked = http_get(b, "/api/whoami", {"Authorization": basic("guest", "guest")}, "127.0.0.2")
    assert blocked == wrong
    assert blocked[0] == 401
    assert http_get(b, "/api/whoami", {"Authorization": basic("guest", "guest")},
                    "127.0.0.4")[0] == 200


@pytest.mark.pulsed_only
def test_loopback_is_exempt_by_default(broker_with):
    b = broker_with({"auth_failure_limit.max_failures": 2})
    for _ in range(4):
        assert login(b, "guest", "wrong") == REFUSED
    assert login(b, "guest", "guest") == "ok"


@pytest.mark.pulsed_only
def test_block_runs_out(broker_with):
    b = broker_with(dict(LIMIT, **{"auth_failure_limit.block_for": 1500,
                                   "auth_failure_limit.max_failures": 2}))
    for _ in range(2):
        assert login(b, "guest", "wrong", source="127.0.0.5") == REFUSED
    assert login(b, "guest", "guest", source="127.0.0.5") == REFUSED
    time.sleep(1.7)
    assert login(b, "guest", "guest", source="127.0.0.5") == "ok"
