import time
import uuid


def wait_for(pred, timeout=5.0, interval=0.02, msg="condition"):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out waiting for %s" % msg)
        time.sleep(interval)


def unique(prefix="t"):
    return "%s.%s" % (prefix, uuid.uuid4().hex[:10])
