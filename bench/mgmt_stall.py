"""How long do management requests stall message flow? (design §2, issue 5)

Opens N idle AMQP connections (every --consumer-every'th also opens a channel with a consumer
on one queue), optionally declares --queues idle queues, then for each endpoint: a probe
process makes confirmed publish + basic.get round trips in a loop while this process sends the
endpoint's requests one after another; the report is the worst gap between two round trips
while the requests ran (and the same for a quiet window without requests, the baseline).

Standard library only; the probe runs in its own process so that reading big HTTP answers here
never holds up its round trips. Run: /usr/bin/python3 bench/mgmt_stall.py --help
"""
import argparse
import base64
import http.client
import json
import multiprocessing
import os
import socket
import struct
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import amqp_min  # noqa: E402
from amqp_min import Client, _shortstr  # noqa: E402

_create_connection = socket.create_connection


def _nodelay_connection(*args, **kwargs):
    # amqp_min writes a method, a header and a body separately: without TCP_NODELAY, Nagle and
    # delayed acks turn each round trip into 40 ms.
    sock = _create_connection(*args, **kwargs)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


amqp_min.socket.create_connection = _nodelay_connection


def handshake(host, port, channel_and_consume=None):
    """An AMQP connection left idle (heartbeat 0). With a queue name: channel 1 consumes it."""
    c = Client(host, port)  # opens channel 1 too
    if channel_and_consume:
        # basic.consume(ticket, queue, tag "", no-local, no-ack, exclusive, nowait, args)
        c._send_method(1, 60, 20, struct.pack(">H", 0) + _shortstr(channel_and_consume)
                       + _shortstr("") + b"\x00" + struct.pack(">I", 0))
        c._expect(1, 60, 21)
    return c


def probe(host, port, queue, out, stop):
    """Confirmed publish + basic.get round trips until `stop`; sends the completion times."""
    c = Client(host, port)
    exclusive_auto_delete = b"\x0c"
    c._send_method(1, 50, 10, struct.pack(">H", 0) + _shortstr(queue) + exclusive_auto_delete
                   + struct.pack(">I", 0))
    c._expect(1, 50, 11)
    c._send_method(1, 85, 10, b"\x00")  # confirm.select
    c._expect(1, 85, 11)
    done = []
    body = b"x"
    while not stop.is_set():
        c._send_method(1, 60, 40, struct.pack(">H", 0) + _shortstr("") + _shortstr(queue) + b"\x00")
        header = struct.pack(">HHQH", 60, 0, len(body), 0)
        c.sock.sendall(struct.pack(">BHI", 2, 1, len(header)) + header + b"\xce"
                       + struct.pack(">BHI", 3, 1, len(body)) + body + b"\xce")
        c._expect(1, 60, 80)  # basic.ack (confirm)
        assert c.basic_get(queue)
        done.append(time.monotonic())
    out.send(done)


class Probe:
    def __init__(self, host, port, queue):
        self.rx, tx = multiprocessing.Pipe(duplex=False)
        self.stop = multiprocessing.Event()
        self.p = multiprocessing.Process(target=probe, args=(host, port, queue, tx, self.stop))
        self.p.start()

    def finish(self):
        self.stop.set()
        done = self.rx.recv()
        self.p.join()
        return done


def worst_gap(times, start, end):
    inside = [t for t in times if start <= t <= end]
    before = [t for t in times if t < start]
    after = [t for t in times if t > end]
    edges = ([before[-1]] if before else []) + inside + ([after[0]] if after else [])
    gaps = [b - a for a, b in zip(edges, edges[1:])]
    return max(gaps) if gaps else float("nan"), len(inside)


class Http:
    def __init__(self, host, port):
        self.c = http.client.HTTPConnection(host, port, timeout=600)
        self.auth = "Basic " + base64.b64encode(b"guest:guest").decode()

    def request(self, method, path, body=None):
        headers = {"Authorization": self.auth}
        if body is not None:
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.c.request(method, path, body=body, headers=headers)
        r = self.c.getresponse()
        data = r.read()
        return r.status, data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5672)
    ap.add_argument("--http-port", type=int, default=15672)
    ap.add_argument("--prometheus-port", type=int, default=15692)
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--consumer-every", type=int, default=10)
    ap.add_argument("--queues", type=int, default=0, help="idle queues to import first")
    ap.add_argument("--repeat", type=int, default=5, help="requests per endpoint")
    ap.add_argument("--only", default="", help="comma-separated endpoint labels")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    api = Http(a.host, a.http_port)
    cq = "stall.consumed"
    setup = Client(a.host, a.port)
    setup._send_method(1, 50, 10, struct.pack(">H", 0) + _shortstr(cq) + b"\x00"
                       + struct.pack(">I", 0))
    setup._expect(1, 50, 11)
    if a.queues:
        print("vhost:", api.request("PUT", "/api/vhosts/stall", {})[0], file=sys.stderr)
        api.request("PUT", "/api/permissions/stall/guest",
                    {"configure": ".*", "write": ".*", "read": ".*"})
        defs = {"queues": [{"name": "q%06d" % i, "durable": False, "auto_delete": False,
                            "arguments": {}} for i in range(a.queues)]}
        t = time.monotonic()
        st, _ = api.request("POST", "/api/definitions/stall", defs)
        print("imported %d queues: %s in %.1f s" % (a.queues, st, time.monotonic() - t),
              file=sys.stderr)

    t = time.monotonic()
    conns = []
    for i in range(a.connections):
        consume = cq if a.consumer_every and i % a.consumer_every == 0 else None
        conns.append(handshake(a.host, a.port, consume))
    print("opened %d connections in %.1f s" % (len(conns), time.monotonic() - t), file=sys.stderr)

    # A connection name and a channel name to fetch one of.
    _, body = api.request("GET", "/api/connections?page=1&page_size=1&columns=name")
    cname = json.loads(body)["items"][0]["name"]
    qname = urllib.parse.quote(cname, safe="")
    chname = urllib.parse.quote(cname + " (1)", safe="")

    endpoints = [
        ("quiet", None, None),
        ("GET /api/connections/{name}", "GET", "/api/connections/" + qname),
        ("GET /api/connections/{name}/channels", "GET",
         "/api/connections/%s/channels" % qname),
        ("GET /api/channels/{name}", "GET", "/api/channels/" + chname),
        ("GET /api/queues/%2F/{consumed}", "GET", "/api/queues/%2F/" + cq),
        ("GET /api/connections/username/guest", "GET", "/api/connections/username/guest"),
        ("GET /api/connections", "GET", "/api/connections"),
        ("GET /api/channels", "GET", "/api/channels"),
        ("GET /api/consumers", "GET", "/api/consumers"),
        ("GET /api/overview", "GET", "/api/overview"),
        ("GET /api/vhosts", "GET", "/api/vhosts"),
        ("GET /api/nodes", "GET", "/api/nodes"),
        ("GET /api/health/checks/alarms", "GET", "/api/health/checks/alarms"),
        ("GET /metrics", "GET", "/metrics"),
        ("GET /metrics/per-object", "GET", "/metrics/per-object"),
    ]
    if a.queues:
        endpoints += [
            ("GET /api/queues (full)", "GET", "/api/queues"),
            ("GET /api/queues?page=1 (paged)", "GET",
             "/api/queues?page=1&page_size=100&sort=name"),
        ]
    only = set(x for x in a.only.split(",") if x)
    results = []
    for i, (label, method, path) in enumerate(endpoints):
        if only and label not in only and label != "quiet":
            continue
        probe_proc = Probe(a.host, a.port, "stall.probe.%d" % i)
        time.sleep(0.5)  # warm up
        start = time.monotonic()
        took = []
        statuses = set()
        if method is None:
            time.sleep(2)
        else:
            for _ in range(a.repeat):
                t0 = time.monotonic()
                if path.startswith("/metrics"):
                    pc = http.client.HTTPConnection(a.host, a.prometheus_port, timeout=600)
                    pc.request("GET", path)
                    r = pc.getresponse()
                    r.read()
                    statuses.add(r.status)
                    pc.close()
                else:
                    st, _ = api.request(method, path)
                    statuses.add(st)
                took.append(time.monotonic() - t0)
        end = time.monotonic()
        time.sleep(0.2)
        done = probe_proc.finish()
        gap, trips = worst_gap(done, start, end)
        row = {"endpoint": label, "status": sorted(statuses), "worst_gap_ms": round(gap * 1e3, 2),
               "round_trips": trips,
               "request_ms_max": round(max(took) * 1e3, 1) if took else None}
        results.append(row)
        print("%-42s status %-6s worst gap %8.2f ms  trips %6d  request max %s ms" % (
            label, ",".join(map(str, sorted(statuses))), gap * 1e3, trips,
            row["request_ms_max"]), file=sys.stderr)
    if a.json:
        print(json.dumps({"load": os.getloadavg(), "connections": a.connections,
                          "queues": a.queues, "results": results}))
    if a.queues:
        api.request("DELETE", "/api/vhosts/stall")
    for c in conns:
        c.sock.close()


if __name__ == "__main__":
    main()
