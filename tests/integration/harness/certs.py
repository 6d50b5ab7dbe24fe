"""Test certificates made with Debian's `openssl` CLI, once per test process (idempotent): a CA,
a server certificate for localhost / 127.0.0.1, a client certificate whose CN is a user name, an
expired server certificate and a CA (with a server certificate) nobody trusts. crl() makes CRLs
of a harness CA with `openssl ca`."""
import os
import shutil
import subprocess
import tempfile
import threading

CLIENT_USER = "tlsuser"

# EC keys: generated in milliseconds where RSA takes seconds.
KEY = ["ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]

_lock = threading.Lock()
_certs = None
_crls = {}


class Certs:
    def __init__(self, root):
        self.dir = root
        p = lambda name: os.path.join(root, name)  # noqa: E731
        self.ca = p("ca.pem")
        self.server_cert, self.server_key = p("server.pem"), p("server.key")
        self.client_cert, self.client_key = p("client.pem"), p("client.key")
        self.expired_cert, self.expired_key = p("expired.pem"), p("expired.key")
        self.other_ca = p("other-ca.pem")
        self.other_cert, self.other_key = p("other-server.pem"), p("other-server.key")
        self.client_user = CLIENT_USER


def _run(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed:\n%s" % (" ".join(args), r.stderr))


def _ca(d, name, cn):
    _run("req", "-x509", "-newkey", *KEY, "-nodes", "-keyout", name + ".key",
         "-out", name + ".pem", "-days", "30", "-subj", "/CN=" + cn,
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def _leaf(d, name, ca, cn, san=None, client=False, expired=False):
    _run("req", "-newkey", *KEY, "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
         "-subj", "/CN=" + cn, cwd=d)
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n")
        f.write("extendedKeyUsage=%s\n" % ("clientAuth" if client else "serverAuth"))
        if san:
            f.write("subjectAltName=%s\n" % san)
    # Expired: OpenSSL 3.0's x509 cannot back-date, but -days 0 makes notAfter == notBefore ==
    # now, so the certificate is expired a second later.
    days = ["-days", "30"] if not expired else ["-days", "0"]
    _run("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
         "-CAcreateserial", "-out", name + ".pem", "-extfile", ext, *days, cwd=d)


def certs():
    """The session's certificates (made on first use, removed at exit by the temp dir's owner)."""
    global _certs
    with _lock:
        if _certs is None:
            d = tempfile.mkdtemp(prefix="pulse-it-certs-")
            san = "DNS:localhost,IP:127.0.0.1"
            _ca(d, "ca", "Pulse test CA")
            _leaf(d, "server", "ca", "localhost", san=san)
            _leaf(d, "client", "ca", CLIENT_USER, client=True)
            _leaf(d, "expired", "ca", "localhost", san=san, expired=True)
            _ca(d, "other-ca", "Someone else's CA")
            _leaf(d, "other-server", "other-ca", "localhost", san=san)
            for f in os.listdir(d):
                os.chmod(os.path.join(d, f), 0o644)  # the broker's user may differ in CI
            _certs = Certs(d)
            import atexit
            atexit.register(shutil.rmtree, d, True)
        return _certs


def crl(ca="ca", revoke=()):
    """A PEM CRL (valid 30 days) issued by the harness CA `ca`, listing the certificates
    <name>.pem of the certificate directory named in `revoke`; made once per test process for
    each (ca, revoke). Each CRL has its own `openssl ca` database, so none depends on another."""
    c = certs()
    key = (ca, tuple(sorted(revoke)))
    with _lock:
        if key not in _crls:
            name = "crl-%s-%d" % (ca, len(_crls))
            work = tempfile.mkdtemp(prefix=name + ".", dir=c.dir)
            db = os.path.join(work, "index.txt")
            open(db, "w").close()
            cnf = os.path.join(work, "ca.cnf")
            with open(cnf, "w") as f:
                f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = %s\ndefault_md = sha256\n"
                        "default_crl_days = 30\n" % db)
            base = ["ca", "-config", cnf, "-keyfile", ca + ".key", "-cert", ca + ".pem"]
            for r in key[1]:
                _run(*base, "-revoke", r + ".pem", cwd=c.dir)
            out = os.path.join(c.dir, name + ".pem")
            _run(*base, "-gencrl", "-out", out, cwd=c.dir)
            os.chmod(out, 0o644)
            _crls[key] = out
        return _crls[key]
