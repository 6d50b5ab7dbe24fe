"""Management API: authentication, authorisation by tag and vhost, error bodies, robustness.
Status codes and texts as RabbitMQ 3.10's management plugin answers them."""
import socket

from harness.http_api import q


def test_no_credentials_is_401_with_challenge(api):
    r = api.get("/api/overview", auth=False)
    assert r.status == 401
    assert r.headers["www-authenticate"] == 'Basic realm="RabbitMQ Management"'


def test_wrong_password_is_login_failed(api):
    r = api.as_user("guest", "wrong").get("/api/overview")
    assert r.status == 401
    assert r.json == {"error": "not_authorized", "reason": "Login failed"}
    assert "www-authenticate" in r.headers


def test_unknown_user_is_login_failed(api):
    r = api.as_user("no-such-user", "x").get("/api/whoami")
    assert r.status == 401
    assert r.json == {"error": "not_authorized", "reason": "Login failed"}


def test_user_without_management_tag(api):
    r = api.as_user("bob", "bob-secret2").get("/api/overview")
    assert r.status == 401
    assert r.json == {"error": "not_authorised", "reason": "Not management user"}


def test_management_user_is_not_administrator(api):
    alice = api.as_user("alice", "alice-secret1")
    assert alice.get("/api/whoami").json == {"name": "alice", "tags": ["management"]}
    for path in ("/api/users", "/api/permissions", "/api/users/guest"):
        r = alice.get(path)
        assert r.status == 401, path
        assert r.json == {"error": "not_authorised", "reason": "Not administrator user"}
    assert alice.get("/api/policies").status == 200  # a listing, filtered by vhost
    r = alice.put("/api/policies/%s/p" % q("/"), {"pattern": "^zzz$",
                                                   "definition": {"max-length": 1}})
    assert r.status == 401
    assert r.json == {"error": "not_authorised", "reason": "User not authorised to access object"}
    r = alice.get("/api/nodes")
    assert r.status == 401
    assert r.json == {"error": "not_authorised", "reason": "Not monitor user"}


def test_administrator_reads_a_vhost_without_permissions(api, uname):
    vhost = uname("noperm")
    assert api.put("/api/vhosts/" + q(vhost)).status == 201
    try:
        assert api.delete("/api/permissions/%s/guest" % q(vhost)).status == 204
        for path in ("/api/queues/", "/api/exchanges/", "/api/bindings/", "/api/policies/"):
            assert api.get(path + q(vhost)).status == 200, path
        assert api.get("/api/vhosts/" + q(vhost)).json["name"] == vhost
    finally:
        api.delete("/api/vhosts/" + q(vhost))


def test_vhost_access_and_configure_permission(api, uname):
    user = uname("http-u")
    assert api.put("/api/users/" + user, {"password": "pw", "tags": "management"}).status == 201
    try:
        u = api.as_user(user, "pw")
        r = u.get("/api/queues/" + q("/"))
        assert r.status == 401
        assert r.json == {"error": "not_authorised",
                          "reason": "User not authorised to access virtual host"}
        # Listings without a vhost show only what the user may see.
        assert u.get("/api/queues").json == []
        assert u.get("/api/vhosts").json == []
        # A missing vhost is 404 before any permission question.
        assert u.get("/api/queues/no-such-vhost").status == 404
        # alice may only configure ^alice\. on /.
        alice = api.as_user("alice", "alice-secret1")
        r = alice.put("/api/queues/%s/%s" % (q("/"), uname("notalice")), {"durable": False})
        assert r.status == 401
        assert r.json == {"error": "not_authorised", "reason": "Access refused."}
        name = uname("alice.q")
        assert alice.put("/api/queues/%s/%s" % (q("/"), name), {"durable": False}).status == 201
        assert alice.delete("/api/queues/%s/%s" % (q("/"), name)).status == 204
    finally:
        assert api.delete("/api/users/" + user).status == 204


def test_unknown_path_and_method(api):
    r = api.get("/api/no-such-thing")
    assert r.status == 404
    assert r.json == {"error": "Object Not Found", "reason": "Not Found"}
    r = api.delete("/api/overview")
    assert r.status == 405
    assert "GET" in r.headers["allow"]


def test_bad_json_body(api, uname):
    r = api.request("PUT", "/api/queues/%s/%s" % (q("/"), uname("bad")), raw_body=b'{"durable":tru',
                    headers={"Content-Type": "application/json"})
    assert r.status == 400
    assert r.json == {"error": "bad_request", "reason": "not_json"}


def _raw(broker, data):
    s = socket.create_connection((broker.host, broker.http_port), timeout=10)
    try:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def test_malformed_request_is_400_and_server_survives(broker, api):
    out = _raw(broker, b"GARBAGE\x00\x01 nonsense\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400")
    out = _raw(broker, b"GET /api/overview HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400")
    assert api.get("/api/whoami").status == 200


def test_keep_alive_serves_several_requests(broker):
    import base64
    import http.client
    conn = http.client.HTTPConnection(broker.host, broker.http_port, timeout=10)
    tok = base64.b64encode(b"guest:guest").decode()
    try:
        for _ in range(3):
            conn.request("GET", "/api/whoami", headers={"Authorization": "Basic " + tok})
            r = conn.getresponse()
            assert r.status == 200
            r.read()
    finally:
        conn.close()
