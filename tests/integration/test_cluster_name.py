"""The cluster name and the global runtime parameters: /api/cluster-name,
/api/global-parameters[/{name}], the name in /api/overview, in connection.start's
server_properties and in Prometheus' rabbitmq_identity_info, definitions export/import,
persistence across restarts and the `cluster_name` config key. Checked against RabbitMQ 3.10.8
(see RABBITMQ_NOTES.md, "Cluster name and global parameters")."""
import re
import urllib.request

import pytest

from harness.broker import PulsedBroker
from harness.http_api import HttpApi, q
from pulsectl_common import binary, ctl  # noqa: F401 (fixtures)

NOT_FOUND = {"error": "Object Not Found", "reason": "Not Found"}
CLUSTER_ID = re.compile(r"^rabbitmq-cluster-id-[A-Za-z0-9_-]{22}$")


@pytest.fixture
def api(broker):
    api = HttpApi(broker)
    yield api
    # The session broker is shared: put its name back to the default (the node name).
    api.delete("/api/global-parameters/cluster_name")


@pytest.fixture
def users(api, uname):
    """users(tag) -> (name, password) of a new user with that tag (and no permission)."""
    made = []

    def make(tag):
        name = uname("gp-" + (tag or "none"))
        assert api.put("/api/users/" + q(name), {"password": "pw", "tags": tag}).status == 201
        made.append(name)
        return name, "pw"

    yield make
    for name in made:
        api.delete("/api/users/" + q(name))


def amqp_cluster_name(broker):
    conn = broker.connect()
    try:
        return conn._impl.server_properties["cluster_name"]
    finally:
        conn.close()


def identity(broker):
    """The labels of rabbitmq_identity_info on /metrics."""
    url = "http://%s:%d/metrics" % (broker.host, broker.prometheus_port)
    text = urllib.request.urlopen(url, timeout=30).read().decode()
    line = [x for x in text.splitlines() if x.startswith("rabbitmq_identity_info{")]
    assert len(line) == 1, line
    return dict(re.findall(r'(\w+)="([^"]*)"', line[0]))


def params(api):
    got = api.get("/api/global-parameters")
    assert got.status == 200
    return {p["name"]: p["value"] for p in got.json}


def test_default_name_is_the_node_name(api, broker):
    got = api.get("/api/cluster-name")
    assert got.status == 200
    name = got.json["name"]
    # RabbitMQ: node name with the host part replaced by the machine's host name.
    node = api.get("/api/overview").json["node"]
    assert name.split("@")[0] == node.split("@")[0] and "@" in name
    assert api.get("/api/overview").json["cluster_name"] == name
    assert amqp_cluster_name(broker) == name
    assert identity(broker)["rabbitmq_cluster"] == name
    # Unset, the name is not a global parameter.
    assert "cluster_name" not in params(api)
    assert api.get("/api/global-parameters/cluster_name").json == NOT_FOUND


def test_put_shows_everywhere_and_delete_restores(api, broker, uname):
    default = api.get("/api/cluster-name").json["name"]
    name = uname("cluster")
    r = api.put("/api/cluster-name", {"name": name, "other": 1})
    assert r.status == 204 and r.raw == b""
    assert api.get("/api/cluster-name").json == {"name": name}
    assert api.get("/api/overview").json["cluster_name"] == name
    assert amqp_cluster_name(broker) == name  # a new connection
    assert identity(broker)["rabbitmq_cluster"] == name
    assert params(api)["cluster_name"] == name
    assert api.get("/api/global-parameters/cluster_name").json == {"name": "cluster_name",
                                                                   "value": name}
    # The same value, set through the global parameter.
    assert api.put("/api/global-parameters/cluster_name", {"value": name + "2"}).status == 204
    assert api.get("/api/cluster-name").json == {"name": name + "2"}
    assert amqp_cluster_name(broker) == name + "2"
    # An empty name is a name.
    assert api.put("/api/cluster-name", {"name": ""}).status == 204
    assert api.get("/api/cluster-name").json == {"name": ""}
    # Deleting the parameter brings back the default.
    assert api.delete("/api/global-parameters/cluster_name").status == 204
    assert api.get("/api/cluster-name").json == {"name": default}
    assert amqp_cluster_name(broker) == default
    assert identity(broker)["rabbitmq_cluster"] == default


def test_cluster_name_errors(api, broker):
    r = api.put("/api/cluster-name", {})
    assert (r.status, r.json) == (400, {"error": "bad_request",
                                        "reason": "[{key_missing,name}]"})
    r = api.put("/api/cluster-name", {"name": 5})
    if broker.target == "rabbitmq":
        assert r.status == 500  # RabbitMQ 3.10 crashes; pulsed refuses it
    else:
        assert (r.status, r.json["error"]) == (400, "bad_request")
    r = api.request("PUT", "/api/cluster-name", raw_body=b"nope",
                    headers={"Content-Type": "application/json"})
    assert (r.status, r.json) == (400, {"error": "bad_request", "reason": "not_json"})
    for method in ("POST", "DELETE"):
        r = api.request(method, "/api/cluster-name")
        assert r.status == 405 and r.headers["allow"] == "HEAD, GET, PUT, OPTIONS"
    assert api.get("/api/cluster-name/x").json == NOT_FOUND
    assert api.get("/api/cluster-name").status == 200


def test_internal_cluster_id(api, broker):
    ps = params(api)
    cid = ps["internal_cluster_id"]
    assert CLUSTER_ID.match(cid), cid
    assert api.get("/api/global-parameters/internal_cluster_id").json == {
        "name": "internal_cluster_id", "value": cid}
    ident = identity(broker)
    assert ident["rabbitmq_cluster_permanent_id"] == cid
    assert ident["rabbitmq_node"] == api.get("/api/overview").json["node"]


def test_who_may_read_and_set(api, broker, users):
    denied_object = {"error": "not_authorised", "reason": "User not authorised to access object"}
    not_admin = {"error": "not_authorised", "reason": "Not administrator user"}
    for tag in ("management", "monitoring", "policymaker"):
        other = api.as_user(*users(tag))
        assert other.get("/api/cluster-name").status == 200, tag
        r = other.put("/api/cluster-name", {"name": "x"})
        assert (r.status, r.json) == (401, not_admin), tag
        if tag == "policymaker":
            continue
        for r in (other.get("/api/global-parameters"),
                  other.get("/api/global-parameters/internal_cluster_id"),
                  other.put("/api/global-parameters/x", {"value": 1}),
                  other.delete("/api/global-parameters/x")):
            assert (r.status, r.json) == (401, denied_object), tag
    nobody = api.as_user(*users(""))
    r = nobody.get("/api/cluster-name")
    assert (r.status, r.json["reason"]) == (401, "Not management user")
    assert api.get("/api/cluster-name").json["name"] != "x"


def test_global_parameter_crud(api, users, uname):
    name = uname("gp")
    path = "/api/global-parameters/" + q(name)
    assert api.get(path).json == NOT_FOUND
    r = api.put(path, {"value": {"a": [1, 2]}})
    assert r.status == 201 and r.raw == b""
    assert api.get(path).json == {"name": name, "value": {"a": [1, 2]}}
    # A name in the body is ignored: the path names the parameter.
    assert api.put(path, {"name": "other", "value": "s"}).status == 204
    assert api.get(path).json == {"name": name, "value": "s"}
    assert "other" not in params(api)
    r = api.put(path, {})
    assert (r.status, r.json) == (400, {"error": "bad_request",
                                        "reason": "[{key_missing,value}]"})
    assert api.put(path, {"value": None}).status == 204
    assert params(api)[name] is None
    # Listed by name, with the list parameters of every listing.
    listed = api.get("/api/global-parameters?columns=name").json
    assert {"name": name} in listed and all(set(x) == {"name"} for x in listed)
    names = [x["name"] for x in api.get("/api/global-parameters").json]
    assert names == sorted(names)
    rev = [x["name"] for x in api.get("/api/global-parameters?sort=name&sort_reverse=true").json]
    assert rev == sorted(names, reverse=True)
    # Policymakers may change them.
    pm = api.as_user(*users("policymaker"))
    assert pm.put(path, {"value": 3}).status == 204
    assert pm.get(path).json["value"] == 3
    assert pm.delete(path).status == 204
    assert api.delete(path).json == NOT_FOUND
    assert api.get(path).json == NOT_FOUND
    r = api.request("POST", path, body={"value": 1})
    assert r.status == 405 and r.headers["allow"] == "HEAD, GET, PUT, DELETE, OPTIONS"
    r = api.request("POST", "/api/global-parameters", body={"value": 1})
    assert r.status == 405 and r.headers["allow"] == "HEAD, GET, OPTIONS"
    assert api.get("/api/global-parameters/a/b").json == NOT_FOUND


def test_definitions_export_and_import(api, broker, uname):
    name, other = uname("exported"), uname("gp")
    assert api.put("/api/cluster-name", {"name": name}).status == 204
    exported = {p["name"]: p["value"] for p in api.get("/api/definitions").json["global_parameters"]}
    assert exported["cluster_name"] == name
    assert CLUSTER_ID.match(exported["internal_cluster_id"])
    # An import sets the name (and any other global parameter).
    imported = uname("imported")
    r = api.post("/api/definitions", {"global_parameters": [
        {"name": "cluster_name", "value": imported}, {"name": other, "value": {"k": 1}}]})
    assert r.status == 204, r
    try:
        assert api.get("/api/cluster-name").json == {"name": imported}
        assert amqp_cluster_name(broker) == imported
        assert params(api)[other] == {"k": 1}
        # The vhost form of an import has no global parameters.
        r = api.post("/api/definitions/%2F", {"global_parameters": [
            {"name": "cluster_name", "value": "ignored"}]})
        assert r.status == 204, r
        assert api.get("/api/cluster-name").json == {"name": imported}
    finally:
        api.delete("/api/global-parameters/" + q(other))


def test_pulsectl_set_cluster_name(api, ctl, users, uname):
    name = uname("ctl")
    assert ctl.run("set", "cluster-name", name).stdout == "set cluster name to '%s'\n" % name
    assert api.get("/api/cluster-name").json == {"name": name}
    lines = dict(line.split(None, 1) for line in ctl.run("status").stdout.splitlines())
    assert lines["cluster"] == name
    user, password = users("monitoring")
    err = ctl.error(77, "set", "cluster-name", "x", user=user, password=password)
    assert "Not administrator user" in err, err
    assert api.get("/api/cluster-name").json == {"name": name}


# ---------------------------------------------------------------- pulsed only --

@pytest.mark.pulsed_only
def test_non_string_cluster_name_refused(api):
    # RabbitMQ 3.10 stores 7 and serves {"name":7} (clients expect a string); pulsed refuses.
    r = api.put("/api/global-parameters/cluster_name", {"value": 7})
    assert (r.status, r.json["error"]) == (400, "bad_request")
    r = api.post("/api/definitions", {"global_parameters": [{"name": "cluster_name", "value": 5}]})
    assert r.status == 400 and "cluster_name" in r.json["reason"]
    assert isinstance(api.get("/api/cluster-name").json["name"], str)


@pytest.fixture
def node():
    b = PulsedBroker().start(definitions=False)
    yield b
    b.stop()


@pytest.mark.pulsed_only
@pytest.mark.parametrize("kill", [False, True])
def test_survives_restart(node, broker, kill):
    api = HttpApi(node)
    cid = params(api)["internal_cluster_id"]
    # Generated per data directory.
    assert cid != params(HttpApi(broker))["internal_cluster_id"]
    assert api.put("/api/cluster-name", {"name": "kept"}).status == 204
    assert api.put("/api/global-parameters/extra", {"value": [1, "two"]}).status == 201
    assert api.put("/api/global-parameters/gone", {"value": 1}).status == 201
    assert api.delete("/api/global-parameters/gone").status == 204
    node.restart(kill=kill, definitions=False)
    api = HttpApi(node)
    assert params(api) == {"cluster_name": "kept", "internal_cluster_id": cid,
                           "extra": [1, "two"]}
    assert api.get("/api/cluster-name").json == {"name": "kept"}
    assert amqp_cluster_name(node) == "kept"
    assert identity(node)["rabbitmq_cluster"] == "kept"
    assert identity(node)["rabbitmq_cluster_permanent_id"] == cid


@pytest.mark.pulsed_only
def test_config_key_sets_name_at_every_boot():
    b = PulsedBroker({"cluster_name": "from-config"}).start(definitions=False)
    try:
        api = HttpApi(b)
        assert api.get("/api/cluster-name").json == {"name": "from-config"}
        assert params(api)["cluster_name"] == "from-config"
        assert amqp_cluster_name(b) == "from-config"
        assert api.put("/api/cluster-name", {"name": "changed"}).status == 204
        assert amqp_cluster_name(b) == "changed"
        # As RabbitMQ: the configured name wins again at the next boot.
        b.restart(definitions=False)
        api = HttpApi(b)
        assert api.get("/api/cluster-name").json == {"name": "from-config"}
    finally:
        b.stop()
