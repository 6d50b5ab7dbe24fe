"""A small management-API client on the standard library (http.client), for both targets."""
import base64
import http.client
import json
import urllib.parse


def q(name):
    """Percent-encodes one path segment ("/" -> "%2F"), as clients of the API must."""
    return urllib.parse.quote(name, safe="")


class Reply:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.raw = raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<Reply %d %r>" % (self.status, self.raw[:300])


class HttpApi:
    def __init__(self, broker, user="guest", password="guest"):
        self.host = broker.host
        self.port = broker.http_port
        self.user = user
        self.password = password

    def as_user(self, user, password):
        other = HttpApi.__new__(HttpApi)
        other.host, other.port, other.user, other.password = self.host, self.port, user, password
        return other

    def request(self, method, path, body=None, headers=None, auth=True, raw_body=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = dict(headers or {})
        if auth:
            tok = base64.b64encode(("%s:%s" % (self.user, self.password)).encode()).decode()
            h["Authorization"] = "Basic " + tok
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            return Reply(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body if body is not None else {}, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body if body is not None else {}, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def local_port(connection):
    """The client side port of a pika BlockingConnection."""
    return connection._impl._transport._sock.getsockname()[1]


def conn_name(broker, connection):
    """The management API's name of a pika connection to `broker`."""
    return "127.0.0.1:%d -> 127.0.0.1:%d" % (local_port(connection), broker.port)
