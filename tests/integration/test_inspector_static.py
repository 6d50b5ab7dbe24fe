"""pulsed serves the inspector (/inspector/) and the browser example (/examples/browser/) from
its web directory (build/web in a build tree): content types, caching, the pages' CSP, and no
way out of the directory. pulsed only: RabbitMQ has no such pages."""
import http.client
import os
import re

import pytest

from harness.broker_base import HOST, target_name

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = pytest.mark.skipif(target_name() != "pulsed", reason="pulsed's own pages")


def get(broker, path, method="GET", headers=None, port=None):
    c = http.client.HTTPConnection(HOST, port or broker.http_port, timeout=10)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


@pytest.mark.parametrize("path,ctype,source", [
    ("/inspector/", "text/html; charset=utf-8", "web/inspector/index.html"),
    ("/inspector/index.html", "text/html; charset=utf-8", "web/inspector/index.html"),
    ("/inspector/inspector.js", "text/javascript; charset=utf-8", "web/inspector/inspector.js"),
    ("/inspector/stomp.js", "text/javascript; charset=utf-8", "web/inspector/stomp.js"),
    ("/inspector/inspector.css", "text/css; charset=utf-8", "web/inspector/inspector.css"),
    ("/examples/browser/", "text/html; charset=utf-8", "examples/browser/index.html"),
    ("/examples/browser/example.js", "text/javascript; charset=utf-8",
     "examples/browser/example.js"),
])
def test_files_served(broker, path, ctype, source):
    status, h, body = get(broker, path)
    assert status == 200, (status, body[:200])
    assert h["content-type"] == ctype
    with open(os.path.join(REPO, source), "rb") as f:
        assert body == f.read()
    assert h["cache-control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{16}-[0-9a-f]+"', h["etag"]), h["etag"]
    csp = h["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe" not in csp, csp
    assert "connect-src 'self' ws: wss:" in csp, csp
    assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "SAMEORIGIN"


def test_etag_revalidation_and_head(broker):
    _, h, body = get(broker, "/inspector/inspector.js")
    status, h2, body2 = get(broker, "/inspector/inspector.js",
                            headers={"If-None-Match": h["etag"]})
    assert status == 304 and body2 == b"" and h2["etag"] == h["etag"]
    status, _, body3 = get(broker, "/inspector/inspector.js", headers={"If-None-Match": '"x"'})
    assert status == 200 and body3 == body
    status, h4, body4 = get(broker, "/inspector/inspector.js", method="HEAD")
    assert status == 200 and body4 == b"" and h4["content-length"] == str(len(body))


def test_directory_without_slash_redirects(broker):
    status, h, _ = get(broker, "/inspector")
    assert status == 301 and h["location"] == "/inspector/"
    status, h, _ = get(broker, "/examples/browser")
    assert status == 301 and h["location"] == "/examples/browser/"


@pytest.mark.parametrize("path,want", [
    ("/inspector/../api/overview", 400),
    ("/inspector/%2e%2e/%2e%2e/README.md", 400),
    ("/inspector/..%2F..%2FREADME.md", 400),
    ("/inspector/.%2Finspector.js", 400),
    ("/inspector/%5c..%5cREADME.md", 400),
    ("/inspector/index.html%00.js", 400),
    ("/inspector/nope.js", 404),
    ("/inspector//inspector.js", 404),
    ("/examples/", 404),
    ("/examples/browser/../../web/inspector/index.html", 400),
])
def test_bad_paths_refused(broker, path, want):
    status, _, body = get(broker, path)
    assert status == want, (status, body[:200])
    assert b"import" not in body and b"<html" not in body


def test_other_methods_and_the_metrics_listener(broker):
    status, h, _ = get(broker, "/inspector/", method="POST")
    assert status == 405 and h["allow"] == "GET, HEAD"
    status, _, _ = get(broker, "/inspector/", port=broker.prometheus_port)
    assert status == 404


def test_api_keeps_its_policy(broker):
    _, h, _ = get(broker, "/api/overview")
    assert h["content-security-policy"].startswith("script-src 'self' 'unsafe-eval'")
