"""Start/stop the broker under test: pulsed or a private RabbitMQ node. The tests import from
here; the pieces live in broker_base.py (shared), pulsed.py and rabbitmq.py."""
from harness.broker_base import (DEFINITIONS, HOST, INTEG_DIR, REPO, BrokerHandle, _port_open,
                                 free_port, host_port, ipv6_loopback_available, target_name)
from harness.pulsed import (PulsedBroker, built_tool, pulsed_binary, run_pulsed_until_exit,
                            tool_binary)
from harness.rabbitmq import RABBIT_BIN, RabbitBroker

__all__ = ["DEFINITIONS", "HOST", "INTEG_DIR", "REPO", "RABBIT_BIN", "BrokerHandle", "PulsedBroker",
           "RabbitBroker", "_port_open", "built_tool", "free_port", "host_port",
           "ipv6_loopback_available", "make_broker", "pulsed_binary", "run_pulsed_until_exit",
           "target_name", "tool_binary"]


def make_broker(config=None):
    cls = RabbitBroker if target_name() == "rabbitmq" else PulsedBroker
    return cls(config)
