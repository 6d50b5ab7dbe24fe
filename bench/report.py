"""Turning Results into the table (terminal and bench/RESULTS.md) and checking the targets."""
import statistics

MiB = 1024 * 1024


def median(values):
    return statistics.median(values) if values else None


def fmt(v, unit=""):
    if v is None:
        return "—"
    if unit in ("msg/s", "ops/s", "queues/s"):
        return "%.0f" % v if v < 1000 else "{:,.0f}".format(v)
    if unit == "s":
        return "%.2f" % v
    if abs(v) >= 100:
        return "%.0f" % v
    return "%.1f" % v if abs(v) >= 10 else "%.2f" % v


def _sort_key(k):
    return int(k.partition(".")[0])


def rows(results):
    """[(label, unit, pulsed, rabbit, ratio, pulsed cpu, rabbit cpu, rounds)] with medians."""
    out = []
    for key in sorted(results.figures, key=_sort_key):
        f = results.figures[key]
        if "sink" in f["values"]:
            continue
        p = median(f["values"].get("pulsed", []))
        r = median(f["values"].get("rabbitmq", []))
        ratio = p / r if p is not None and r else None
        out.append((key, f["label"], f["unit"], p, r, ratio,
                    median(f["cpu"].get("pulsed", [])), median(f["cpu"].get("rabbitmq", [])),
                    len(f["values"].get("pulsed", []))))
    return out


def table(results):
    lines = ["| figure | unit | pulsed | RabbitMQ | ratio pulsed/RabbitMQ "
             "| pulsed CPU µs/msg | RabbitMQ CPU µs/msg |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for _k, label, unit, p, r, ratio, pc, rc, _n in rows(results):
        lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            label, unit, fmt(p, unit), fmt(r, unit),
            "—" if ratio is None else "%.2f×" % ratio, fmt(pc), fmt(rc)))
    return "\n".join(lines)


def sink_table(results):
    lines = []
    for key in sorted(results.figures, key=_sort_key):
        f = results.figures[key]
        if "sink" in f["values"]:
            lines.append("| %s | %s %s |" % (f["label"], fmt(median(f["values"]["sink"]),
                                                               f["unit"]), f["unit"]))
    if not lines:
        return ""
    return "\n".join(["| machine limits (the client against bench/sink.cc) | median |",
                      "| --- | ---: |"] + lines)


def _get(results, key, broker, cpu=False):
    f = results.figures.get(key)
    if not f:
        return None
    return median((f["cpu"] if cpu else f["values"]).get(broker, []))


def targets(results):
    """[(target, measured, met)] for the targets of issues 4 and 18 whose figures were
    measured."""
    g = lambda k, b="pulsed", cpu=False: _get(results, k, b, cpu)  # noqa: E731
    out = []

    def check(name, measured, ok, have):
        if have:
            out.append((name, measured, "met" if ok else "**missed**"))

    p, r = g("1"), g("1", "rabbitmq")
    check("S1 consumed rate ≥ 4× RabbitMQ's", "%s× (%s vs %s msg/s)" % (
        "%.2f" % (p / r) if p and r else "—", fmt(p, "msg/s"), fmt(r, "msg/s")),
        p and r and p >= 4 * r, p is not None and r is not None)
    c = g("1", cpu=True)
    check("S1 broker CPU ≤ 2.3 µs/msg", "%s µs/msg" % fmt(c), c is not None and c <= 2.3,
          c is not None)
    p = g("3")
    check("S3 ≥ 120k msg/s confirmed", "%s msg/s" % fmt(p, "msg/s"), p is not None and
          p >= 120000, p is not None)
    p, r, f = g("6.1k.p99"), g("6.1k.p99", "rabbitmq"), g("6.floor.p99", "sink")
    check("latency p99 at 1k msg/s ≤ ⅕ of RabbitMQ's", "%s vs %s µs (%s)%s" % (
        fmt(p), fmt(r), "%.2f×" % (p / r) if p and r else "—",
        "; the sink's relay: %s µs" % fmt(f) if f is not None else ""),
        p is not None and r and p * 5 <= r, p is not None and r is not None)
    p = g("7.per_conn")
    check("≤ 10 KiB per idle connection", "%s KiB" % fmt(p), p is not None and p <= 10,
          p is not None)
    p = g("7.idle")
    check("idle RSS ≤ 10 MiB", "%s MiB" % fmt(p), p is not None and p <= 10, p is not None)
    p = g("7.per_msg")
    check("≤ 100 B resident per queued 16 B message", "%s B" % fmt(p),
          p is not None and p <= 100, p is not None)
    p, r = g("8"), g("8", "rabbitmq")
    check("restart with 1 M persistent messages ≥ 5× faster", "%s vs %s s (%s faster)" % (
        fmt(p, "s"), fmt(r, "s"), "%.1f×" % (r / p) if p and r else "—"),
        p and r and r >= 5 * p, p is not None and r is not None)
    _client_targets(g, check)
    return out


def _client_targets(g, check):
    """Issue 18's, judged with rabbitmq-c (one publish per call), not with pulse-perf."""
    p, r = g("10"), g("10", "rabbitmq")
    check("(18) rabbitmq-c consumed rate ≥ 3× RabbitMQ's", "%s× (%s vs %s msg/s)" % (
        "%.2f" % (p / r) if p and r else "—", fmt(p, "msg/s"), fmt(r, "msg/s")),
        p and r and p >= 3 * r, p is not None and r is not None)
    p, r = g("10.client"), g("10.client", "rabbitmq")
    check("(18) rabbitmq-c client CPU per message ≤ what RabbitMQ causes",
          "%s vs %s µs" % (fmt(p), fmt(r)), p is not None and r and p <= r,
          p is not None and r is not None)
    p, r = g("11"), g("11", "rabbitmq")
    check("(18) broker CPU with rabbitmq-c paced at 50k msg/s ≤ ⅕ of RabbitMQ's",
          "%s vs %s %% (%s µs/msg)" % (fmt(p), fmt(r), fmt(g("11", cpu=True))),
          p is not None and r and p * 5 <= r, p is not None and r is not None)
    p, r, f = g("12.p99"), g("12.p99", "rabbitmq"), g("12.floor.p99", "sink")
    check("(18) rabbitmq-c latency p99 at 1k msg/s ≤ 1.5× the relay floor and below RabbitMQ's",
          "%s vs %s µs; floor %s µs" % (fmt(p), fmt(r), fmt(f)),
          p is not None and r and f and p <= 1.5 * f and p < r,
          p is not None and r is not None and f is not None)


def targets_table(results):
    t = targets(results)
    if not t:
        return ""
    return "\n".join(["| target | pulsed measured | |", "| --- | --- | --- |"]
                     + ["| %s | %s | %s |" % row for row in t])


def rounds_table(results):
    """Every round's value, so the spread can be judged."""
    lines = ["| figure | pulsed per round | RabbitMQ per round |", "| --- | --- | --- |"]
    for key in sorted(results.figures, key=_sort_key):
        f = results.figures[key]
        if "sink" in f["values"]:
            cells = (", ".join(fmt(v, f["unit"]) for v in f["values"]["sink"]) + " (sink)", "")
        else:
            cells = tuple(", ".join(fmt(v, f["unit"]) for v in f["values"].get(b, []))
                          for b in ("pulsed", "rabbitmq"))
        lines.append("| %s | %s | %s |" % ((f["label"],) + cells))
    return "\n".join(lines)
