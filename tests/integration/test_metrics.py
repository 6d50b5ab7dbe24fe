"""Prometheus metrics (GET /metrics, /metrics/per-object) and the management API's global and
per-vhost message_stats, on both targets: RabbitMQ nodes run the rabbitmq_prometheus plugin on
`broker.prometheus_port` (prometheus.tcp.port), pulsed its --prometheus-listen.

Scrapes are parsed strictly with Debian's python3-prometheus-client and linted with `promtool
check metrics` (Debian's prometheus package). RabbitMQ updates its metrics every 5 s, hence the
wait_for around values."""
import http.client
import os
import shutil
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.http_api import HttpApi, q
from harness.util import wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "fixtures", "rabbitmq_prometheus_3.10.8.txt")

# The families Grafana's RabbitMQ-Overview dashboard and the brief rely on, with their types.
KEY_FAMILIES = {
    "rabbitmq_identity_info": "untyped",
    "rabbitmq_build_info": "untyped",
    "rabbitmq_connections": "gauge",
    "rabbitmq_channels": "gauge",
    "rabbitmq_consumers": "gauge",
    "rabbitmq_queues": "gauge",
    "rabbitmq_queue_messages": "gauge",
    "rabbitmq_queue_messages_ready": "gauge",
    "rabbitmq_queue_messages_unacked": "gauge",
    "rabbitmq_queue_messages_bytes": "gauge",
    "rabbitmq_queue_consumers": "gauge",
    "rabbitmq_channel_messages_published_total": "counter",
    "rabbitmq_channel_messages_confirmed_total": "counter",
    "rabbitmq_channel_messages_delivered_total": "counter",
    "rabbitmq_channel_messages_delivered_ack_total": "counter",
    "rabbitmq_channel_messages_acked_total": "counter",
    "rabbitmq_channel_messages_redelivered_total": "counter",
    "rabbitmq_channel_messages_unroutable_dropped_total": "counter",
    "rabbitmq_channel_messages_unroutable_returned_total": "counter",
    "rabbitmq_channel_get_total": "counter",
    "rabbitmq_channel_get_ack_total": "counter",
    "rabbitmq_channel_get_empty_total": "counter",
    "rabbitmq_connections_opened_total": "counter",
    "rabbitmq_connections_closed_total": "counter",
    "rabbitmq_channels_opened_total": "counter",
    "rabbitmq_channels_closed_total": "counter",
    "rabbitmq_queues_declared_total": "counter",
    "rabbitmq_queues_created_total": "counter",
    "rabbitmq_queues_deleted_total": "counter",
    "rabbitmq_process_resident_memory_bytes": "gauge",
    "rabbitmq_process_open_fds": "gauge",
    "rabbitmq_process_max_fds": "gauge",
    "rabbitmq_resident_memory_limit_bytes": "gauge",
    "rabbitmq_disk_space_available_bytes": "gauge",
    "rabbitmq_disk_space_available_limit_bytes": "gauge",
    "rabbitmq_alarms_memory_used_watermark": "untyped",
    "rabbitmq_alarms_free_disk_space_watermark": "untyped",
    "rabbitmq_alarms_file_descriptor_limit": "untyped",
    "process_start_time_seconds": "gauge",
    "rabbitmq_global_messages_received_total": "counter",
    "rabbitmq_global_messages_delivered_total": "counter",
}

# rabbitmq_prometheus leaves these out of /metrics/per-object.
NOT_PER_OBJECT = {"process_start_time_seconds", "rabbitmq_alarms_file_descriptor_limit",
                  "rabbitmq_alarms_free_disk_space_watermark",
                  "rabbitmq_alarms_memory_used_watermark"}


def fetch(broker, path, port=None):
    conn = http.client.HTTPConnection(broker.host, port or broker.prometheus_port, timeout=30)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.getheader("content-type") or "", r.read().decode()
    finally:
        conn.close()


def declared(text):
    """{family: (type, help)} from the # TYPE / # HELP lines, as exposed."""
    types, helps = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, typ = line[7:].split(" ", 1)
            types[name] = typ
        elif line.startswith("# HELP "):
            name, _, help_ = line[7:].partition(" ")
            helps[name] = help_
    assert set(types) == set(helps), set(types) ^ set(helps)
    return {n: (types[n], helps[n]) for n in types}


class Scrape:
    """A strictly parsed scrape: samples by sample name (counters keep their _total)."""

    def __init__(self, text):
        self.text = text
        self.samples = {}
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                self.samples.setdefault(s.name, []).append(s)
        self.families = declared(text)

    def value(self, name, **labels):
        found = [s for s in self.samples.get(name, [])
                 if all(s.labels.get(k) == v for k, v in labels.items())]
        assert found, (name, labels)
        return sum(s.value for s in found)


def scrape(broker, path="/metrics"):
    status, ctype, text = fetch(broker, path)
    assert status == 200, text[:300]
    assert ctype.startswith("text/plain"), ctype
    return Scrape(text)


def reference():
    out = {}
    with open(REFERENCE) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, typ, help_ = line.rstrip("\n").split("\t")
            out[name] = (typ, help_)
    return out


def test_scrape_is_strict_prometheus_text(broker):
    for path in ("/metrics", "/metrics/per-object"):
        status, ctype, text = fetch(broker, path)
        assert status == 200
        assert ctype.startswith("text/plain") and "version=0.0.4" in ctype, ctype
        families = list(text_string_to_metric_families(text))
        assert len(families) > 40
        if shutil.which("promtool"):
            own = "\n".join(l for l in text.splitlines()
                            if not (l.startswith("erlang_") or l.startswith("telemetry_")
                                    or l.startswith("# TYPE erlang_")
                                    or l.startswith("# HELP erlang_")
                                    or l.startswith("# TYPE telemetry_")
                                    or l.startswith("# HELP telemetry_"))) + "\n"
            p = subprocess.run(["promtool", "check", "metrics"], input=own, text=True,
                               capture_output=True, timeout=60)
            assert p.returncode == 0 and p.stdout == "" and p.stderr == "", p.stdout + p.stderr


def test_key_families_have_rabbitmq_names_and_types(broker):
    """Runs on both targets: the families dashboards use are there, with RabbitMQ's types."""
    for path in ("/metrics", "/metrics/per-object"):
        fams = scrape(broker, path).families
        want = {n: t for n, t in KEY_FAMILIES.items()
                if path == "/metrics" or n not in NOT_PER_OBJECT}
        wrong = {n: fams.get(n) for n, t in want.items() if fams.get(n, ("-",))[0] != t}
        assert not wrong, wrong
        if path != "/metrics":
            assert not NOT_PER_OBJECT & set(fams), NOT_PER_OBJECT & set(fams)


def test_every_family_is_rabbitmqs(broker):
    """Each family exposed (erlang_*/telemetry_* aside) is one of rabbitmq_prometheus 3.10's,
    with the same type and help text. On RabbitMQ this checks the reference file itself."""
    ref = reference()
    for path in ("/metrics", "/metrics/per-object"):
        fams = {n: v for n, v in scrape(broker, path).families.items()
                if not n.startswith(("erlang_", "telemetry_"))}
        wrong = {n: (v, ref.get(n)) for n, v in fams.items() if ref.get(n) != v}
        assert not wrong, wrong


def test_identity_and_build_info(broker):
    s = scrape(broker)
    ident = s.samples["rabbitmq_identity_info"][0]
    assert ident.value == 1
    assert {"rabbitmq_node", "rabbitmq_cluster"} <= set(ident.labels)
    assert ident.labels["rabbitmq_node"] == HttpApi(broker).get("/api/overview").json["node"]
    build = s.samples["rabbitmq_build_info"][0]
    assert build.labels["rabbitmq_version"].startswith("3.10")
    assert s.value("rabbitmq_process_resident_memory_bytes") > 1024 * 1024
    assert s.value("rabbitmq_process_open_fds") > 0
    assert s.value("rabbitmq_process_max_fds") >= s.value("rabbitmq_process_open_fds")
    assert s.value("rabbitmq_resident_memory_limit_bytes") > 0
    assert s.value("rabbitmq_disk_space_available_bytes") > 0
    assert s.value("rabbitmq_alarms_memory_used_watermark") == 0


def counters(s):
    names = ["rabbitmq_channel_messages_published_total",
             "rabbitmq_channel_messages_confirmed_total",
             "rabbitmq_channel_messages_unroutable_dropped_total",
             "rabbitmq_channel_messages_unroutable_returned_total",
             "rabbitmq_channel_get_ack_total", "rabbitmq_channel_get_total",
             "rabbitmq_channel_get_empty_total",
             "rabbitmq_channel_messages_delivered_ack_total",
             "rabbitmq_channel_messages_delivered_total",
             "rabbitmq_channel_messages_redelivered_total",
             "rabbitmq_channel_messages_acked_total",
             "rabbitmq_queues_declared_total", "rabbitmq_queues_created_total",
             "rabbitmq_queues_deleted_total", "rabbitmq_channels_opened_total",
             "rabbitmq_connections_opened_total"]
    return {n: s.value(n) for n in names}


def test_values_after_real_traffic(broker, uname):
    """pika publishes N (+ unroutable ones), fetches and consumes M: counters and gauges say so."""
    qname = uname("met")
    before = counters(scrape(broker))
    c = broker.connect()
    try:
        ch = c.channel()
        ch.confirm_delivery()
        ch.queue_declare(qname)
        n = 12
        for i in range(n):
            ch.basic_publish("", qname, b"x" * 100)
        ch.basic_publish("", uname("nowhere"), b"dropped")
        try:
            ch.basic_publish("", uname("nowhere"), b"returned", mandatory=True)
        except Exception:  # pika raises UnroutableError for the returned message
            pass
        gets = []
        for _ in range(3):
            m, _, _ = ch.basic_get(qname)
            gets.append(m.delivery_tag)
        ch.basic_get(qname, auto_ack=True)
        # Gauges: 8 ready, 3 unacked (fetched, not yet acknowledged), 1 consumer later.
        def queue_gauges():
            s = scrape(broker, "/metrics/per-object")
            return (s.value("rabbitmq_queue_messages_ready", vhost="/", queue=qname),
                    s.value("rabbitmq_queue_messages_unacked", vhost="/", queue=qname),
                    s.value("rabbitmq_queue_messages", vhost="/", queue=qname))
        wait_for(lambda: queue_gauges() == (8, 3, 11), timeout=20, interval=0.5)
        assert queue_gauges() == (8, 3, 11)
        s = scrape(broker, "/metrics/per-object")
        assert s.value("rabbitmq_queue_messages_bytes", vhost="/", queue=qname) == 1100
        for tag in gets:
            ch.basic_ack(tag)
        ch.basic_get(qname, auto_ack=True)  # 7 left
        got = []
        ch.basic_consume(qname, lambda chx, m, p, b: (got.append(1), chx.basic_ack(m.delivery_tag)))
        wait_for(lambda: (c.process_data_events(0.05), len(got) == 7)[1], timeout=10)
        assert ch.basic_get(qname) == (None, None, None)
        expected = {
            "rabbitmq_channel_messages_published_total": n + 2,
            "rabbitmq_channel_messages_confirmed_total": n + 2,
            "rabbitmq_channel_messages_unroutable_dropped_total": 1,
            "rabbitmq_channel_messages_unroutable_returned_total": 1,
            "rabbitmq_channel_get_ack_total": 3,
            "rabbitmq_channel_get_total": 2,
            "rabbitmq_channel_get_empty_total": 1,
            "rabbitmq_channel_messages_delivered_ack_total": 7,
            "rabbitmq_channel_messages_delivered_total": 0,
            "rabbitmq_channel_messages_redelivered_total": 0,
            "rabbitmq_channel_messages_acked_total": 10,
            "rabbitmq_queues_declared_total": 1,
            "rabbitmq_queues_created_total": 1,
            "rabbitmq_queues_deleted_total": 0,
            "rabbitmq_channels_opened_total": 1,
            "rabbitmq_connections_opened_total": 1,
        }

        def delta():
            now = counters(scrape(broker))
            return {k: now[k] - before[k] for k in expected}
        wait_for(lambda: delta() == expected, timeout=20, interval=0.5)
        assert delta() == expected
        s = scrape(broker)
        assert s.value("rabbitmq_connections") >= 1 and s.value("rabbitmq_channels") >= 1
        assert s.value("rabbitmq_consumers") >= 1 and s.value("rabbitmq_queues") >= 1
        ch.queue_delete(qname)
    finally:
        c.close()
    wait_for(lambda: counters(scrape(broker))["rabbitmq_queues_deleted_total"]
             - before["rabbitmq_queues_deleted_total"] == 1, timeout=20, interval=0.5)


def test_per_object_labels(broker, uname):
    qname = uname("metq")
    c = broker.connect()
    try:
        ch = c.channel()
        ch.queue_declare(qname)
        for i in range(5):
            ch.basic_publish("", qname, b"y")
        ch.basic_consume(qname, lambda *a: None)

        def check():
            s = scrape(broker, "/metrics/per-object")
            qs = [x for x in s.samples["rabbitmq_queue_consumers"]
                  if x.labels == {"vhost": "/", "queue": qname}]
            pubs = [x for x in s.samples.get("rabbitmq_channel_messages_published_total", [])
                    if x.labels.get("vhost") == "/" and x.value == 5]
            chans = s.samples.get("rabbitmq_connection_channels", [])
            return (len(qs) == 1 and qs[0].value == 1 and pubs
                    and all("channel" in p.labels for p in pubs)
                    and any("channel" in x.labels and x.value == 1 for x in chans))
        wait_for(check, timeout=20, interval=0.5)
        assert check()
        # The aggregated form carries no per-object labels.
        agg = scrape(broker)
        for name in ("rabbitmq_queue_messages", "rabbitmq_channel_messages_published_total",
                     "rabbitmq_connection_channels"):
            assert [x.labels for x in agg.samples[name]] == [{}], name
    finally:
        c.close()


def test_prometheus_listener_serves_metrics_only(broker):
    status, _, _ = fetch(broker, "/api/overview")
    assert status == 404
    status, _, text = fetch(broker, "/metrics")
    assert status == 200 and "rabbitmq_identity_info" in text


@pytest.mark.pulsed_only
def test_metrics_on_management_listener_without_auth(broker):
    # RabbitMQ serves /metrics on its Prometheus port only; pulsed also on the management one.
    status, ctype, text = fetch(broker, "/metrics", port=broker.http_port)
    assert status == 200 and ctype.startswith("text/plain")
    Scrape(text)
    assert fetch(broker, "/metrics/per-object", port=broker.http_port)[0] == 200
    assert fetch(broker, "/metrics/nope", port=broker.http_port)[0] == 404


def test_vhost_message_stats_are_per_vhost(broker, uname):
    api = HttpApi(broker)

    def publishes(vh):
        return (api.get("/api/vhosts/" + q(vh)).json.get("message_stats") or {}).get("publish", 0)

    before_root, before_test = publishes("/"), publishes("pulse-test")
    c = broker.connect(vhost="pulse-test")
    try:
        ch = c.channel()
        qname = uname("metvh")
        ch.queue_declare(qname)
        for i in range(4):
            ch.basic_publish("", qname, b"v")
        wait_for(lambda: publishes("pulse-test") - before_test == 4, timeout=20, interval=0.5)
        assert publishes("pulse-test") - before_test == 4
        assert publishes("/") == before_root
        ch.queue_delete(qname)
    finally:
        c.close()


def test_overview_and_vhost_message_stats(broker, uname):
    api = HttpApi(broker)
    qname = uname("metms")

    def stats(path):
        return api.get(path).json.get("message_stats") or {}

    o0, v0 = stats("/api/overview"), stats("/api/vhosts/%2F")
    c = broker.connect()
    try:
        ch = c.channel()
        ch.confirm_delivery()
        ch.queue_declare(qname)
        for i in range(6):
            ch.basic_publish("", qname, b"z")
        ch.basic_publish("", uname("nowhere"), b"dropped")
        for i in range(2):
            m, _, _ = ch.basic_get(qname)
            ch.basic_ack(m.delivery_tag)
        ch.basic_get(qname, auto_ack=True)

        def delta(now, then):
            return {k: now.get(k, 0) - then.get(k, 0)
                    for k in ("publish", "confirm", "drop_unroutable", "get", "get_no_ack",
                              "deliver_get", "ack", "redeliver")}
        want = {"publish": 7, "confirm": 7, "drop_unroutable": 1, "get": 2, "get_no_ack": 1,
                "deliver_get": 3, "ack": 2, "redeliver": 0}
        wait_for(lambda: delta(stats("/api/overview"), o0) == want
                 and delta(stats("/api/vhosts/%2F"), v0) == want, timeout=20, interval=0.5)
        assert delta(stats("/api/overview"), o0) == want
        assert delta(stats("/api/vhosts/%2F"), v0) == want
        # Rates come from the 5 s samples: a steady publisher shows as a positive rate.
        def rates_positive():
            ch.basic_publish("", qname, b"r")
            return (stats("/api/overview")["publish_details"]["rate"] > 0
                    and stats("/api/vhosts/%2F")["publish_details"]["rate"] > 0)
        wait_for(rates_positive, timeout=20, interval=0.2)
        ms = stats("/api/overview")
        for k in want:
            assert "rate" in ms[k + "_details"], k
        ch.queue_delete(qname)
    finally:
        c.close()
