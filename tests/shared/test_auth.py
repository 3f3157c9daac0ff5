"""The caller as every service resolves it: the admin token, an official's bearer token
(by digest), or the session cookie; writes made with the cookie need the CSRF value and
must not come from another site; scopes of managers."""

from datetime import UTC, datetime

import mongomock
import pytest
from flask import g
from flask_smorest import Blueprint

from devkit.apps import ADMIN, ADMIN_TOKEN, make_settings
from shared import mongomock_speedups, sessions
from shared.access import AccessStore
from shared.auth import require, require_unit, token_digest
from shared.http import body_types, create_base_app


@pytest.fixture
def app():
    mongomock_speedups.install()
    db = mongomock.MongoClient(tz_aware=True)["auth"]
    store = AccessStore(lambda: db)
    key = sessions.generate_key()
    store.apply_keys([{"kid": sessions.key_id(sessions.public_key_text(key)),
                       "public_key": sessions.public_key_text(key)}])
    store.apply_unit({"code": "HC", "parent": None, "managers": ["TP"], "version": 1})
    store.apply_unit({"code": "TK", "parent": None, "managers": [], "version": 1})
    for code, unit, roles in [("TP", "HC", []), ("CB1", "HC", []), ("AD", "HC", ["admin"])]:
        store.apply_official({"code": code, "unit": unit, "full_name": code, "roles": roles,
                              "version": 1})
    store.apply_token(token_digest("cso_tp-token"), "TP", datetime.now(UTC))
    app, api = create_base_app(make_settings("survey", "mongomock://localhost/auth"),
                               service="survey", title="t")
    app.config["CONGSO_ACCESS"] = store
    blp = Blueprint("t", __name__, url_prefix="/api/v1")

    @blp.route("/admin-only", methods=["GET", "POST"])
    @require("admin")
    def admin_only():
        return {"who": g.principal.official or "admin"}

    @blp.route("/units/<unit>", methods=["GET", "POST"])
    @require("signed-in")
    def unit_page(unit):
        require_unit(g.principal, unit)
        return {"who": g.principal.official, "via": g.principal.via}

    @blp.post("/form")
    @body_types("application/x-www-form-urlencoded")
    @require("signed-in")
    def form():
        return {"who": g.principal.official}

    api.register_blueprint(blp)
    app.signer = sessions.SessionSigner(key)
    return app


def cookie_client(app, official):
    token, claims = app.signer.issue(official)
    client = app.test_client()
    client.set_cookie(sessions.COOKIE, token)
    return client, claims


def test_the_admin_token_and_an_admin_official_are_administrators(app):
    assert app.test_client().get("/api/v1/admin-only", headers=ADMIN).status_code == 200
    client, _ = cookie_client(app, "AD")
    assert client.get("/api/v1/admin-only").get_json() == {"who": "AD"}
    client, _ = cookie_client(app, "TP")
    assert client.get("/api/v1/admin-only").status_code == 403


def test_a_manager_reads_their_units_only_whether_by_cookie_or_token(app):
    client, _ = cookie_client(app, "TP")
    assert client.get("/api/v1/units/HC").get_json() == {"who": "TP", "via": "session"}
    assert client.get("/api/v1/units/TK").status_code == 403
    bearer = {"Authorization": "Bearer cso_tp-token"}
    assert app.test_client().get("/api/v1/units/HC", headers=bearer).status_code == 200
    assert app.test_client().get("/api/v1/units/TK", headers=bearer).status_code == 403


def test_cookie_writes_need_the_csrf_value_and_the_same_site(app):
    client, claims = cookie_client(app, "TP")
    r = client.post("/api/v1/units/HC")
    assert r.status_code == 403 and r.get_json()["type"] == "/problems/csrf"
    r = client.post("/api/v1/units/HC", headers={sessions.CSRF_HEADER: "wrong"})
    assert r.status_code == 403
    ok = {sessions.CSRF_HEADER: claims.csrf}
    assert client.post("/api/v1/units/HC", headers=ok).status_code == 200
    r = client.post("/api/v1/units/HC", headers={**ok, "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and r.get_json()["type"] == "/problems/cross-site"
    r = client.post("/api/v1/form", data={sessions.CSRF_FIELD: claims.csrf})
    assert r.status_code == 200  # a plain form post carries it as a field
    assert client.post("/api/v1/form", data={sessions.CSRF_FIELD: "x"}).status_code == 403
    bearer = {"Authorization": "Bearer cso_tp-token"}  # no ambient credential, no CSRF
    assert app.test_client().post("/api/v1/units/HC", headers=bearer).status_code == 200


def test_forged_or_unknown_credentials_are_401_and_a_bad_bearer_is_not_topped_up(app):
    client, _ = cookie_client(app, "TP")
    assert client.get("/api/v1/units/HC", headers={
        "Authorization": "Bearer cso_wrong"}).status_code == 401
    forged, _ = sessions.SessionSigner(sessions.generate_key()).issue("AD")
    other = app.test_client()
    other.set_cookie(sessions.COOKIE, forged)
    assert other.get("/api/v1/admin-only").status_code == 401
    assert app.test_client().get("/api/v1/admin-only").status_code == 401
    assert ADMIN_TOKEN  # the admin token is a bearer token, never a cookie
