"""Certificates for the AMQPS scenarios (1tls, 3tls), made with Debian's `openssl` CLI: a CA and
a server certificate for localhost / 127.0.0.1 (EC P-256, as a deployment would choose today).
Both brokers use the same files; pulse-perf verifies the chain and the host name."""
import os
import subprocess

KEY = ["ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]


class Certs:
    def __init__(self, d):
        self.dir = d
        self.ca = os.path.join(d, "ca.pem")
        self.cert = os.path.join(d, "server.pem")
        self.key = os.path.join(d, "server.key")


def _openssl(d, *args):
    r = subprocess.run(["openssl"] + list(args), cwd=d, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed:\n%s" % (" ".join(args), r.stderr))


def make_certs(d):
    """Writes ca.pem, server.pem and server.key into `d` (created) and returns their paths."""
    os.makedirs(d, exist_ok=True)
    _openssl(d, "req", "-x509", "-newkey", *KEY, "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "7", "-subj", "/CN=Pulse bench CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl(d, "req", "-newkey", *KEY, "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=localhost")
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl(d, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-extfile", "server.ext", "-days", "7")
    for name in os.listdir(d):
        os.chmod(os.path.join(d, name), 0o644)
    return Certs(d)


def pulsed_has_amqps(binary):
    """Whether this pulsed build has an AMQPS listener (its --help lists --amqps-listen)."""
    try:
        p = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--amqps-listen" in p.stdout + p.stderr
