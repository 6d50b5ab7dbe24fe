"""A short live fuzz run (see fuzz_live.py): hostile raw clients must not crash the broker nor
cost a well-behaved client any message.

PULSE_FUZZ_SECONDS (default 10) and PULSE_FUZZ_SEED (default: random, printed on failure)
tune the run; for long runs use fuzz_live.py directly.
"""
import os
import random

import fuzz_live

# A broker of its own: fuzzing leaves queues and exchanges behind and must not disturb the
# shared session broker. The setting is RabbitMQ's default max message size made explicit.
FUZZ_CONFIG = {"max_message_size": 134217728}


def test_fuzz_live(broker_with):
    b = broker_with(FUZZ_CONFIG)
    seconds = float(os.environ.get("PULSE_FUZZ_SECONDS", "10"))
    seed = int(os.environ.get("PULSE_FUZZ_SEED", random.randrange(1 << 30)))
    lines = []

    def alive():
        return b.target != "pulsed" or b.proc.poll() is None

    problems = fuzz_live.run_fuzz(b.port, seconds, seed, clients=6, max_connections=2000,
                                  log=lines.append, broker_alive=alive)
    if b.target == "pulsed":
        problems += ["sanitizer report:\n" + h for h in fuzz_live.scan_log(b.log_path)]
    assert not problems, "fuzz seed %d (%s):\n%s\n%s" % (
        seed, "\n".join(lines), "\n".join(problems), b.log_tail(40))
