"""The admin UI's queue pages in Debian's chromium against pulsed: the queue list (server-side
sort by the column headers, filter, add a queue with typed arguments), a queue's page (charts
that move while pika publishes, Get messages with and without requeue, Publish, Purge, add and
remove a binding, Delete naming the queue and its owner, a refused owner notice stopping the
delete), and the list's first page with 20,000 queues, timed."""
import re
import threading
import time
import uuid

import pika
import pytest

from harness.http_api import HttpApi, q
from harness.pulsed import PulsedBroker
from harness.ui import ui_fixture
from harness.util import wait_for

ui = pytest.fixture(ui_fixture)


def base(broker):
    return "http://127.0.0.1:%d" % broker.http_port


def page_of(broker, vhost, name):
    return "%s/#/queues/%s/%s" % (base(broker), q(vhost), q(name))


def owner_name():
    return "uiq" + uuid.uuid4().hex[:8]


def declare(api, name, **body):
    r = api.put("/api/queues/%2F/" + q(name), dict({"durable": True}, **body))
    assert r.status in (201, 204), r


def messages(api, name):
    r = api.get("/api/queues/%2F/" + q(name))
    assert r.status == 200, r
    return r.json["messages"]


def publish(broker, name, bodies, **props):
    c = broker.connect()
    try:
        ch = c.channel()
        for b in bodies:
            ch.basic_publish("", name, b, pika.BasicProperties(**props))
    finally:
        c.close()


@pytest.fixture
def queues(broker):
    """Names of queues the test declares; deleted after it."""
    made = []
    yield made
    api = HttpApi(broker)
    for n in made:
        api.delete("/api/queues/%2F/" + q(n))


def test_queue_page_charts_move_while_publishing(broker, ui, queues):
    api = HttpApi(broker)
    name = "queue/%s/rates" % owner_name()
    queues.append(name)
    declare(api, name)
    stop = threading.Event()

    def publisher():
        c = broker.connect()
        ch = c.channel()
        while not stop.is_set():
            for _ in range(10):
                ch.basic_publish("", name, b"tick")
            time.sleep(0.1)
        c.close()

    t = threading.Thread(target=publisher, daemon=True)
    t.start()
    try:
        ui.sign_in(base(broker), "guest", "guest")
        ui.goto(page_of(broker, "/", name))
        ui.wait(role="heading", name="Queue " + name)
        # Rates come from consecutive 5 s samples and the page refreshes every 5 s. (Polled from
        # here: waitForFunction evaluates strings in the page, which the UI's CSP refuses.)
        chart = lambda title: ui.attr("aria-label", role="img", name=title)  # noqa: E731
        wait_for(lambda: re.search(r"Published (?!0/s)[0-9]", chart("Message rates")), 40,
                 interval=0.5, msg="a non-zero published rate")
        wait_for(lambda: re.search(r"Total [1-9]", chart("Queued messages")), 20, interval=0.5,
                 msg="queued messages")
        published = ui.text(role="listitem", within={"role": "img", "name": "Message rates"}, nth=0)
        assert published.startswith("Published") and not published.endswith(" 0/s"), published
        facts = ui.text(role="region", name="Details")
        assert "Owner" in facts and name.split("/")[1] in facts, facts
        ui.screenshot("queue-page")
    finally:
        stop.set()
        t.join(10)


def test_delete_the_biggest_queue_from_its_page(broker, ui, queues):
    api = HttpApi(broker)
    owner = owner_name()
    sizes = {"small": 1, "middle": 5, "big": 3000}
    names = {k: "queue/%s/%s" % (owner, k) for k in sizes}
    for k, n in names.items():
        queues.append(n)
        declare(api, n)
        publish(broker, n, [b"m"] * sizes[k])
    wait_for(lambda: messages(api, names["big"]) == 3000, 10, msg="3000 messages")
    ui.sign_in(base(broker), "guest", "guest")
    ui.goto(base(broker) + "/#/queues")
    ui.wait(role="table", name="Queues")
    ui.click(role="button", name="Total", exact=True)
    assert ui.attr("aria-sort", role="columnheader", name="Total") == "descending"
    wait_for(lambda: (ui.rows(role="table", name="Queues") + [[0, 0]])[0][1] == names["big"], 10,
             interval=0.2, msg="the biggest queue first")
    assert "sort=messages" in ui.url() and "sort_reverse=true" in ui.url()
    first = ui.rows(role="table", name="Queues")[0]
    assert first[1] == names["big"] and first[2] == owner and first[8] == "3,000", first
    ui.screenshot("queues-list")

    ui.click(role="link", name=names["big"], exact=True)
    ui.wait(role="heading", name="Queue " + names["big"])
    ui.click(role="button", name="Delete queue")
    dialog = ui.text(role="dialog", name="Delete queue")
    assert names["big"] in dialog and "Owner: " + owner in dialog, dialog
    # A notice the server refuses (no such Pulse owner) shows its reason and keeps the queue.
    ui.check(label="Notify the owner first")
    ui.screenshot("delete-dialog")
    ui.click(role="button", name="Delete queue", within={"role": "dialog"})
    ui.wait(css="#toasts .toast.error")
    assert ui.text(css="#toasts .toast.error").strip()
    assert api.get("/api/queues/%2F/" + q(names["big"])).status == 200

    ui.click(role="button", name="Delete queue")
    ui.click(role="button", name="Delete queue", within={"role": "dialog"})
    ui.wait(role="heading", name="Queues")
    assert ui.url().endswith("#/queues")
    assert api.get("/api/queues/%2F/" + q(names["big"])).status == 404
    ui.fill(label="Filter", value=names["big"])
    ui.wait(text="Nothing to show")
    ui.fill(label="Filter", value=owner)
    ui.wait(role="link", name=names["middle"], exact=True)
    assert ui.count(role="link", name=names["big"], exact=True) == 0


def test_get_publish_purge_bind_on_the_queue_page(broker, ui, queues):
    api = HttpApi(broker)
    name = "queue/%s/ops" % owner_name()
    queues.append(name)
    declare(api, name)
    publish(broker, name, [b"first", b"second", b"third"], content_type="text/plain",
            headers={"trace": "abc"})
    wait_for(lambda: messages(api, name) == 3, 5, msg="3 messages")
    ui.sign_in(base(broker), "guest", "guest")
    ui.goto(page_of(broker, "/", name))
    ui.wait(role="heading", name="Queue " + name)

    # Get with requeue: the messages stay.
    ui.select(label="Ack mode", value="ack_requeue_true")
    ui.fill(label="Messages", exact=True, value="2")
    ui.click(role="button", name="Get messages")
    ui.wait(role="article", name="Message 2")
    m1 = ui.text(role="article", name="Message 1")
    assert "text/plain" in m1 and "trace" in m1 and "(default exchange)" in m1, m1
    assert ui.text(label="Payload of message 1") == "first"
    assert ui.text(label="Payload of message 2") == "second"
    ui.screenshot("get-messages")
    wait_for(lambda: messages(api, name) == 3, 5, msg="requeued")
    # Get without requeue: one is gone.
    ui.select(label="Ack mode", value="ack_requeue_false")
    ui.fill(label="Messages", exact=True, value="1")
    ui.click(role="button", name="Get messages")
    wait_for(lambda: ui.count(role="article", name="Message 2") == 0, 10, interval=0.2,
             msg="one message shown")
    assert ui.text(label="Payload of message 1") == "first"
    assert "Redelivered\tyes" in ui.text(role="article", name="Message 1").replace("\n", "\t")
    wait_for(lambda: messages(api, name) == 2, 5, msg="one removed")

    # Publish through the default exchange.
    ui.fill(label="Payload", exact=True, value="from the ui")
    ui.click(role="button", name="Publish message")
    ui.wait(text="Message published", exact=True)
    wait_for(lambda: messages(api, name) == 3, 5, msg="published")

    # Purge (confirmed).
    ui.click(role="button", name="Purge messages")
    ui.click(role="button", name="Purge", exact=True, within={"role": "dialog"})
    wait_for(lambda: messages(api, name) == 0, 5, msg="purged")

    # A binding from amq.direct, then removed.
    rk = "rk-" + uuid.uuid4().hex[:6]
    bindings = "/api/queues/%2F/" + q(name) + "/bindings"
    ui.fill(label="From exchange", value="amq.direct")
    ui.fill(label="Routing key", value=rk)
    ui.click(role="button", name="Bind", exact=True)
    ui.wait(role="cell", name=rk)
    assert any(b["source"] == "amq.direct" and b["routing_key"] == rk
               for b in api.get(bindings).json)
    ui.click(role="button", name="Unbind from amq.direct (%s)" % rk)
    ui.click(role="button", name="Unbind", exact=True, within={"role": "dialog"})
    ui.wait(role="cell", name=rk, state="detached")
    assert not any(b["source"] == "amq.direct" for b in api.get(bindings).json)
    # A binding from an exchange that does not exist: the server's reason.
    ui.fill(label="From exchange", value="no-such-" + rk)
    ui.click(role="button", name="Bind", exact=True)
    ui.wait(css="#toasts .toast.error")
    assert "no-such-" + rk in ui.text(css="#toasts .toast.error")


def test_add_a_queue_with_arguments(broker, ui, queues):
    api = HttpApi(broker)
    name = "queue/%s/added" % owner_name()
    queues.append(name)
    ui.sign_in(base(broker), "guest", "guest")
    ui.goto(base(broker) + "/#/queues")
    ui.wait(role="table", name="Queues")
    ui.fill(label="Queue name", value=name)
    ui.click(role="button", name="Add argument")
    ui.fill(label="Argument 1 key", value="x-max-length")
    ui.select(label="Argument 1 type", value="Number")
    ui.fill(label="Argument 1 value", value="ten")
    ui.click(role="button", name="Add queue")
    ui.text_with("not a number", role="alert", within={"role": "form", "name": "Add a queue"})
    assert api.get("/api/queues/%2F/" + q(name)).status == 404
    ui.fill(label="Argument 1 value", value="10")
    ui.click(role="button", name="Add argument")
    ui.fill(label="Argument 2 key", value="x-dead-letter-exchange")
    ui.fill(label="Argument 2 value", value="amq.fanout")
    ui.click(role="button", name="Add argument")
    ui.fill(label="Argument 3 key", value="x-single-active-consumer")
    ui.select(label="Argument 3 type", value="Boolean")
    ui.fill(label="Argument 3 value", value="true")
    ui.screenshot("add-queue-form")
    ui.click(role="button", name="Add queue")
    ui.wait(text="Queue %s added" % name)
    r = api.get("/api/queues/%2F/" + q(name))
    assert r.status == 200
    assert r.json["arguments"] == {"x-max-length": 10, "x-dead-letter-exchange": "amq.fanout",
                                   "x-single-active-consumer": True}
    assert r.json["durable"] is True and r.json["auto_delete"] is False
    ui.fill(label="Filter", value=name)
    # The unfiltered list may show the new queue too: wait for the filtered one.
    rows = wait_for(lambda: (lambda r: r if len(r) == 1 else None)(
        ui.rows(role="table", name="Queues")), timeout=15, interval=0.2)
    row = rows[0]
    assert row[1] == name and "D" in row[4] and "Lim" in row[4] and "DLX" in row[4], row
    # One vhost's list: no vhost column.
    ui.goto(base(broker) + "/#/queues/%2F?name=" + q(name))
    ui.wait(role="table", name="Queues in /")
    ui.wait(role="link", name=name, exact=True)
    assert ui.count(role="columnheader", name="Virtual host") == 0
    # A refused declaration shows the server's reason.
    ui.fill(label="Queue name", value=name)
    ui.select(label="Durability", value="false")
    ui.click(role="button", name="Add queue")
    ui.text_with("inequivalent", role="alert", within={"role": "form", "name": "Add a queue"})


def test_first_page_of_20000_queues_sorted_by_messages(ui):
    b = PulsedBroker().start()
    try:
        api = HttpApi(b)
        n = 20000
        defs = {"queues": [{"name": "load-%05d" % i, "vhost": "/", "durable": False,
                            "auto_delete": False, "arguments": {}} for i in range(n)]}
        t0 = time.time()
        r = api.post("/api/definitions", defs)
        assert r.status in (200, 201, 204), r
        print("\nloaded %d queues in %.1f s" % (n, time.time() - t0))
        publish(b, "load-12345", [b"x"] * 7)
        publish(b, "load-00042", [b"x"] * 3)
        wait_for(lambda: messages(api, "load-12345") == 7, 10, msg="7 messages")
        cols = ("vhost,name,type,durable,auto_delete,exclusive,arguments,policy,state,idle_since,"
                "messages_ready,messages_unacknowledged,messages,"
                "message_stats.publish_details.rate,message_stats.deliver_get_details.rate,"
                "message_stats.ack_details.rate,consumers")
        url = ("/api/queues?page=1&page_size=50&pagination=true&sort=messages&sort_reverse=true"
               "&columns=" + cols)
        best = None
        for _ in range(5):
            t0 = time.time()
            r = api.get(url)
            dt = time.time() - t0
            best = dt if best is None else min(best, dt)
            assert r.status == 200 and r.json["total_count"] == n
            assert [x["name"] for x in r.json["items"][:2]] == ["load-12345", "load-00042"]
        ui.sign_in(base(b), "guest", "guest")
        ui.wait(role="heading", name="Overview")
        t0 = time.time()
        ui.goto(base(b) + "/#/queues?sort=messages&sort_reverse=true")
        ui.wait(role="link", name="load-12345", exact=True)
        page = time.time() - t0
        rows = ui.rows(role="table", name="Queues")
        assert len(rows) == 50 and rows[1][1] == "load-00042"
        ui.wait(text="20,000 in all")
        ui.screenshot("queues-20000")
        print("20000 queues, first page sorted by messages: API %.0f ms (best of 5), page %.0f ms"
              % (best * 1000, page * 1000))
        # The machine running the suite is shared: bounds with room, the figures are printed.
        assert best < 1.0, best
        assert page < 4.0, page
    finally:
        b.stop()
