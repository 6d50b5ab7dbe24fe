"""The management listener's security headers and CORS (management.cors.*)."""
import http.client

import pytest


def request(broker, method, path, headers=None):
    c = http.client.HTTPConnection(broker.host, broker.http_port, timeout=10)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}
    finally:
        c.close()


@pytest.mark.pulsed_only
def test_security_headers_on_every_response(broker):
    for method, path in [("GET", "/api/overview"), ("GET", "/api/nope"), ("GET", "/")]:
        _, h = request(broker, method, path)
        assert h["x-content-type-options"] == "nosniff"
        assert h["x-frame-options"] == "SAMEORIGIN"
        assert h["referrer-policy"] == "same-origin"
        assert h["content-security-policy"] == (
            "script-src 'self' 'unsafe-eval' 'unsafe-inline'; object-src 'self'")


@pytest.mark.pulsed_only
def test_cors_off_by_default(broker):
    status, h = request(broker, "OPTIONS", "/api/overview",
                        {"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in h
    _, h = request(broker, "GET", "/api/overview", {"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in h


@pytest.mark.pulsed_only
def test_cors_allows_only_configured_origins(broker_with):
    b = broker_with({"management.cors.allow_origins.1": "http://ui.example",
                     "management.cors.max_age": 600})
    status, h = request(b, "OPTIONS", "/api/queues",
                        {"Origin": "http://ui.example", "Access-Control-Request-Method": "PUT",
                         "Access-Control-Request-Headers": "authorization, content-type"})
    assert status == 200
    assert h["access-control-allow-origin"] == "http://ui.example"
    assert h["access-control-max-age"] == "600"
    assert "PUT" in h["access-control-allow-methods"]
    assert h["access-control-allow-headers"] == "authorization, content-type"
    _, h = request(b, "GET", "/api/overview", {"Origin": "http://ui.example"})
    assert h["access-control-allow-origin"] == "http://ui.example"
    _, h = request(b, "OPTIONS", "/api/queues",
                   {"Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"})
    assert "access-control-allow-origin" not in h
