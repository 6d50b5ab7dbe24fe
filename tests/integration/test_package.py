"""The Debian package pulse-broker (packaging/, scripts/package.sh).

Builds the .deb with cpack from the build tree under test (or takes PULSE_DEB), inspects it with
dpkg-deb, installs it with the real dpkg into a private tree (dpkg --instdir with
--force-script-chrootless, so the maintainer scripts run with DPKG_ROOT set and act only on that
tree: the service account goes into the tree's /etc/passwd, the unit is enabled in the tree's
/etc/systemd/system), checks where everything landed, verifies the unit with systemd-analyze,
runs the installed pulsed on the installed default config as the package's account and talks
AMQP to it, then removes and purges the package.

Nothing here touches the running system: the test checks that the host's account database and
systemd directories are unchanged.
"""
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import urllib.request

import pika
import pytest

from harness.broker import HOST, REPO, free_port

pytestmark = pytest.mark.pulsed_only

PACKAGE = "pulse-broker"
SERVICE_USER = "pulse"
UNIT = "lib/systemd/system/pulsed.service"
CONF = "etc/pulse/pulse.conf"
GUARDIAN_UNIT = "lib/systemd/system/pulse-guardian.service"
GUARDIAN_CONF = "etc/pulse/guardian.conf"
GUARDIAN_ENV = "etc/pulse/pulse-guardian.env"
TRANSLATOR_UNIT = "lib/systemd/system/pulse-translator.service"
TRANSLATOR_ENV = "etc/pulse/pulse-translator.env"
LOGPARSER_UNIT = "lib/systemd/system/pulse-logparser.service"
LOGPARSER_ENV = "etc/pulse/pulse-logparser.env"
BRIDGE_UNIT = "lib/systemd/system/pulse-bridge.service"
BRIDGE_CONF = "etc/pulse/bridge.conf"
BRIDGE_ENV = "etc/pulse/pulse-bridge.env"


def build_dir():
    pulsed = os.environ.get("PULSED_BIN")
    if pulsed:
        return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(pulsed))))
    return os.path.join(REPO, "build")


def run(*cmd, check=True, **kw):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s -> %d\n%s\n%s" % (" ".join(map(str, cmd)), p.returncode,
                                                   p.stdout, p.stderr))
    return p


def host_state():
    """What an install must not change on the running system."""
    state = {}
    for f in ("/etc/passwd", "/etc/group", "/etc/shadow"):
        with open(f, "rb") as fh:
            state[f] = fh.read()
    for d in ("/etc/systemd/system", "/lib/systemd/system"):
        state[d] = sorted(os.listdir(d)) if os.path.isdir(d) else None
    state["/etc/pulse"] = sorted(os.listdir("/etc/pulse")) if os.path.isdir("/etc/pulse") else None
    return state


@pytest.fixture(scope="module")
def deb():
    explicit = os.environ.get("PULSE_DEB")
    if explicit:
        yield explicit
        return
    build = build_dir()
    config = os.path.join(build, "CPackConfig.cmake")
    assert os.path.exists(config), "no %s: configure the build first" % config
    out = tempfile.mkdtemp(prefix="pulse-deb-out-")
    cmd = ["cpack", "--config", config, "-B", out]
    if os.getuid() != 0:
        cmd = ["fakeroot"] + cmd
    run(*cmd, cwd=build)
    debs = [f for f in os.listdir(out) if f.endswith(".deb")]
    assert len(debs) == 1, debs
    yield os.path.join(out, debs[0])
    shutil.rmtree(out, ignore_errors=True)


class Tree:
    """A fresh root directory with an empty dpkg database and a minimal account database."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="pulse-deb-root-")
        # The service account must be able to reach its data directory inside the tree.
        os.chmod(self.root, 0o755)
        admin = self.path("var/lib/dpkg")
        for d in ("info", "updates", "triggers"):
            os.makedirs(os.path.join(admin, d))
        for f in ("status", "available"):
            open(os.path.join(admin, f), "w").close()
        os.makedirs(self.path("etc"))
        os.makedirs(self.path("var/log"))
        seed = {"passwd": "root:x:0:0:root:/root:/bin/bash\n", "group": "root:x:0:\n",
                "shadow": "root:*:19000:0:99999:7:::\n", "gshadow": "root:*::\n"}
        for name, text in seed.items():
            with open(self.path("etc", name), "w") as f:
                f.write(text)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def dpkg(self, *args):
        return run("dpkg", "--instdir=" + self.root, "--admindir=" + self.path("var/lib/dpkg"),
                   "--log=" + self.path("var/log/dpkg.log"), "--force-script-chrootless",
                   "--force-not-root", "--force-depends", *args,
                   env=dict(os.environ, PATH="/usr/sbin:/usr/bin:/sbin:/bin"))

    def status(self):
        p = run("dpkg-query", "--admindir=" + self.path("var/lib/dpkg"), "-W",
                "-f=${db:Status-Abbrev}", PACKAGE, check=False)
        return p.stdout.strip()

    def account(self):
        """(uid, gid, home, shell) of the service account in the tree, or None."""
        with open(self.path("etc/passwd")) as f:
            for line in f:
                fields = line.rstrip("\n").split(":")
                if fields[0] == SERVICE_USER:
                    return int(fields[2]), int(fields[3]), fields[5], fields[6]
        return None

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def installed(deb):
    before = host_state()
    tree = Tree()
    tree.dpkg("--install", deb)
    yield tree
    tree.remove()
    assert host_state() == before, "installing into a tree changed the running system"


def control(deb, field):
    return run("dpkg-deb", "--field", deb, field).stdout.strip()


def test_control_fields(deb):
    assert control(deb, "Package") == PACKAGE
    with open(os.path.join(REPO, "CMakeLists.txt")) as f:
        version = re.search(r"project\(pulse VERSION ([0-9.]+)", f.read()).group(1)
    assert control(deb, "Version") == version
    assert control(deb, "Section") == "net"
    assert control(deb, "Architecture") == run("dpkg", "--print-architecture").stdout.strip()
    assert "<" in control(deb, "Maintainer")
    description = control(deb, "Description").splitlines()
    assert description[0] == "AMQP 0-9-1 message broker compatible with RabbitMQ clients"
    # The extended description: one leading space per line, not a copy of the summary.
    assert description[1].startswith(" Pulse is an open message bus"), description
    assert " ." in description and all(line.startswith(" ") for line in description[1:])
    depends = {d.strip().split(" ")[0] for d in control(deb, "Depends").split(",")}
    # dpkg-shlibdeps found the libraries pulsed links; adduser is for postinst.
    for pkg in ("libc6", "libstdc++6", "libsqlite3-0", "adduser"):
        assert pkg in depends, depends
    assert any(d.startswith("libre2-") for d in depends), depends


def test_contents(deb):
    listing = run("dpkg-deb", "--contents", deb).stdout.splitlines()
    entries = {}
    for line in listing:
        parts = line.split()
        path = parts[5].lstrip(".")
        entries[path.rstrip("/") or "/"] = (parts[0], parts[1])
    for path in ("/usr/sbin/pulsed", "/usr/bin/pulse-perf", "/usr/bin/pulsectl",
                 "/usr/bin/pulse-publish", "/usr/bin/pulse-listen", "/usr/bin/pulse-guardian",
                 "/usr/bin/pulse-translator", "/usr/bin/pulse-logparser",
                 "/usr/bin/pulse-bridge"):
        mode, owner = entries[path]
        assert mode == "-rwxr-xr-x" and owner == "root/root", (path, mode, owner)
    for path in ("/" + UNIT, "/" + CONF, "/" + GUARDIAN_UNIT, "/" + GUARDIAN_CONF,
                 "/" + TRANSLATOR_UNIT, "/" + LOGPARSER_UNIT, "/" + BRIDGE_UNIT,
                 "/" + BRIDGE_CONF,
                 "/usr/share/doc/pulse-broker/README.md",
                 "/usr/share/pulse/web/ui/index.html",
                 "/usr/share/pulse/web/ui/js/app.js",
                 "/usr/share/pulse/web/ui/js/pages/queues.js",
                 "/usr/share/pulse/web/inspector/index.html",
                 "/usr/share/pulse/web/inspector/inspector.js",
                 "/usr/share/pulse/web/examples/browser/index.html"):
        assert entries[path] == ("-rw-r--r--", "root/root"), (path, entries[path])
    # It holds the management API's password.
    assert entries["/" + GUARDIAN_ENV] == ("-rw-------", "root/root"), entries["/" + GUARDIAN_ENV]
    assert entries["/" + TRANSLATOR_ENV] == ("-rw-------", "root/root")
    # It holds the broker's password and the webhooks' secrets.
    assert entries["/" + BRIDGE_ENV] == ("-rw-------", "root/root"), entries["/" + BRIDGE_ENV]
    for path in ("/var/lib/pulse", "/var/log/pulse"):
        assert entries[path][0].startswith("d"), (path, entries[path])
    # Nothing from the build tree: no tests, headers, static libraries or codegen.
    unexpected = [p for p in entries if p.endswith((".a", ".h")) or "test" in p or
                  "codegen" in p]
    assert unexpected == []


def test_control_area(deb, tmp_path):
    run("dpkg-deb", "--control", deb, tmp_path / "DEBIAN")
    ctl = tmp_path / "DEBIAN"
    assert (ctl / "conffiles").read_text().split() == [
        "/" + CONF, "/" + GUARDIAN_CONF, "/" + GUARDIAN_ENV, "/" + TRANSLATOR_ENV,
        "/" + LOGPARSER_ENV, "/" + BRIDGE_CONF, "/" + BRIDGE_ENV]
    for script in ("postinst", "prerm", "postrm"):
        mode = (ctl / script).stat().st_mode
        assert mode & stat.S_IXUSR, script
        run("sh", "-n", ctl / script)
        assert (ctl / script).read_text().startswith("#!/bin/sh\n")
    info = run("dpkg-deb", "--info", deb).stdout
    for name in ("conffiles", "postinst", "prerm", "postrm"):
        assert re.search(r"\b%s\b" % name, info), info


def test_install_puts_files_in_place(installed):
    t = installed
    assert t.status() == "ii"
    for rel in ("usr/sbin/pulsed", "usr/bin/pulse-perf", "usr/bin/pulsectl",
                "usr/bin/pulse-publish", "usr/bin/pulse-listen", "usr/bin/pulse-guardian"):
        assert os.access(t.path(rel), os.X_OK), rel
    with open(t.path(CONF)) as f:
        conf = f.read()
    assert re.search(r"^listeners\.tcp\.default = 127\.0\.0\.1:5672$", conf, re.M)
    # Debian policy: dpkg records the conffile with its checksum.
    p = run("dpkg-query", "--admindir=" + t.path("var/lib/dpkg"), "-W", "-f=${Conffiles}",
            PACKAGE)
    assert "/" + CONF in p.stdout


def test_installed_pulsectl_runs(installed, deb):
    p = run(installed.path("usr/bin/pulsectl"), "--help")
    assert p.stdout.startswith("pulsectl: manage pulsed or RabbitMQ")
    assert "Exit status:" in p.stdout
    assert run(installed.path("usr/bin/pulsectl"), "--version").stdout.strip() == \
        "pulsectl " + control(deb, "Version")


def test_installed_pulse_tools_run(installed):
    for tool in ("pulse-publish", "pulse-listen"):
        p = run(installed.path("usr/bin/" + tool), "--help")
        assert p.stdout.startswith(tool + ": ") and "Exit status:" in p.stdout, p.stdout


def test_installed_pulse_guardian_runs(installed, deb):
    tool = installed.path("usr/bin/pulse-guardian")
    p = run(tool, "--help")
    assert p.stdout.startswith("pulse-guardian: ") and "EXIT STATUS" in p.stdout, p.stdout
    assert run(tool, "--version").stdout.strip() == "pulse-guardian " + control(deb, "Version")


def test_postinst_creates_account_and_owns_dirs(installed):
    t = installed
    account = t.account()
    assert account is not None, "postinst did not create the %s account" % SERVICE_USER
    uid, gid, home, shell = account
    assert 0 < uid < 1000 and 0 < gid < 1000, "not a system account: %s" % (account,)
    assert home == "/var/lib/pulse" and shell == "/usr/sbin/nologin"
    with open(t.path("etc/group")) as f:
        assert any(line.startswith("%s:x:%d:" % (SERVICE_USER, gid)) for line in f)
    for rel in ("var/lib/pulse", "var/log/pulse"):
        st = os.stat(t.path(rel))
        assert stat.S_IMODE(st.st_mode) == 0o750, rel
        if os.getuid() == 0:
            assert (st.st_uid, st.st_gid) == (uid, gid), rel


def test_postinst_enables_unit(installed):
    link = installed.path("etc/systemd/system/multi-user.target.wants/pulsed.service")
    assert os.path.islink(link), "deb-systemd-helper did not enable pulsed.service"
    assert os.readlink(link) == "/" + UNIT


def unit_settings(path):
    settings = {}
    section = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            key, _, value = line.partition("=")
            settings[(section, key)] = value
    return settings


def test_unit_file(installed):
    t = installed
    u = unit_settings(t.path(UNIT))
    assert u[("Service", "Type")] in ("simple", "exec")
    assert u[("Service", "User")] == SERVICE_USER and u[("Service", "Group")] == SERVICE_USER
    assert u[("Service", "ExecStart")] == (
        "/usr/sbin/pulsed --config /etc/pulse/pulse.conf --data-dir /var/lib/pulse")
    assert u[("Service", "LimitNOFILE")] == "65536"
    assert u[("Service", "Restart")] == "on-failure"
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        assert u[("Service", key)] == "yes", key
    assert u[("Service", "ProtectSystem")] == "full"
    assert u[("Service", "ReadWritePaths")].split() == ["/var/lib/pulse", "/var/log/pulse"]
    assert u[("Install", "WantedBy")] == "multi-user.target"
    # Every path the unit names exists in the installed tree.
    for path in ("/usr/sbin/pulsed", "/etc/pulse/pulse.conf", "/var/lib/pulse", "/var/log/pulse"):
        assert os.path.exists(t.path(path.lstrip("/"))), path


def test_guardian_unit_file(installed):
    """pulse-guardian.service: shipped for a RabbitMQ node or cluster, not enabled."""
    t = installed
    u = unit_settings(t.path(GUARDIAN_UNIT))
    assert u[("Service", "User")] == SERVICE_USER
    assert u[("Service", "ExecStart")] == (
        "/usr/bin/pulse-guardian --config /etc/pulse/guardian.conf $PULSE_GUARDIAN_OPTS")
    assert u[("Service", "EnvironmentFile")] == "/etc/pulse/pulse-guardian.env"
    assert u[("Service", "StateDirectory")] == "pulse-guardian"
    assert not os.path.lexists(
        t.path("etc/systemd/system/multi-user.target.wants/pulse-guardian.service"))
    for path in ("/usr/bin/pulse-guardian", "/" + GUARDIAN_CONF, "/" + GUARDIAN_ENV):
        assert os.path.exists(t.path(path.lstrip("/"))), path


def test_translator_unit_file(installed):
    """pulse-translator.service: shipped, not enabled; its state in its StateDirectory."""
    t = installed
    u = unit_settings(t.path(TRANSLATOR_UNIT))
    assert u[("Service", "User")] == SERVICE_USER
    assert u[("Service", "ExecStart")] == (
        "/usr/bin/pulse-translator --state-dir /var/lib/pulse-translator $PULSE_TRANSLATOR_OPTS")
    assert u[("Service", "EnvironmentFile")] == "/etc/pulse/pulse-translator.env"
    assert u[("Service", "StateDirectory")] == "pulse-translator"
    assert not os.path.lexists(
        t.path("etc/systemd/system/multi-user.target.wants/pulse-translator.service"))
    p = run(t.path("usr/bin/pulse-translator"), "--help")
    assert p.stdout.startswith("pulse-translator: ") and "Exit status:" in p.stdout, p.stdout


def test_logparser_unit_file(installed):
    """pulse-logparser.service: shipped, not enabled; its environment file holds a password."""
    t = installed
    u = unit_settings(t.path(LOGPARSER_UNIT))
    assert u[("Service", "User")] == SERVICE_USER
    assert u[("Service", "ExecStart")] == "/usr/bin/pulse-logparser $PULSE_LOGPARSER_OPTS"
    assert u[("Service", "EnvironmentFile")] == "/etc/pulse/pulse-logparser.env"
    assert not os.path.lexists(
        t.path("etc/systemd/system/multi-user.target.wants/pulse-logparser.service"))
    assert os.access(t.path("usr/bin/pulse-logparser"), os.X_OK)
    assert os.stat(t.path(LOGPARSER_ENV)).st_mode & 0o077 == 0


def test_bridge_unit_file(installed):
    """pulse-bridge.service: shipped, not enabled; the sample bridge.conf names no source, so
    the installed pulse-bridge refuses it (exit 2) until the operator adds one."""
    t = installed
    u = unit_settings(t.path(BRIDGE_UNIT))
    assert u[("Service", "User")] == SERVICE_USER
    assert u[("Service", "ExecStart")] == (
        "/usr/bin/pulse-bridge --config /etc/pulse/bridge.conf --state-dir /var/lib/pulse-bridge "
        "$PULSE_BRIDGE_OPTS")
    assert u[("Service", "EnvironmentFile")] == "/etc/pulse/pulse-bridge.env"
    assert u[("Service", "StateDirectory")] == "pulse-bridge"
    assert not os.path.lexists(
        t.path("etc/systemd/system/multi-user.target.wants/pulse-bridge.service"))
    p = run(t.path("usr/bin/pulse-bridge"), "--config", t.path(BRIDGE_CONF), check=False)
    assert p.returncode == 2 and "no sources" in p.stderr, (p.returncode, p.stderr)


def test_installed_guardian_config_is_accepted(installed, tmp_path):
    """The shipped guardian.conf and environment file start pulse-guardian as the unit would
    (--once against a closed port: it reads the config, then fails to reach the API, exit 69)."""
    env = dict(os.environ)
    with open(installed.path(GUARDIAN_ENV)) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                env[k] = v
    assert env["PULSECTL_URL"].startswith("http://")
    env["PULSECTL_URL"] = "http://127.0.0.1:%d" % free_port()
    p = run(installed.path("usr/bin/pulse-guardian"), "--config", installed.path(GUARDIAN_CONF),
            "--once", "--amqp-url", "none", "--timeout", "2", env=env, check=False)
    assert p.returncode == 69, (p.returncode, p.stdout, p.stderr)


def systemd_analyze_verify(root, unit):
    """(returncode, output) of systemd-analyze verify on `unit` inside the tree `root`."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze missing (scripts/deps.sh test installs systemd)")
    # verify builds a start transaction, which needs the targets and slices the unit's default
    # dependencies name: the tree gets the running system's (copies, read-only use of the host).
    units = os.path.join(root, "lib/systemd/system")
    for name in os.listdir("/lib/systemd/system"):
        if name.endswith((".target", ".slice")) and not os.path.lexists(os.path.join(units, name)):
            shutil.copy(os.path.join("/lib/systemd/system", name), units, follow_symlinks=False)
    # ExecReload runs /bin/kill (procps on a real system): verify wants it executable.
    kill = os.path.join(root, "bin", "kill")
    if not os.path.lexists(kill):
        os.makedirs(os.path.dirname(kill), exist_ok=True)
        shutil.copy("/bin/kill", kill)
    p = run(analyze, "verify", "--root=" + root, unit, check=False)
    return p.returncode, (p.stdout + p.stderr).strip()


def test_unit_passes_systemd_analyze_verify(installed):
    # A clean unit gives status 0 and no output; warnings (unknown keys...) only print.
    assert systemd_analyze_verify(installed.root, "/" + UNIT) == (0, "")
    assert systemd_analyze_verify(installed.root, "/" + GUARDIAN_UNIT) == (0, "")


def test_systemd_analyze_verify_catches_broken_units(installed):
    """The check above can fail: broken copies of the unit are caught."""
    with open(installed.path(UNIT)) as f:
        text = f.read()
    broken = "/lib/systemd/system/pulsed-broken.service"
    cases = [text.replace("/usr/sbin/pulsed ", "/usr/sbin/no-such-pulsed "),
             text.replace("LimitNOFILE=", "LimitNOFLIE=")]
    try:
        for bad in cases:
            with open(installed.path(broken.lstrip("/")), "w") as f:
                f.write(bad)
            assert systemd_analyze_verify(installed.root, broken) != (0, "")
    finally:
        os.unlink(installed.path(broken.lstrip("/")))


def test_installed_pulsed_serves_amqp(installed):
    """The installed binary on the installed default config and data directory, as the account
    the unit names (when the test runs as root), serves AMQP and stops cleanly on SIGTERM.
    The listen flags only move the ports off the defaults, which another pulsed may hold."""
    t = installed
    uid, gid, _, _ = t.account()
    port, http_port = free_port(), free_port()
    data = t.path("var/lib/pulse")
    account = dict(user=uid, group=gid, extra_groups=[]) if os.getuid() == 0 else {}
    proc = subprocess.Popen(
        [t.path("usr/sbin/pulsed"), "--config", t.path(CONF), "--data-dir", data,
         "--amqp-listen", "%s:%d" % (HOST, port),
         "--http-listen", "%s:%d" % (HOST, http_port),
         "--prometheus-listen", "%s:%d" % (HOST, free_port()),
         "--stomp-listen", "%s:%d" % (HOST, free_port()),
         "--web-stomp-listen", "%s:%d" % (HOST, free_port())],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        cwd=data, **account)
    try:
        deadline = time.time() + 30
        conn = None
        while conn is None:
            try:
                conn = pika.BlockingConnection(pika.ConnectionParameters(
                    HOST, port, credentials=pika.PlainCredentials("guest", "guest")))
            except pika.exceptions.AMQPConnectionError:
                if proc.poll() is not None or time.time() > deadline:
                    out = proc.stdout.read().decode(errors="replace") if proc.poll() else ""
                    raise AssertionError("installed pulsed did not serve AMQP: %s" % out)
                time.sleep(0.1)
        ch = conn.channel()
        q = ch.queue_declare("pkg.check", durable=True).method.queue
        ch.basic_publish("", q, b"installed", pika.BasicProperties(delivery_mode=2))
        method, _, body = ch.basic_get(q, auto_ack=True)
        assert body == b"installed" and method is not None
        conn.close()
        # the installed pulsectl manages the installed pulsed
        p = run(t.path("usr/bin/pulsectl"), "--url", "http://%s:%d" % (HOST, http_port),
                "list", "queues", "-c", "name,durable", "--no-header")
        assert p.stdout.split() == ["pkg.check", "true"], p.stdout
        # the installed pages, found beside the installed binary (/usr/share/pulse/web)
        with urllib.request.urlopen("http://%s:%d/inspector/" % (HOST, http_port)) as r:
            assert r.status == 200 and b"Pulse inspector" in r.read()
        with urllib.request.urlopen("http://%s:%d/" % (HOST, http_port)) as r:
            assert r.status == 200 and b'src="/ui/js/app.js"' in r.read()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        rc = proc.wait(15)
        out = proc.stdout.read().decode(errors="replace")
    assert rc == 0, out
    assert "listening on %s:%d" % (HOST, port) in out
    if os.getuid() == 0:
        # The broker wrote its data as the service account, inside the data directory.
        owned = [os.stat(os.path.join(d, f)).st_uid for d, _, fs in os.walk(data) for f in fs]
        assert owned and set(owned) == {uid}, owned


def test_remove_keeps_config_and_data_purge_deletes_them(deb):
    before = host_state()
    t = Tree()
    try:
        t.dpkg("--install", deb)
        with open(t.path(CONF), "a") as f:
            f.write("heartbeat = 30\n")  # an admin's change
        with open(t.path("var/lib/pulse/marker"), "w") as f:
            f.write("data")

        t.dpkg("--remove", PACKAGE)
        assert t.status() == "rc"
        assert not os.path.exists(t.path("usr/sbin/pulsed"))
        assert not os.path.exists(t.path(UNIT))
        with open(t.path(CONF)) as f:
            assert "heartbeat = 30" in f.read()
        assert os.path.exists(t.path("var/lib/pulse/marker"))

        t.dpkg("--purge", PACKAGE)
        assert t.status() in ("", "un", "pn")
        for rel in (CONF, "var/lib/pulse", "var/log/pulse",
                    "etc/systemd/system/multi-user.target.wants/pulsed.service"):
            assert not os.path.lexists(t.path(rel)), rel
        # The account stays (files it owns may remain elsewhere); a reinstall reuses it.
        uid = t.account()[0]
        t.dpkg("--install", deb)
        assert t.account()[0] == uid and t.status() == "ii"
    finally:
        t.remove()
    assert host_state() == before
