"""Vhost metadata (description, tags, default queue type) through PUT /api/vhosts, definitions
imports and exports, and restarts; the answers of per-vhost endpoints for a vhost that does not
exist. Checked against RabbitMQ 3.10.8."""
import pytest

from harness.broker import PulsedBroker
from harness.http_api import HttpApi, q

NOT_FOUND = {"error": "Object Not Found", "reason": "Not Found"}


@pytest.fixture
def vhost(api, uname):
    names = []

    def make():
        names.append(uname("meta"))
        return names[-1]

    yield make
    for n in names:
        api.delete("/api/vhosts/" + q(n))


def shape(api, name):
    got = api.get("/api/vhosts/" + q(name))
    assert got.status == 200
    return {k: got.json[k] for k in ("description", "tags", "default_queue_type", "metadata")}


def test_put_sets_and_replaces_metadata(api, vhost):
    v = vhost()
    r = api.put("/api/vhosts/" + q(v), {"description": "my desc", "tags": " a , b,,c",
                                          "default_queue_type": "quorum"})
    assert r.status == 201
    # A comma-separated tags string is split and trimmed; 3.10 ignores default_queue_type on PUT.
    assert shape(api, v) == {
        "description": "my desc", "tags": ["a", "b", "", "c"], "default_queue_type": "undefined",
        "metadata": {"description": "my desc", "tags": ["a", "b", "", "c"]}}
    listed = [x for x in api.get("/api/vhosts?columns=name,tags,metadata").json if x["name"] == v]
    assert listed == [{"name": v, "tags": ["a", "b", "", "c"],
                       "metadata": {"description": "my desc", "tags": ["a", "b", "", "c"]}}]
    # A PUT replaces both fields: what it leaves out is cleared.
    assert api.put("/api/vhosts/" + q(v), {"tags": ["x", "y"]}).status == 204
    assert shape(api, v) == {"description": "", "tags": ["x", "y"],
                             "default_queue_type": "undefined",
                             "metadata": {"description": "", "tags": ["x", "y"]}}
    assert api.put("/api/vhosts/" + q(v), {"description": "only"}).status == 204
    assert shape(api, v)["metadata"] == {"description": "only", "tags": []}


def test_import_sets_metadata(api, vhost):
    top, meta, dqt = vhost(), vhost(), vhost()
    r = api.post("/api/definitions", {"vhosts": [
        {"name": top, "description": "top", "tags": ["t1", "t2"],
         "metadata": {"description": "ignored"}},
        {"name": meta, "metadata": {"description": "from metadata", "tags": ["m"]}},
        {"name": dqt, "tags": "a,b", "metadata": {"default_queue_type": "quorum"}}]})
    assert r.status in (201, 204), r
    assert shape(api, top) == {"description": "top", "tags": ["t1", "t2"],
                               "default_queue_type": "undefined",
                               "metadata": {"description": "top", "tags": ["t1", "t2"]}}
    assert shape(api, meta)["metadata"] == {"description": "from metadata", "tags": ["m"]}
    assert shape(api, dqt) == {
        "description": "", "tags": ["a", "b"], "default_queue_type": "quorum",
        "metadata": {"description": "", "tags": ["a", "b"], "default_queue_type": "quorum"}}
    # A PUT keeps the default queue type an import set, and an import over an existing vhost
    # replaces its metadata.
    assert api.put("/api/vhosts/" + q(dqt), {"description": "z"}).status == 204
    assert shape(api, dqt)["default_queue_type"] == "quorum"
    r = api.post("/api/definitions", {"vhosts": [{"name": top, "description": "new"}]})
    assert r.status in (201, 204), r
    assert shape(api, top)["metadata"] == {"description": "new", "tags": []}


@pytest.mark.pulsed_only  # RabbitMQ 3.10.8 exports a vhost as its name only
def test_export_carries_metadata(api, vhost):
    v = vhost()
    assert api.post("/api/definitions", {"vhosts": [
        {"name": v, "description": "d", "tags": ["t"],
         "metadata": {"default_queue_type": "classic"}}]}).status in (201, 204)
    mine = [x for x in api.get("/api/definitions").json["vhosts"] if x["name"] == v]
    assert mine == [{"name": v, "limits": [], "metadata": {
        "description": "d", "tags": ["t"], "default_queue_type": "classic"}}]


@pytest.mark.pulsed_only
def test_metadata_survives_restart(tmp_path):
    b = PulsedBroker()
    b.start()
    try:
        api = HttpApi(b)
        assert api.put("/api/vhosts/kept", {"description": "durable", "tags": "x,y"}).status == 201
        assert api.post("/api/definitions", {"vhosts": [
            {"name": "dq", "metadata": {"default_queue_type": "quorum"}}]}).status in (201, 204)
        b.restart()
        api = HttpApi(b)
        assert shape(api, "kept") == {"description": "durable", "tags": ["x", "y"],
                                      "default_queue_type": "undefined",
                                      "metadata": {"description": "durable", "tags": ["x", "y"]}}
        assert shape(api, "dq")["default_queue_type"] == "quorum"
        b.restart(kill=True)
        assert shape(HttpApi(b), "kept")["description"] == "durable"
    finally:
        b.stop(check=False)


def test_definitions_of_a_missing_vhost(api, uname):
    v = q(uname("missing"))
    # RabbitMQ 3.10 answers the export with 400 and the import with 404, both "vhost_not_found".
    r = api.get("/api/definitions/" + v)
    assert (r.status, r.json) == (400, {"error": "bad_request", "reason": "vhost_not_found"})
    r = api.post("/api/definitions/" + v, {"queues": []})
    assert (r.status, r.json) == (404, {"error": "not_found", "reason": "vhost_not_found"})
    # The body is parsed first.
    r = api.request("POST", "/api/definitions/" + v, raw_body=b"notjson",
                    headers={"Content-Type": "application/json"})
    assert (r.status, r.json) == (400, {"error": "bad_request", "reason": "failed_to_parse_json"})
    r = api.request("POST", "/api/definitions", raw_body=b"[1]",
                    headers={"Content-Type": "application/json"})
    assert (r.status, r.json) == (400, {"error": "bad_request", "reason": "failed_to_parse_json"})
    assert api.delete("/api/definitions/" + v).status == 405


@pytest.mark.parametrize("path", [
    "queues/{v}", "queues/{v}/q", "exchanges/{v}", "exchanges/{v}/x", "bindings/{v}",
    "policies/{v}", "policies/{v}/p", "operator-policies/{v}", "vhosts/{v}",
    "permissions/{v}/guest", "topic-permissions/{v}/guest", "consumers/{v}",
    "aliveness-test/{v}", "vhosts/{v}/connections", "vhosts/{v}/channels",
    "vhosts/{v}/permissions", "vhosts/{v}/topic-permissions"])
def test_other_endpoints_of_a_missing_vhost(api, uname, path):
    r = api.get("/api/" + path.format(v=q(uname("missing"))))
    assert (r.status, r.json) == (404, NOT_FOUND)
