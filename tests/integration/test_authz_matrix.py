"""Who may call what: every route of the OpenAPI document x every kind of key, against a real gateway.

The routes come from the document the gateway serves, so a route added without a row here fails
the test. Key kinds: the admin account's key, a parent's management key, its inference-only key, a
key of one of its sub-accounts, another account's management key, and no key. A sub-account key
sees 404 for everything but its own record and usage (the same body as a route or id that does not
exist), an inference-only key 403 on management routes, another account 404 for this one's ids.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Gateway

KINDS = ("admin", "manage", "inference", "sub_account", "other", "none")
HTTP_METHODS = {"get", "post", "patch", "delete", "put"}

# Expected status per key kind, by kind of route.
EVERYONE = dict.fromkeys(KINDS, 200)
MODEL_CALL = {**dict.fromkeys(KINDS, 400), "none": 401}  # an empty body: refused after the key is read
READ_ANY_KEY = {**dict.fromkeys(KINDS, 200), "none": 401}
SIGNED_URL = dict.fromkeys(KINDS, 403)  # the signature is the credential: keys change nothing
NOT_BUILT_OPEN = dict.fromkeys(KINDS, 501)
NOT_BUILT_MANAGE = {**NOT_BUILT_OPEN, "inference": 403, "sub_account": 404}
MANAGE = {"admin": 200, "manage": 200, "other": 200, "inference": 403, "sub_account": 404, "none": 401}
# On one of the parent's ids: others' keys see nothing there (admin keys too: their own account only).
PARENTS_ID = {**MANAGE, "admin": 404, "other": 404}
OWN_READ = {**PARENTS_ID, "sub_account": 200}  # the sub-account key reads its own record / usage
PARENTS_FILE = {**READ_ANY_KEY, "admin": 404, "other": 404, "sub_account": 404}

ROUTES: dict[tuple[str, str], dict[str, int]] = {
    ("POST", "/v1/chat/completions"): MODEL_CALL,
    ("POST", "/v1/embeddings"): MODEL_CALL,
    ("POST", "/v1/rerank"): MODEL_CALL,
    ("POST", "/v1/images/generations"): MODEL_CALL,
    ("POST", "/v1/audio/transcriptions"): MODEL_CALL,
    ("POST", "/v1/audio/translations"): MODEL_CALL,
    ("POST", "/v1/audio/speech"): MODEL_CALL,
    ("POST", "/v1/moderations"): MODEL_CALL,
    ("POST", "/v1/translations"): MODEL_CALL,
    ("POST", "/v1/classifications"): MODEL_CALL,
    ("POST", "/v1/detections"): MODEL_CALL,
    ("POST", "/v1/ocr"): MODEL_CALL,
    ("GET", "/v1/models"): READ_ANY_KEY,
    ("GET", "/v1/models/{id}"): READ_ANY_KEY,
    ("GET", "/v1/balance"): READ_ANY_KEY,
    ("GET", "/health"): EVERYONE,
    ("GET", "/openapi.json"): EVERYONE,
    ("GET", "/v1/blobs/{key}"): SIGNED_URL,
    ("POST", "/v1/sub-accounts"): MANAGE,
    ("GET", "/v1/sub-accounts"): MANAGE,
    ("GET", "/v1/sub-accounts/{id}"): OWN_READ,
    ("PATCH", "/v1/sub-accounts/{id}"): PARENTS_ID,
    ("DELETE", "/v1/sub-accounts/{id}"): PARENTS_ID,
    ("GET", "/v1/sub-accounts/{id}/usage"): OWN_READ,
    ("GET", "/v1/usage/by-tag"): MANAGE,
    ("GET", "/v1/usage/by-sub-account"): MANAGE,
    ("POST", "/v1/budgets"): MANAGE,
    ("GET", "/v1/budgets"): MANAGE,
    ("DELETE", "/v1/budgets/{id}"): PARENTS_ID,
    # Files: every key kind; ids are the parent's own file (sub-account keys see only theirs).
    ("POST", "/v1/files"): MODEL_CALL,  # a JSON body, not a multipart upload: 400 once the key is read
    ("GET", "/v1/files"): READ_ANY_KEY,
    ("GET", "/v1/files/{id}"): PARENTS_FILE,
    ("DELETE", "/v1/files/{id}"): PARENTS_FILE,
    ("GET", "/v1/files/{id}/content"): PARENTS_FILE,
    ("GET", "/v1/webhook-secret"): MANAGE,
    ("POST", "/v1/webhook-secret/rotate"): MANAGE,
    ("GET", "/v1/webhook-endpoint"): MANAGE,
    ("PUT", "/v1/webhook-endpoint"): MANAGE,
    # Not built yet: model-call routes answer every key 501, management ones check the key first.
    ("POST", "/v1/videos/generations"): NOT_BUILT_OPEN,
    ("POST", "/v1/audio/music"): NOT_BUILT_OPEN,
    ("POST", "/v1/3d/generations"): NOT_BUILT_OPEN,
    ("GET", "/v1/jobs/{id}"): NOT_BUILT_OPEN,
    ("DELETE", "/v1/jobs/{id}"): NOT_BUILT_OPEN,
    ("GET", "/v1/files/jobs/{job_id}/{filename}/signed"): NOT_BUILT_OPEN,
    ("POST", "/v1/batches"): NOT_BUILT_OPEN,
    ("GET", "/v1/batches"): NOT_BUILT_OPEN,
    ("GET", "/v1/batches/{id}"): NOT_BUILT_OPEN,
    ("POST", "/v1/batches/{id}/cancel"): NOT_BUILT_OPEN,
    ("DELETE", "/v1/cache"): NOT_BUILT_OPEN,  # a sub-account will purge its own entries
    ("POST", "/v1/evals"): NOT_BUILT_MANAGE,
    ("GET", "/v1/evals"): NOT_BUILT_MANAGE,
    ("GET", "/v1/evals/{id}"): NOT_BUILT_MANAGE,
    ("POST", "/v1/replays"): NOT_BUILT_MANAGE,
    ("GET", "/v1/replays"): NOT_BUILT_MANAGE,
    ("GET", "/v1/replays/{id}"): NOT_BUILT_MANAGE,
    ("GET", "/v1/health/providers"): NOT_BUILT_MANAGE,
}
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/sub-accounts"): {"name": "matrix", "spend_cap_cents": 0},
    ("PATCH", "/v1/sub-accounts/{id}"): {"name": "parent-a"},
    ("POST", "/v1/budgets"): {"tag": "matrix", "cap_cents": 1},
    ("PUT", "/v1/webhook-endpoint"): {"url": None},
}


def _documented() -> list[tuple[str, str]]:
    text = resources.files("aigateway.data").joinpath("openapi.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    return [(m.upper(), path) for path, item in doc["paths"].items() for m in item if m in HTTP_METHODS]


@dataclass
class World:
    """Account A (the parent under test) with its keys and sub-accounts; account B beside it."""

    keys: dict[str, str | None]
    account_a: str
    sub_a: str  # the sub-account whose key is the "sub_account" kind
    sibling: str  # another sub-account of A
    sub_b: str  # a sub-account of account B
    sub_b_key: str
    http: httpx.Client

    def create_sub(self, name: str) -> str:
        answer = self.http.post(
            "/v1/sub-accounts", headers=_auth(self.keys["manage"]), json={"name": name, "spend_cap_cents": 0}
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["id"])


def _auth(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


@pytest.fixture(scope="module")
def world(gateway: Gateway) -> Iterator[World]:
    account_a, manage = gateway.new_account("matrix-a", usd="1")
    lines = gateway.cli("keys", "create", "--account", account_a, "--inference-only").strip().splitlines()
    assert lines[0].split()[-1] == "inference"
    _account_b, other = gateway.new_account("matrix-b")
    with gateway.http() as http:
        subs = []
        for key, name in ((manage, "parent-a"), (manage, "sibling"), (other, "of-b")):
            answer = http.post(
                "/v1/sub-accounts", headers=_auth(key), json={"name": name, "spend_cap_cents": 9}
            )
            assert answer.status_code == 200, answer.text
            subs.append(answer.json())
        keys = {
            "admin": gateway.admin_key,
            "manage": manage,
            "inference": lines[-1],
            "sub_account": subs[0]["key"],
            "other": other,
            "none": None,
        }
        yield World(keys, account_a, subs[0]["id"], subs[1]["id"], subs[2]["id"], subs[2]["key"], http)


def _url(world: World, method: str, path: str, kind: str, cell: int) -> str:
    """The path with its parameters: the parent's ids (a fresh one where the call deletes it)."""
    if path.startswith("/v1/sub-accounts/{id}"):
        target = world.sub_a
        if method == "DELETE" and kind != "sub_account":
            target = world.create_sub(f"victim-{cell}")
        return path.replace("{id}", target)
    if path == "/v1/budgets/{id}":
        answer = world.http.post(
            "/v1/budgets", headers=_auth(world.keys["manage"]), json={"tag": f"victim-{cell}", "cap_cents": 1}
        )
        return path.replace("{id}", answer.json()["id"])
    if path.startswith("/v1/files/{id}"):
        answer = world.http.post(
            "/v1/files",
            headers=_auth(world.keys["manage"]),
            files={"file": (f"matrix-{cell}.txt", b"x")},
            data={"purpose": "user_data"},
        )
        return path.replace("{id}", answer.json()["id"])
    if path == "/v1/models/{id}":
        return "/v1/models/sim/gpt"
    if path == "/v1/blobs/{key}":
        return "/v1/blobs/images/call_x/0.png?expires=1&signature=" + "0" * 64
    return path.replace("{id}", "x1").replace("{job_id}", "job_x1").replace("{filename}", "a.txt")


def _no_route(method: str, url: str) -> dict[str, Any]:
    path = url.split("?")[0]
    return {
        "error": {
            "message": f"No route {method} {path}.",
            "type": "invalid_request_error",
            "code": 404,
            "param": None,
        }
    }


def _missing_sub(sub_id: str) -> dict[str, Any]:
    return {
        "error": {
            "message": f"No sub-account '{sub_id}'.",
            "type": "invalid_request_error",
            "code": 404,
            "param": "id",
        }
    }


def test_every_documented_route_has_a_row() -> None:
    documented = set(_documented())
    assert documented - set(ROUTES) == set(), "routes without an authorization row: add them to ROUTES"
    assert set(ROUTES) - documented == set(), "rows for routes the document no longer has"


def test_every_route_answers_every_key_kind_as_expected(world: World) -> None:
    failures = []
    cells = itertools.count()
    for (method, path), kind in itertools.product(_documented(), KINDS):
        expected = ROUTES[(method, path)][kind]
        url = _url(world, method, path, kind, next(cells))
        body = BODIES.get((method, path), {} if method in ("POST", "PATCH") else None)
        answer = world.http.request(method, url, headers=_auth(world.keys[kind]), json=body)
        if answer.status_code != expected:
            failures.append(
                f"{method} {path} as {kind}: {answer.status_code} (expected {expected}) {answer.text[:200]}"
            )
            continue
        if answer.status_code >= 400:
            error = answer.json()["error"]
            assert set(error) == {"message", "type", "code", "param"} and error["code"] == expected
        if kind == "sub_account" and expected == 404 and path.startswith("/v1/files/{id}"):
            # A route it may use: the parent's file reads like one that does not exist.
            assert answer.json()["error"]["message"].startswith("No such File object"), answer.text
        elif kind == "sub_account" and expected == 404:
            # Exactly what a route that does not exist answers: nothing says this one does.
            assert answer.json() == _no_route(method, url), (method, path, answer.text)
        if kind == "inference" and expected == 403:
            assert answer.json()["error"]["type"] == "permission_error"
    assert not failures, "\n".join(failures)


def test_a_route_that_does_not_exist_answers_like_a_refused_sub_account_key(world: World) -> None:
    for key in world.keys.values():
        answer = world.http.get("/v1/no-such-route", headers=_auth(key))
        assert answer.status_code == 404 and answer.json() == _no_route("GET", "/v1/no-such-route")


def test_another_accounts_or_siblings_sub_account_reads_like_a_missing_one(world: World) -> None:
    missing = "sub_" + "0" * 24
    manage, sub_key = world.keys["manage"], world.keys["sub_account"]
    for key, target in (
        (manage, missing),  # the baseline: an id that does not exist
        (manage, world.sub_b),  # another account's sub-account, by the parent's key
        (world.keys["other"], world.sub_a),  # this account's, by the other account
        (sub_key, world.sibling),  # a sibling, by a sub-account key
        (sub_key, world.sub_b),  # another account's, by a sub-account key
        (world.sub_b_key, world.sub_a),  # this account's, by another account's sub-account key
    ):
        for suffix in ("", "/usage"):
            answer = world.http.get(f"/v1/sub-accounts/{target}{suffix}", headers=_auth(key))
            assert answer.status_code == 404, (target, suffix, answer.text)
            assert answer.json() == _missing_sub(target)
    for target in (missing, world.sub_b):
        for method, body in (("PATCH", {"name": "x"}), ("DELETE", None)):
            answer = world.http.request(
                method, f"/v1/sub-accounts/{target}", headers=_auth(manage), json=body
            )
            assert answer.status_code == 404 and answer.json() == _missing_sub(target)


def test_what_a_sub_account_key_may_read_is_only_its_own(world: World) -> None:
    sub_key = world.keys["sub_account"]
    record = world.http.get(f"/v1/sub-accounts/{world.sub_a}", headers=_auth(sub_key)).json()
    assert record["id"] == world.sub_a and "key" not in record
    usage = world.http.get(f"/v1/sub-accounts/{world.sub_a}/usage", headers=_auth(sub_key)).json()
    assert {e["sub_account_id"] for e in usage["data"] + usage["test"]} == {world.sub_a}
    balance = world.http.get("/v1/balance", headers=_auth(sub_key)).json()
    assert balance["sub_account_id"] == world.sub_a and "account_id" not in balance and "usd" not in balance
    listed = world.http.get("/v1/sub-accounts", headers=_auth(world.keys["other"])).json()
    assert world.sub_a not in {s["id"] for s in listed["data"]}
    mine = world.http.get("/v1/sub-accounts", headers=_auth(world.keys["manage"])).json()
    assert {world.sub_a, world.sibling} <= {s["id"] for s in mine["data"]}
    assert world.sub_b not in {s["id"] for s in mine["data"]}
