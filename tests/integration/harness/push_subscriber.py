"""A local HTTP subscriber for push subscriptions (test_pulse_push*.py): answers the hub's
verification GET (echoing the challenge, or refusing it), records the POSTed messages after
checking their X-Hub-Signature-256 against the secret, and can play a subscriber that is down
(503), gone (410) or not listening at all (stop())."""
import hashlib
import hmac
import http.server
import json
import threading
import urllib.parse

from harness.broker import HOST, free_port


class Subscriber:
    def __init__(self, secret, port=None):
        self.secret = secret.encode()
        self.port = port or free_port()
        self.verify_mode = "echo"  # "echo", "refuse" (404), "wrong" (echo something else)
        self.post_status = 204     # what a delivery gets
        self.verifications = []    # query dicts, in order
        self.bodies = []           # parsed JSON bodies of good deliveries, in order
        self.headers = []          # their headers
        self.bad_signatures = 0
        self.posts = 0             # every POST, failed ones too
        self.lock = threading.Lock()
        self.server = None
        self.start()

    @property
    def url(self):
        return "http://%s:%d/hook" % (HOST, self.port)

    def start(self):
        sub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                with sub.lock:
                    sub.verifications.append(query)
                if sub.verify_mode == "refuse" and query.get("hub.mode") == "subscribe":
                    return self.reply(404, b"no")
                answer = query.get("hub.challenge", "")
                if sub.verify_mode == "wrong":
                    answer = "not-the-challenge"
                self.reply(200, answer.encode())

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sub.lock:
                    sub.posts += 1
                    status = sub.post_status
                    if status < 300:
                        want = "sha256=" + hmac.new(sub.secret, body, hashlib.sha256).hexdigest()
                        if self.headers.get("X-Hub-Signature-256") != want:
                            sub.bad_signatures += 1
                            status = 400
                        else:
                            sub.bodies.append(json.loads(body))
                            sub.headers.append(dict(self.headers))
                self.reply(status, b"")

            def reply(self, status, body):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer((HOST, self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        """Not listening any more (connections refused) until start()."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def keys(self):
        with self.lock:
            return [b["routing_key"] for b in self.bodies]
