"""Management API: single connections and channels by name, a queue's consumer_details, and
the session part of the Prometheus scrape with a few hundred connections (issue 5: these are
looked up directly or walked in slices, never by snapshotting every connection at once, and
must answer exactly as before). RabbitMQ lists a session only after its first statistics
emission, so lookups are polled."""
import http.client

import pika
import pika.exceptions
import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.http_api import conn_name, local_port, q
from harness.util import wait_for

V = q("/")


def close_all(conns):
    for c in conns:
        try:
            c.close()
        except Exception:
            pass


def found(api, path, timeout=20):
    """Polls until `path` answers 200 and returns the JSON."""
    def get():
        r = api.get(path)
        return r.json if r.status == 200 else None
    return wait_for(get, timeout=timeout, interval=0.2, msg=path)


# Fields that change between two reads of the same idle session.
VOLATILE = {"recv_oct", "recv_cnt", "send_oct", "send_cnt", "recv_oct_details",
            "send_oct_details", "send_pend", "idle_since", "message_stats", "reductions",
            "garbage_collection", "reductions_details"}


def stable(obj):
    return {k: v for k, v in obj.items() if k not in VOLATILE}


def test_single_objects_among_several_connections(api, broker):
    conns = [broker.connect(client_properties={"connection_name": "single-%d" % i})
             for i in range(4)]
    try:
        chans = [[c.channel() for _ in range(i + 1)] for i, c in enumerate(conns)]
        names = [conn_name(broker, c) for c in conns]
        for i, name in enumerate(names):
            one = found(api, "/api/connections/" + q(name))
            assert one["name"] == name and one["user_provided_name"] == "single-%d" % i
            assert one["peer_port"] == local_port(conns[i]) and one["port"] == broker.port
            assert one["vhost"] == "/" and one["user"] == "guest"
            # The same object as in the listing, but for the single form's "" TLS fields.
            listed = wait_for(lambda: next((x for x in api.get("/api/connections").json
                                            if x["name"] == name), None),
                              timeout=20, interval=0.2)
            for k in ("ssl_protocol", "ssl_cipher", "ssl_hash", "ssl_key_exchange",
                      "peer_cert_issuer", "peer_cert_subject", "peer_cert_validity"):
                assert listed[k] is None and one[k] == "", k
                del listed[k], one[k]
            assert stable(one) == stable(listed)
            for ch in chans[i]:
                cname = "%s (%d)" % (name, ch.channel_number)
                obj = found(api, "/api/channels/" + q(cname))
                assert obj["name"] == cname and obj["number"] == ch.channel_number
                assert obj["connection_details"]["name"] == name
                assert obj["consumer_details"] == [] and obj["deliveries"] == []
            per_conn = wait_for(
                lambda: (lambda r: r if len(r) == len(chans[i]) else None)(
                    api.get("/api/connections/%s/channels" % q(name)).json),
                timeout=20, interval=0.2)
            assert sorted(x["number"] for x in per_conn) == sorted(
                ch.channel_number for ch in chans[i])
            assert all(x["connection_details"]["name"] == name for x in per_conn)
        # Unknown names: a port nobody uses, a channel number the connection lacks, malformed
        # channel names.
        ghost = "127.0.0.1:1 -> 127.0.0.1:%d" % broker.port
        assert api.get("/api/connections/" + q(ghost)).status == 404
        assert api.delete("/api/connections/" + q(ghost)).status == 404
        for bad in ("%s (99)" % names[0], "%s (0)" % names[0], "%s (x)" % names[0],
                    "%s (1" % names[0], names[0], ghost + " (1)", "(1)", " (1)"):
            r = api.get("/api/channels/" + q(bad))
            assert r.status == 404, bad
            assert r.json == {"error": "Object Not Found", "reason": "Not Found"}
        # A closed connection and its channels are gone.
        conns[3].close()
        wait_for(lambda: api.get("/api/connections/" + q(names[3])).status == 404, timeout=20,
                 interval=0.2)
        assert api.get("/api/channels/" + q(names[3] + " (1)")).status == 404
        assert api.get("/api/connections/" + q(names[2])).status == 200
        # DELETE by name closes that one only.
        assert api.delete("/api/connections/" + q(names[1])).status == 204

        def gone():
            try:  # the client answers the broker's connection.close
                conns[1].process_data_events(0)
            except pika.exceptions.ConnectionClosedByBroker:
                pass
            return api.get("/api/connections/" + q(names[1])).status == 404
        wait_for(gone, timeout=20, interval=0.2)
        assert conns[0].is_open and api.get("/api/connections/" + q(names[0])).status == 200
    finally:
        close_all(conns)


def test_queue_consumer_details_with_several_connections(api, broker, uname):
    qn, other = uname("cd"), uname("cd-other")
    setup = broker.connect()
    setup.channel().queue_declare(qn)
    setup.channel().queue_declare(other)
    conns = [broker.connect() for _ in range(3)]
    try:
        expected = {}  # tag -> (channel name, prefetch, ack_required)
        channels = []
        for i, c in enumerate(conns):
            for j in range(2):
                ch = c.channel()
                channels.append(ch)
                ch.basic_qos(prefetch_count=10 * i + j + 1)
                cname = "%s (%d)" % (conn_name(broker, c), ch.channel_number)
                # Two consumers on the queue on one channel, one on the same channel elsewhere.
                for k in range(2 if j == 0 else 1):
                    tag = "t%d.%d.%d.%s" % (i, j, k, qn)
                    ch.basic_consume(qn, lambda *a: None, consumer_tag=tag, auto_ack=(k == 1))
                    expected[tag] = (cname, 10 * i + j + 1, k != 1)
                ch.basic_consume(other, lambda *a: None, consumer_tag="o%d.%d.%s" % (i, j, qn))
        path = "/api/queues/%s/%s" % (V, q(qn))

        def details(want):
            obj = api.get(path).json
            got = {d["consumer_tag"]: d for d in obj["consumer_details"]}
            return got if set(got) == set(want) else None
        got = wait_for(lambda: details(expected), timeout=30, interval=0.3,
                       msg="consumer_details")
        for tag, (cname, prefetch, ack) in expected.items():
            d = got[tag]
            assert d["queue"] == {"name": qn, "vhost": "/"}
            assert d["channel_details"]["name"] == cname
            assert d["channel_details"]["connection_name"] == cname.rsplit(" (", 1)[0]
            assert d["prefetch_count"] == prefetch and d["ack_required"] is ack
            assert d["active"] is True and d["exclusive"] is False
        assert api.get(path).json["consumers"] == len(expected)
        # The same objects as /api/consumers shows.
        listed = {x["consumer_tag"]: x for x in api.get("/api/consumers/" + V).json
                  if x["queue"]["name"] == qn}
        assert listed == got
        # A cancelled consumer and a closed connection leave.
        channels[1].basic_cancel("t0.1.0." + qn)
        del expected["t0.1.0." + qn]
        conns[2].close()
        for tag in [t for t in expected if t.startswith("t2.")]:
            del expected[tag]
        wait_for(lambda: details(expected), timeout=30, interval=0.3, msg="after cancel")
    finally:
        for c in conns:
            if c.is_open:
                c.close()
        setup.channel().queue_delete(qn)
        setup.channel().queue_delete(other)
        setup.close()


def prometheus(broker, path):
    conn = http.client.HTTPConnection(broker.host, broker.prometheus_port, timeout=60)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        assert r.status == 200
        samples = {}
        for fam in text_string_to_metric_families(r.read().decode()):
            for s in fam.samples:
                samples.setdefault(s.name, []).append(s)
        return samples
    finally:
        conn.close()


@pytest.mark.pulsed_only  # RabbitMQ labels sessions with Erlang pids, and lags by 5 s
def test_metrics_with_a_few_hundred_connections(api, broker, uname):
    vhost = uname("mx")
    assert api.put("/api/vhosts/" + q(vhost)).status == 201
    api.put("/api/permissions/%s/guest" % q(vhost),
            {"configure": ".*", "write": ".*", "read": ".*"})
    params = broker.pika_params(vhost=vhost)
    conns = []
    try:
        want_channels, want_consumers, want_published = {}, {}, {}
        for i in range(300):
            c = pika.BlockingConnection(params)
            conns.append(c)
            name = conn_name(broker, c)
            want_channels[name] = i % 3
            for j in range(i % 3):
                ch = c.channel()
                cname = "%s (%d)" % (name, ch.channel_number)
                want_consumers[cname] = 0
                want_published[cname] = 0
                if j == 0 and i % 2 == 0:
                    qn = ch.queue_declare("", exclusive=True).method.queue
                    ch.basic_consume(qn, lambda *a: None)
                    want_consumers[cname] = 1
                if j == 1:
                    for _ in range(i % 5):
                        ch.basic_publish("", "nowhere", b"x")
                    want_published[cname] = i % 5
        for c in conns:
            c.process_data_events(0)
        mine = set(want_channels)

        def per_object():
            s = prometheus(broker, "/metrics/per-object")
            chans = {x.labels["channel"]: x.value
                     for x in s.get("rabbitmq_connection_channels", [])
                     if x.labels["channel"] in mine}
            cons = {x.labels["channel"]: x.value for x in s.get("rabbitmq_channel_consumers", [])
                    if x.labels["channel"] in want_consumers}
            pubs = {x.labels["channel"]: x.value
                    for x in s.get("rabbitmq_channel_messages_published_total", [])
                    if x.labels["channel"] in want_published and x.labels["vhost"] == vhost}
            ok = chans == want_channels and cons == want_consumers and pubs == want_published
            return s if ok else None
        s = wait_for(per_object, timeout=30, interval=0.5, msg="per-object session metrics")
        # Each connection once, each channel once.
        names = [x.labels["channel"] for x in s["rabbitmq_connection_channels"]]
        assert len(names) == len(set(names))
        # The aggregated scrape sums what per-object shows.
        agg = prometheus(broker, "/metrics")
        per = prometheus(broker, "/metrics/per-object")
        for fam in ("rabbitmq_connection_channels", "rabbitmq_channel_consumers"):
            assert agg[fam][0].value == sum(x.value for x in per[fam]), fam
        assert agg["rabbitmq_connections"][0].value >= 300
        assert agg["rabbitmq_channels"][0].value >= sum(want_channels.values())
        assert agg["rabbitmq_connection_channels"][0].value >= sum(want_channels.values())
        overview = api.get("/api/overview").json["object_totals"]
        assert overview["connections"] >= 300
        assert overview["channels"] >= sum(want_channels.values())
    finally:
        close_all(conns)
        api.delete("/api/vhosts/" + q(vhost))
