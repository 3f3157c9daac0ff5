"""Every secured operation in survey's OpenAPI document refuses missing and wrong tokens."""

from __future__ import annotations

import re

import pytest

from devkit.apps import ADMIN

ROLE_OF = {  # operations for officials; every other secured one is for the admin
    ("get", "/api/v1/peer-reviews/{period}/assignments"),
    ("get", "/api/v1/peer-reviews/{period}/{reviewee}"),
    ("put", "/api/v1/peer-reviews/{period}/{reviewee}"),
}
ANY_CALLER = {("get", "/api/v1/me")}  # whoever is signed in


def operations(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in {"get", "put", "post", "delete"} and op.get("security"):
                yield method, path


def concrete(path: str) -> str:
    return re.sub(r"\{period\}", "2026", re.sub(r"\{[a-z_]+\}", "CB1", path))


def test_secured_operations_are_documented(client):
    ops = set(operations(client))
    assert ("post", "/api/v1/directory/import") in ops
    assert ("put", "/api/v1/units/{code}") in ops
    assert ops >= ROLE_OF
    assert ("post", "/api/v1/ratings") not in ops


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token-at-all"},
                                     {"Authorization": "Basic YWRtaW46YWRtaW4="}])
def test_missing_or_invalid_token_is_401_before_anything_else(client, token, headers):
    for method, path in operations(client):
        r = getattr(client, method)(concrete(path), json={}, headers=headers)
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.mimetype == "application/problem+json"
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_role_is_403(client, token):
    official = {"Authorization": "Bearer " + client.post(
        "/api/v1/officials/CB1/tokens", headers=ADMIN).get_json()["token"]}
    for method, path in set(operations(client)) - ANY_CALLER:
        headers = ADMIN if (method, path) in ROLE_OF else official
        r = getattr(client, method)(concrete(path), json={}, headers=headers)
        assert r.status_code == 403, (method, path, r.status_code)
