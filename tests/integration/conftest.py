import json
import os
import shutil
import sys
import tempfile

import pika
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness.broker import DEFINITIONS, PulsedBroker, make_broker, target_name  # noqa: E402
from harness.defs import merged  # noqa: E402
from harness.http_api import HttpApi  # noqa: E402
from harness.pulse_targets import PulseTarget, broker_for  # noqa: E402
from harness.util import unique  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "rabbitmq_only: test runs only against RabbitMQ")
    config.addinivalue_line("markers", "pulsed_only: test runs only against pulsed")


def pytest_collection_modifyitems(config, items):
    t = target_name()
    for item in items:
        if t != "rabbitmq" and item.get_closest_marker("rabbitmq_only"):
            item.add_marker(pytest.mark.skip(reason="RabbitMQ-only test"))
        if t != "pulsed" and item.get_closest_marker("pulsed_only"):
            item.add_marker(pytest.mark.skip(reason="pulsed-only test"))


def pytest_report_header(config):
    return "pulse integration target: %s" % target_name()


_brokers = {}


def _start(config):
    key = tuple(sorted((k, str(v)) for k, v in (config or {}).items()))
    b = _brokers.get(key)
    if b is None:
        b = make_broker(config).start()
        _brokers[key] = b
    return b


@pytest.fixture(scope="session")
def definitions_path():
    return DEFINITIONS


@pytest.fixture(scope="session")
def _broker_registry():
    yield _brokers
    errors = []
    for b in list(_brokers.values()):
        try:
            b.stop()
        except Exception as e:  # noqa
            errors.append("%r: %s" % (b, e))
    _brokers.clear()
    if errors:
        raise RuntimeError("broker shutdown failed:\n" + "\n".join(errors))


@pytest.fixture(scope="session")
def broker(_broker_registry):
    return _start({})


@pytest.fixture(scope="session")
def broker_with(_broker_registry):
    def factory(config):
        return _start(dict(config))
    return factory


@pytest.fixture(scope="session")
def broker_with_definitions(_broker_registry, request):
    """broker_with_definitions(extra) -> a broker that has the RabbitMQ definitions `extra`
    (a dict in the export format) loaded besides fixtures/definitions.json. pulsed boots a
    node of its own with both (--definitions); RabbitMQ imports `extra` into the session node
    (rabbitmqctl import_definitions), so names in `extra` must be unique to their tests."""
    tmp = tempfile.mkdtemp(prefix="pulse-it-defs-")

    def factory(extra):
        key = ("definitions", json.dumps(extra, sort_keys=True))
        b = _brokers.get(key)
        if b is not None:
            return b
        path = os.path.join(tmp, "defs-%d.json" % len(_brokers))
        if target_name() == "rabbitmq":
            with open(path, "w") as f:
                json.dump(extra, f)
            b = request.getfixturevalue("broker")
            b.import_definitions(path)
        else:
            with open(path, "w") as f:
                json.dump(merged(extra), f)
            b = PulsedBroker(definitions_path=path).start()
        _brokers[key] = b
        return b
    yield factory
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def conn(broker):
    c = broker.connect()
    yield c
    try:
        if c.is_open:
            c.close()
    except Exception:
        pass


@pytest.fixture
def ch(conn):
    return conn.channel()


@pytest.fixture
def api(broker):
    """The management API of the test's broker, as guest."""
    return HttpApi(broker)


@pytest.fixture
def uname():
    return unique


@pytest.fixture(scope="session", params=["pulsed", "rabbitmq"])
def pulse_target(request, _broker_registry):
    """harness.pulse_targets.PulseTarget for each broker, in one normal run: pulsed (the session
    broker) and RabbitMQ (a private node with management, booted once per session; the session
    broker in a RabbitMQ run, where the pulsed half is skipped)."""
    b = broker_for(request.param, _brokers, lambda: request.getfixturevalue("broker"))
    if b is None:
        pytest.skip("pulsed is tested in the default (pulsed) run")
    return PulseTarget(request.param, b)
