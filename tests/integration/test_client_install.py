"""The client library as another project uses it (packaging/client_library.cmake, examples/).

Installs the build under test's `dev` component into a temporary prefix, then, with nothing from
the source tree but a copy of examples/:
- configures and builds examples/ out of tree with find_package(PulseClient) (CMAKE_PREFIX_PATH);
- compiles a small program with `pkg-config --cflags --libs pulse-client` (PKG_CONFIG_PATH);
and runs them against the broker: the example consumer prints what the example publisher and
the pkg-config program published; a pika queue bound beside it sees the Pulse envelope; the
consumer recovers from a connection force-closed through the management API.
"""
import json
import os
import shutil
import subprocess
import time

import pytest

from harness.broker import REPO
from harness.http_api import q
from harness.util import unique, wait_for

# The pkg-config program: one message with pulse::Publisher (envelope, confirm), and the pure
# helpers, so that every installed archive is needed at link time.
PKG_CONFIG_PROGRAM = r"""
#include <iostream>

#include "client/options.h"
#include "pulse/endpoints.h"
#include "pulse/publisher.h"
#include "pulse/routing.h"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  auto endpoints = pulse::parse_uri_list(argv[1]);
  if (!endpoints) return 2;
  pulse::PublisherOptions options;
  options.recovery.endpoints = *endpoints;
  pulse::Publisher publisher(options);
  auto st = publisher.publish(argv[2], "example.pkgconfig",
                              {{"from", "pkg-config"}, {"id", pulse::uuid4()}});
  if (!st) {
    std::cerr << st.error().text << "\n";
    return 1;
  }
  std::cout << "confirmed" << std::endl;
  return 0;
}
"""


def build_dir():
    pulsed = os.environ.get("PULSED_BIN")
    if pulsed:
        return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(pulsed))))
    return os.path.join(REPO, "build")


def run(*cmd, timeout=120, **kw):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                       **kw)
    assert p.returncode == 0, "%s -> %d\n%s\n%s" % (" ".join(map(str, cmd)), p.returncode,
                                                   p.stdout, p.stderr)
    return p


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(prefix, environment for builds) after `cmake --install --component dev`."""
    root = tmp_path_factory.mktemp("client-install")
    prefix = root / "prefix"
    build = build_dir()
    assert os.path.exists(os.path.join(build, "cmake_install.cmake")), "configure %s" % build
    run("cmake", "--install", build, "--prefix", prefix, "--component", "dev")
    env = dict(os.environ)
    # Paths under the temporary root are made relative in ccache's hash, so a rerun hits.
    env["CCACHE_BASEDIR"] = str(root)
    env["PKG_CONFIG_PATH"] = str(prefix / "lib" / "pkgconfig")
    yield root, prefix, env
    shutil.rmtree(root, ignore_errors=True)


def test_install_holds_the_public_interface_only(installed):
    _root, prefix, _env = installed
    inc = prefix / "include" / "pulse-client"
    for h in ("pulse/publisher.h", "pulse/consumer.h", "pulse/envelope.h", "pulse/routing.h",
              "pulse/endpoints.h", "pulse/recovery.h", "pulse/backoff.h", "client/connection.h",
              "client/channel.h", "client/options.h", "base/result.h",
              "amqp/generated/properties.h"):
        assert (inc / h).is_file(), h
    # Nothing the interface does not include: no implementation-only or server headers.
    headers = sorted(str(p.relative_to(inc)) for p in inc.rglob("*.h"))
    assert not any(h.startswith(("broker/", "server/", "http/", "store/")) for h in headers)
    assert "pulse/session.h" not in headers and "base/listen.h" not in headers, headers
    for lib in ("pulse_layer", "pulse_client", "pulse_amqp", "pulse_base"):
        assert (prefix / "lib" / ("lib%s.a" % lib)).is_file(), lib
    assert (prefix / "lib" / "cmake" / "PulseClient" / "PulseClientConfig.cmake").is_file()
    assert not (prefix / "sbin").exists() and not (prefix / "bin").exists()
    pc = run("pkg-config", "--modversion", "pulse-client", env=installed[2]).stdout.strip()
    with open(os.path.join(REPO, "CMakeLists.txt")) as f:
        assert "project(pulse VERSION %s " % pc in f.read()


@pytest.fixture(scope="module")
def examples(installed):
    """The example binaries, built from a copy of examples/ against the install only."""
    root, prefix, env = installed
    src = root / "examples-src"
    shutil.copytree(os.path.join(REPO, "examples"), src)
    out = root / "examples-build"
    run("cmake", "-S", src, "-B", out, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
        "-DCMAKE_PREFIX_PATH=%s" % prefix, "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache", env=env)
    run("cmake", "--build", out, "-j2", timeout=300, env=env)
    # The include path is the install's, never the source tree's.
    commands = run("ninja", "-C", out, "-t", "commands").stdout
    assert str(prefix / "include" / "pulse-client") in commands
    assert os.path.join(REPO, "src") not in commands
    return out / "pulse-example-publisher", out / "pulse-example-consumer"


@pytest.fixture(scope="module")
def pkg_config_program(installed):
    root, _prefix, env = installed
    source = root / "pkgconfig_publish.cc"
    source.write_text(PKG_CONFIG_PROGRAM)
    flags = run("pkg-config", "--cflags", "--libs", "pulse-client", env=env).stdout.split()
    binary = root / "pkgconfig_publish"
    run("ccache", "g++", "-std=c++20", "-O1", source, "-o", binary, *flags, timeout=300, env=env)
    return binary


def declare_exchange(broker):
    """A fresh exchange: consumers declare exchanges passively, so it must exist first."""
    exchange = "exchange/guest/" + unique("examples")
    conn = broker.connect()
    try:
        conn.channel().exchange_declare(exchange, "topic", durable=True)
    finally:
        conn.close()
    return exchange


class ConsumerProcess:
    """The example consumer, its stdout and stderr in files; started once it is listening."""

    def __init__(self, binary, tmp_path, *args):
        self.out_path, self.err_path = tmp_path / "consumer.out", tmp_path / "consumer.err"
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen([str(binary), *args], stdout=out, stderr=err)

    def __enter__(self):
        try:
            wait_for(lambda: "listening on queue/guest/" in self.err(), timeout=15,
                     msg="the consumer to listen")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def err(self):
        return self.err_path.read_text()

    def lines(self):
        return [json.loads(line) for line in self.out_path.read_text().splitlines()]

    def wait(self, timeout=20):
        """Exit status 0 within `timeout`, else the assertion shows stderr."""
        self.proc.wait(timeout=timeout)
        assert self.proc.returncode == 0, self.err()


def test_examples_and_pkg_config_program_against_the_broker(broker, examples,
                                                            pkg_config_program, tmp_path):
    publisher, consumer = examples
    exchange = declare_exchange(broker)
    uri = broker.url()
    # A pika queue beside the consumer shows what went over the wire.
    conn = broker.connect()
    try:
        ch = conn.channel()
        spy = ch.queue_declare("", exclusive=True).method.queue
        ch.queue_bind(spy, exchange, "example.#")

        with ConsumerProcess(consumer, tmp_path, "--uri", uri, "--exchange", exchange,
                             "--topic", "example.#", "--count", "4") as c:
            p = run(publisher, "--uri", uri, "--exchange", exchange, "--count", "3", timeout=30)
            assert p.stdout.splitlines() == [
                "confirmed %d/3 on %s (example.hello)" % (i, exchange) for i in (1, 2, 3)]
            assert run(pkg_config_program, uri, exchange, timeout=30).stdout == "confirmed\n"
            c.wait()
        lines = c.lines()
        assert lines[:3] == [{"n": i, "of": 3, "text": "hello from Pulse"} for i in (1, 2, 3)]
        assert len(lines) == 4 and lines[3]["from"] == "pkg-config", lines
        assert "4 messages" in c.err()

        got = []
        deadline = time.time() + 10
        while len(got) < 4 and time.time() < deadline:
            method, props, body = ch.basic_get(spy, auto_ack=True)
            if method is None:
                time.sleep(0.05)
                continue
            got.append((method.routing_key, props, json.loads(body)))
        assert len(got) == 4
        for key, props, body in got:
            assert props.content_type == "application/json"
            assert props.delivery_mode == 2
            assert set(body) == {"payload", "_meta"}
            meta = body["_meta"]
            assert meta["exchange"] == exchange and meta["routing_key"] == key
            assert meta["serializer"] == "json"
        assert [k for k, _, _ in got] == ["example.hello"] * 3 + ["example.pkgconfig"]
    finally:
        conn.close()


def test_consumer_recovers_from_a_forced_close(broker, api, examples, tmp_path):
    """The installed library recovers: the consumer's connection closed through the management
    API (CONNECTION_FORCED), it reconnects, re-binds and gets the next messages."""
    publisher, consumer = examples
    exchange = declare_exchange(broker)
    with ConsumerProcess(consumer, tmp_path, "--uri", broker.url(), "--exchange", exchange,
                         "--count", "3") as c:
        run(publisher, "--uri", broker.url(), "--exchange", exchange, "--count", "1", timeout=30)
        # Handled before the close: the queue is not durable, so it goes with the connection.
        wait_for(lambda: len(c.lines()) == 1, timeout=10, msg="the first message")

        def ours():
            listing = api.get("/api/connections").json or []
            return [x["name"] for x in listing
                    if (x.get("client_properties") or {}).get("product") == "Pulse client"]
        names = wait_for(ours, timeout=15, msg="the consumer's connection in the API")
        # The publisher's closed connection may still be listed for a moment (RabbitMQ's
        # statistics lag): 404 for that one.
        statuses = [api.delete("/api/connections/" + q(name), headers={"X-Reason": "test"}).status
                    for name in names]
        assert 204 in statuses and set(statuses) <= {204, 404}, statuses
        wait_for(lambda: "recovered on" in c.err(), timeout=15, msg="the consumer to recover")
        run(publisher, "--uri", broker.url(), "--exchange", exchange, "--count", "2", timeout=30)
        c.wait()
    assert "connection lost: " in c.err() and "CONNECTION_FORCED" in c.err(), c.err()
    # The one sent before the close, then both sent after the recovery.
    assert [(m["n"], m["of"]) for m in c.lines()] == [(1, 1), (1, 2), (2, 2)]


def test_consumer_stops_on_sigint(broker, examples, tmp_path):
    _publisher, consumer = examples
    exchange = declare_exchange(broker)
    with ConsumerProcess(consumer, tmp_path, "--uri", broker.url(), "--exchange", exchange) as c:
        c.proc.send_signal(2)
        c.wait(timeout=5)
    assert "0 messages" in c.err()


def test_consumer_reports_a_missing_exchange(broker, examples):
    """Before the first start a refusal is final: the user sees RabbitMQ's 404 text."""
    _publisher, consumer = examples
    p = subprocess.run([str(consumer), "--uri", broker.url(), "--exchange",
                        "exchange/guest/" + unique("missing")],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p.stderr
    assert "NOT_FOUND - no exchange 'exchange/guest/missing." in p.stderr


def test_examples_usage_errors(examples):
    publisher, consumer = examples
    for cmd, why in (([publisher, "--count", "x"], "--count must be a number >= 0"),
                     ([consumer, "--topik", "a"], "unknown option '--topik'"),
                     ([consumer, "--uri", "http://h"], "the scheme must be amqp:// or amqps://"),
                     ([publisher, "--exchange"], "--exchange needs a value")):
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=10)
        assert p.returncode == 2, (cmd, p.stderr)
        assert why in p.stderr and "usage: pulse-example-" in p.stderr, p.stderr
