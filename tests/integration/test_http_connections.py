"""Management API: connections, channels and consumers (RabbitMQ 3.10's paths, field names,
status codes), closing a connection from the API (X-Reason), and deleting a vhost under live
connections. RabbitMQ lists a session only after its first statistics emission, so listings
are polled."""
import time

import pika
import pika.exceptions
import pytest

from harness.http_api import conn_name, local_port, q
from harness.util import wait_for

V = q("/")

CONNECTION_FIELDS = {
    "auth_mechanism", "channel_max", "channels", "client_properties", "connected_at",
    "frame_max", "host", "name", "node", "peer_cert_issuer", "peer_cert_subject",
    "peer_cert_validity", "peer_host", "peer_port", "port", "protocol", "recv_cnt", "recv_oct",
    "recv_oct_details", "send_cnt", "send_oct", "send_oct_details", "send_pend", "ssl",
    "ssl_cipher", "ssl_hash", "ssl_key_exchange", "ssl_protocol", "state", "timeout", "type",
    "user", "user_who_performed_action", "vhost"}
CHANNEL_FIELDS = {
    "acks_uncommitted", "confirm", "connection_details", "consumer_count",
    "global_prefetch_count", "idle_since", "messages_unacknowledged", "messages_uncommitted",
    "messages_unconfirmed", "name", "node", "number", "pending_raft_commands", "prefetch_count",
    "state", "transactional", "user", "user_who_performed_action", "vhost"}
CONSUMER_FIELDS = {"ack_required", "active", "activity_status", "arguments", "channel_details",
                   "consumer_tag", "exclusive", "prefetch_count", "queue"}


def listed(api, name, timeout=20):
    """Waits until the connection is listed and returns its object."""
    def find():
        r = api.get("/api/connections")
        assert r.status == 200
        return next((c for c in r.json if c["name"] == name), None)
    return wait_for(find, timeout=timeout, interval=0.2, msg="connection %s listed" % name)


def closed_by_broker(connection, timeout=10):
    """Drives the client until the broker closes it; returns (code, text)."""
    deadline = time.time() + timeout
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as e:
        while time.time() < deadline:
            connection.process_data_events(0.2)
    return e.value.reply_code, e.value.reply_text


def test_connection_object(api, broker):
    c = broker.connect(client_properties={"connection_name": "pulse-conn-test"})
    try:
        name = conn_name(broker, c)
        obj = listed(api, name)
        assert CONNECTION_FIELDS <= set(obj), CONNECTION_FIELDS - set(obj)
        assert obj["protocol"] == "AMQP 0-9-1"
        assert obj["type"] == "network"
        assert obj["user"] == obj["user_who_performed_action"] == "guest"
        assert obj["vhost"] == "/"
        assert obj["auth_mechanism"] == "PLAIN"
        assert obj["state"] == "running"
        assert obj["host"] == obj["peer_host"] == "127.0.0.1"
        assert obj["port"] == broker.port and obj["peer_port"] == local_port(c)
        assert obj["ssl"] is False and obj["ssl_protocol"] is None
        assert obj["peer_cert_subject"] is None
        assert obj["user_provided_name"] == "pulse-conn-test"
        assert obj["client_properties"]["product"] == "Pika Python Client Library"
        assert obj["client_properties"]["capabilities"]["publisher_confirms"] is True
        assert obj["channel_max"] > 0 and obj["frame_max"] > 0 and obj["timeout"] > 0
        assert abs(obj["connected_at"] / 1000 - time.time()) < 120
        assert obj["recv_oct"] > 0 and obj["send_oct"] > 0 and obj["recv_cnt"] > 0
        assert "rate" in obj["recv_oct_details"]
        assert obj["node"] == api.get("/api/overview").json["node"]
        one = api.get("/api/connections/" + q(name))
        assert one.status == 200
        assert one.json["name"] == name and one.json["user_provided_name"] == "pulse-conn-test"
        assert CONNECTION_FIELDS <= set(one.json)
        # The single object shows absent TLS details as "" where the listing has null.
        assert one.json["ssl_protocol"] == "" and one.json["peer_cert_subject"] == ""
        in_vhost = api.get("/api/vhosts/%s/connections" % V)
        assert in_vhost.status == 200 and name in [x["name"] for x in in_vhost.json]
        paged = api.get("/api/connections?page=1&page_size=500&name=" + q(name))
        assert paged.status == 200 and [x["name"] for x in paged.json["items"]] == [name]
        cols = api.get("/api/connections?columns=name,user").json
        assert {"name": name, "user": "guest"} in cols
    finally:
        c.close()


def test_connection_errors(api, broker):
    assert api.get("/api/connections/nonexistent").status == 404
    assert api.get("/api/connections/nonexistent").json == {"error": "Object Not Found",
                                                            "reason": "Not Found"}
    assert api.delete("/api/connections/nonexistent").status == 404
    assert api.get("/api/vhosts/no-such-vhost/connections").status == 404
    r = api.put("/api/connections/whatever")
    assert r.status == 405 and r.headers["allow"] == "HEAD, GET, DELETE, OPTIONS"
    for path in ("/api/connections", "/api/channels", "/api/consumers"):
        r = api.delete(path)
        assert r.status == 405 and r.headers["allow"] == "HEAD, GET, OPTIONS", path
    assert api.get("/api/channels/" + q("nope (1)")).status == 404
    assert api.get("/api/consumers/no-such-vhost").status == 404


@pytest.mark.parametrize("reason", [None, "maintenance window"])
def test_close_from_api(api, broker, reason):
    c = broker.connect()
    name = conn_name(broker, c)
    listed(api, name)
    headers = {"X-Reason": reason} if reason else None
    r = api.delete("/api/connections/" + q(name), headers=headers)
    assert r.status == 204 and r.raw == b""
    code, text = closed_by_broker(c)
    assert code == 320
    assert text == "CONNECTION_FORCED - " + (reason or "Closed via management plugin")
    wait_for(lambda: api.get("/api/connections/" + q(name)).status == 404, timeout=20,
             interval=0.2)


def test_channels_and_consumers(api, broker, uname):
    qn = uname("cq")
    c = broker.connect()
    try:
        ch = c.channel()
        ch.queue_declare(qn)
        ch.basic_qos(prefetch_count=7)
        ch.basic_consume(qn, lambda *a: None, consumer_tag="tag-" + qn,
                         arguments={"x-priority": 3})
        pub = c.channel()
        pub.confirm_delivery()
        for _ in range(3):
            pub.basic_publish("", qn, b"hello")
        tx = c.channel()
        tx.tx_select()
        tx.basic_publish("", qn, b"uncommitted")
        c.process_data_events(0.3)
        name = conn_name(broker, c)
        cname = "%s (%d)" % (name, ch.channel_number)
        pname = "%s (%d)" % (name, pub.channel_number)
        tname = "%s (%d)" % (name, tx.channel_number)

        def channels_ready():
            c.process_data_events(0)
            got = {x["name"]: x for x in api.get("/api/channels").json}
            if not {cname, pname, tname} <= set(got):
                return None
            stats_c = got[cname].get("message_stats", {})
            stats_p = got[pname].get("message_stats", {})
            if stats_c.get("deliver") != 3 or stats_p.get("confirm") != 3:
                return None
            return got
        got = wait_for(channels_ready, timeout=30, interval=0.3, msg="channel stats")
        cons_ch, pub_ch, tx_ch = got[cname], got[pname], got[tname]
        for x in (cons_ch, pub_ch, tx_ch):
            assert CHANNEL_FIELDS <= set(x), CHANNEL_FIELDS - set(x)
            assert x["connection_details"] == {"name": name, "peer_host": "127.0.0.1",
                                               "peer_port": local_port(c)}
            assert x["user"] == "guest" and x["vhost"] == "/" and x["state"] == "running"
        assert cons_ch["number"] == ch.channel_number
        assert cons_ch["prefetch_count"] == 7 and cons_ch["global_prefetch_count"] == 0
        assert cons_ch["consumer_count"] == 1
        assert cons_ch["messages_unacknowledged"] == 3
        assert cons_ch["confirm"] is False and cons_ch["transactional"] is False
        ms = cons_ch["message_stats"]
        assert ms["deliver_get"] == 3 and ms["ack"] == 0 and ms["redeliver"] == 0
        assert "rate" in ms["deliver_details"] and "publish" not in ms
        assert pub_ch["confirm"] is True and pub_ch["messages_unconfirmed"] == 0
        pms = pub_ch["message_stats"]
        assert pms["publish"] == 3 and pms["return_unroutable"] == 0
        assert "drop_unroutable" in pms and "deliver" not in pms
        assert tx_ch["transactional"] is True and tx_ch["messages_uncommitted"] == 1
        assert "message_stats" not in tx_ch

        one = api.get("/api/channels/" + q(cname))
        assert one.status == 200
        assert one.json["name"] == cname
        assert [d["consumer_tag"] for d in one.json["consumer_details"]] == ["tag-" + qn]
        per_conn = api.get("/api/connections/%s/channels" % q(name))
        assert per_conn.status == 200
        assert {cname, pname, tname} == {x["name"] for x in per_conn.json}
        assert cname in [x["name"] for x in api.get("/api/vhosts/%s/channels" % V).json]

        def consumer():
            return next((x for x in api.get("/api/consumers").json
                         if x["consumer_tag"] == "tag-" + qn), None)
        cons = wait_for(consumer, timeout=20, interval=0.2, msg="consumer listed")
        assert CONSUMER_FIELDS <= set(cons)
        assert cons["queue"] == {"name": qn, "vhost": "/"}
        assert cons["ack_required"] is True and cons["exclusive"] is False
        assert cons["prefetch_count"] == 7
        assert cons["active"] is True and cons["activity_status"] == "up"
        assert cons["arguments"] == {"x-priority": 3}
        assert cons["channel_details"] == {
            "connection_name": name, "name": cname, "node": cons_ch["node"],
            "number": ch.channel_number, "peer_host": "127.0.0.1", "peer_port": local_port(c),
            "user": "guest"}
        assert cons in api.get("/api/consumers/%s" % V).json
        # consumers are never paginated
        assert isinstance(api.get("/api/consumers?page=1").json, list)
        qobj = api.get("/api/queues/%s/%s" % (V, q(qn))).json
        assert qobj["consumer_details"] == [cons]
        totals = api.get("/api/overview").json["object_totals"]
        assert totals["channels"] >= 3 and totals["connections"] >= 1
        assert totals["consumers"] >= 1
    finally:
        c.close()


def test_users_see_their_own(api, broker, uname):
    mgmt, mon = uname("mgmt"), uname("mon")
    for user, tags in ((mgmt, "management"), (mon, "monitoring")):
        assert api.put("/api/users/" + q(user), {"password": "pw", "tags": tags}).status == 201
        api.put("/api/permissions/%s/%s" % (V, q(user)),
                {"configure": ".*", "write": ".*", "read": ".*"})
    guest = broker.connect()
    own = broker.connect(user=mgmt, password="pw")
    try:
        gname, oname = conn_name(broker, guest), conn_name(broker, own)
        guest.channel()
        own.channel()
        listed(api, gname)
        listed(api, oname)
        m = api.as_user(mgmt, "pw")
        assert [x["name"] for x in m.get("/api/connections").json] == [oname]
        assert [x["name"] for x in m.get("/api/vhosts/%s/connections" % V).json] == [oname]
        wait_for(lambda: [x["connection_details"]["name"] for x in m.get("/api/channels").json]
                 == [oname], timeout=20, interval=0.2)
        denied = m.get("/api/connections/" + q(gname))
        assert denied.status == 401
        assert denied.json == {"error": "not_authorised",
                               "reason": "User not authorised to access object"}
        assert m.delete("/api/connections/" + q(gname)).status == 401
        assert m.get("/api/connections/" + q(oname)).status == 200
        mo = api.as_user(mon, "pw")
        assert {gname, oname} <= {x["name"] for x in mo.get("/api/connections").json}
        assert mo.get("/api/connections/" + q(gname)).status == 200
        assert mo.delete("/api/connections/" + q(gname)).status == 401
    finally:
        for c in (guest, own):
            try:
                c.close()
            except Exception:
                pass
        api.delete("/api/users/" + q(mgmt))
        api.delete("/api/users/" + q(mon))


def test_connections_by_username(api, broker, uname):
    user = uname("byuser")
    assert api.put("/api/users/" + q(user), {"password": "pw", "tags": ""}).status == 201
    api.put("/api/permissions/%s/%s" % (V, q(user)),
            {"configure": ".*", "write": ".*", "read": ".*"})
    try:
        c = broker.connect(user=user, password="pw")
        name = conn_name(broker, c)
        listed(api, name)
        r = api.get("/api/connections/username/" + q(user))
        assert r.status == 200
        assert [(x["name"], x["user"], x["vhost"]) for x in r.json] == [(name, user, "/")]
        assert set(r.json[0]) == {"name", "node", "user", "vhost"}
        assert api.get("/api/connections/username/" + q(uname("nobody"))).json == []
        r = api.delete("/api/connections/username/" + q(user), headers={"X-Reason": "user gone"})
        assert r.status == 204
        assert closed_by_broker(c) == (320, "CONNECTION_FORCED - user gone")
    finally:
        api.delete("/api/users/" + q(user))


@pytest.mark.parametrize("bulk", [False, True])
def test_user_deletion_closes_its_connections(api, broker, uname, bulk):
    user, other = uname("deluser"), uname("keepuser")
    for u in (user, other):
        assert api.put("/api/users/" + q(u), {"password": "pw", "tags": ""}).status == 201
        api.put("/api/permissions/%s/%s" % (V, q(u)),
                {"configure": ".*", "write": ".*", "read": ".*"})
    try:
        doomed = [broker.connect(user=user, password="pw") for _ in range(2)]
        kept = broker.connect(user=other, password="pw")
        for c in doomed + [kept]:
            listed(api, conn_name(broker, c))
        if bulk:
            r = api.post("/api/users/bulk-delete", {"users": [user]})
        else:
            r = api.delete("/api/users/" + q(user))
        assert r.status == 204
        for c in doomed:
            assert closed_by_broker(c) == (320, "CONNECTION_FORCED - user '%s' is deleted" % user)
        kept.channel().queue_declare("", exclusive=True)  # another user's connection goes on
        kept.close()
    finally:
        api.delete("/api/users/" + q(user))
        api.delete("/api/users/" + q(other))


def test_vhost_deletion_closes_connections(api, broker, uname):
    vh = uname("vdel")
    assert api.put("/api/vhosts/" + q(vh)).status == 201
    api.put("/api/permissions/%s/guest" % q(vh), {"configure": ".*", "write": ".*", "read": ".*"})
    c = broker.connect(vhost=vh)
    ch = c.channel()
    ch.queue_declare("in-doomed-vhost")
    ch.basic_consume("in-doomed-vhost", lambda *a: None)
    name = conn_name(broker, c)
    listed(api, name)
    assert api.delete("/api/vhosts/" + q(vh)).status == 204
    code, text = closed_by_broker(c)
    assert code == 320
    if broker.target == "pulsed":
        assert text == "CONNECTION_FORCED - vhost '%s' is down" % vh
    else:
        # RabbitMQ closes from its vhost_down event ("is down"), or, for a connection its
        # tracker had not seen by then, from vhost_deleted ("is deleted").
        assert text in ("CONNECTION_FORCED - vhost '%s' is down" % vh,
                        "CONNECTION_FORCED - vhost '%s' is deleted" % vh)
    assert api.get("/api/vhosts/" + q(vh)).status == 404
    wait_for(lambda: name not in [x["name"] for x in api.get("/api/connections").json],
             timeout=20, interval=0.2)
    # The vhost can be made again and used at once.
    assert api.put("/api/vhosts/" + q(vh)).status == 201
    api.put("/api/permissions/%s/guest" % q(vh), {"configure": ".*", "write": ".*", "read": ".*"})
    again = broker.connect(vhost=vh)
    again.channel().queue_declare("in-doomed-vhost", passive=False)
    again.close()
    api.delete("/api/vhosts/" + q(vh))


def test_listing_many_connections(api, broker, uname):
    """Connections, channels and consumers are listed one connection at a time in slices, then
    sorted and paged: every open one shows once, in order, also while others close."""
    vhost = uname("many")
    assert api.put("/api/vhosts/" + q(vhost)).status == 201
    assert api.put("/api/permissions/%s/guest" % q(vhost),
                   {"configure": ".*", "write": ".*", "read": ".*"}).status in (201, 204)
    conns = []
    try:
        for i in range(60):
            c = broker.connect(vhost=vhost)
            ch = c.channel()
            qn = ch.queue_declare("", exclusive=True).method.queue
            ch.basic_consume(qn, lambda *a: None, consumer_tag="ctag%02d" % i)
            conns.append(c)
        names = sorted(conn_name(broker, c) for c in conns)

        def all_listed():
            got = api.get("/api/vhosts/%s/connections?sort=name" % q(vhost)).json
            return [c["name"] for c in got] == names
        wait_for(all_listed, timeout=30, interval=0.5)
        page = api.get("/api/connections?page=1&page_size=500&sort=name&columns=name,vhost").json
        assert page["total_count"] >= 60 and page["item_count"] == page["total_count"]
        assert [c["name"] for c in page["items"] if c["vhost"] == vhost] == names
        # RabbitMQ 3.10 does not paginate a vhost's connections and channels.
        got = api.get("/api/vhosts/%s/connections?page=2&page_size=25&sort=name&sort_reverse=true"
                      % q(vhost)).json
        assert [c["name"] for c in got] == names[::-1]
        wait_for(lambda: len(api.get("/api/vhosts/%s/channels" % q(vhost)).json) == 60,
                 timeout=30, interval=0.5)
        chans = api.get("/api/vhosts/%s/channels?columns=name&sort=name&sort_reverse=true"
                        % q(vhost)).json
        assert [c["name"] for c in chans] == sorted((n + " (1)" for n in names), reverse=True)
        wait_for(lambda: len(api.get("/api/consumers/" + q(vhost)).json) == 60,
                 timeout=30, interval=0.5)
        tags = sorted(c["consumer_tag"]
                      for c in api.get("/api/consumers/%s?page=1" % q(vhost)).json)
        assert tags == ["ctag%02d" % i for i in range(60)]
        for c in conns[::2]:
            c.close()
        left = sorted(conn_name(broker, c) for c in conns[1::2])
        assert all(c["name"] in names for c in api.get("/api/connections").json
                   if c["vhost"] == vhost)
        wait_for(lambda: sorted(c["name"] for c in api.get("/api/connections").json
                                if c["vhost"] == vhost) == left, timeout=30, interval=0.5)
    finally:
        for c in conns:
            if c.is_open:
                c.close()
        api.delete("/api/vhosts/" + q(vhost))
