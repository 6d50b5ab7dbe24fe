"""Generate fixtures/definitions.json (RabbitMQ definitions format).

Hashes are real rabbit_password_hashing_sha256 hashes:
base64(salt4 + sha256(salt4 + utf8(password))).
Salts are fixed so the file is reproducible.
"""
import base64
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DEFS = os.path.join(os.path.dirname(HERE), "fixtures", "definitions.json")


def rabbit_hash(password, salt):
    assert len(salt) == 4
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


USERS = [
    ("guest", "guest", b"\x90\x8e\x1c\x01", ["administrator"]),
    ("alice", "alice-secret1", b"\x13\x37\xa1\x1c", ["management"]),
    ("bob", "bob-secret2", b"\x0b\x0b\x42\x24", []),
    ("nobody", "nobody-secret3", b"\x00\xde\xad\x01", []),
]


def build():
    return {
        "rabbit_version": "3.10.8",
        "rabbitmq_version": "3.10.8",
        "users": [
            {
                "name": n,
                "password_hash": rabbit_hash(p, s),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": tags,
                "limits": {},
            }
            for n, p, s, tags in USERS
        ],
        "vhosts": [{"name": "/"}, {"name": "pulse-test"}],
        "permissions": [
            {"user": "guest", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
            {"user": "guest", "vhost": "pulse-test", "configure": ".*", "write": ".*", "read": ".*"},
            {"user": "alice", "vhost": "/", "configure": "^alice\\.",
             "write": "^(alice\\.|amq\\.default$|amq\\.topic$)", "read": ".*"},
            {"user": "alice", "vhost": "pulse-test", "configure": ".*", "write": ".*", "read": ".*"},
            {"user": "bob", "vhost": "/", "configure": "^bob\\.", "write": "^bob\\.", "read": "^bob\\."},
        ],
        "topic_permissions": [
            {"user": "alice", "vhost": "/", "exchange": "amq.topic",
             "write": "^alice\\.", "read": "^alice\\."},
        ],
        "parameters": [],
        "global_parameters": [],
        "policies": [],
        "queues": [],
        "exchanges": [],
        "bindings": [],
    }


def merged(extra):
    """The fixture definitions with every section of `extra` appended to its own."""
    with open(DEFS) as f:
        d = json.load(f)
    for k, v in extra.items():
        if isinstance(v, list):
            d.setdefault(k, []).extend(v)
        else:
            d[k] = v
    return d


if __name__ == "__main__":
    with open(DEFS, "w") as f:
        json.dump(build(), f, indent=2)
        f.write("\n")
    print(DEFS)
