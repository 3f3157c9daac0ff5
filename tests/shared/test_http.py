"""What every app answers the same way: health, readiness, metrics, OpenAPI, errors."""

import pytest

from devkit.apps import make_settings, start
from services.bootstrap import create_app
from shared.memory_bus import MemoryBus


@pytest.fixture
def app_client(mongo_url):
    running = start(create_app, make_settings("all", mongo_url), MemoryBus())
    yield running.client
    running.stop()


def test_health_and_readiness(app_client):
    assert app_client.get("/healthz").status_code == 200
    r = app_client.get("/readyz")
    assert r.status_code == 200
    assert all(r.get_json()["checks"].values())
    assert set(r.get_json()["checks"]) == {
        f"{s}.{c}" for s in ("survey", "scoring", "notify") for c in ("database", "broker")}


def test_metrics_are_prometheus_text_for_operators_only(app_client):
    from devkit.apps import ADMIN

    app_client.get("/healthz")
    assert app_client.get("/metrics").status_code == 401
    assert app_client.get("/metrics", headers={
        "Authorization": "Bearer not-the-token-at-all"}).status_code == 401
    r = app_client.get("/metrics", headers=ADMIN)
    assert r.status_code == 200 and r.mimetype == "text/plain"
    assert b'congso_http_requests_total{endpoint="/healthz"' in r.data
    assert b"_created" not in r.data  # one sample per series, as in multiprocess mode


def test_openapi_document_lists_the_contract_paths(app_client):
    doc = app_client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/ratings", "/api/v1/scores/officials/{code}",
            "/api/v1/units/{code}", "/api/v1/counters/{code}"} <= set(doc["paths"])
    assert "bearerAuth" in doc["components"]["securitySchemes"]


def test_unknown_path_and_method_are_problems(app_client):
    r = app_client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert r.get_json()["title"] == "Not Found"
    r = app_client.delete("/api/v1/ratings")
    assert r.status_code == 405 and "POST" in r.headers["Allow"]


def test_request_id_is_echoed(app_client):
    r = app_client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123"


def test_readiness_fails_when_the_broker_is_unreachable(mongo_url):
    from services.scoring.app import create_app as create_scoring
    from shared.bus import RabbitBus

    settings = make_settings("scoring", mongo_url, amqp_url="amqp://guest:guest@127.0.0.1:1/")
    running = start(create_scoring, settings, RabbitBus(settings.amqp_url))
    try:
        r = running.client.get("/readyz")
        assert r.status_code == 503
        assert r.get_json()["checks"] == {"scoring.database": True, "scoring.broker": False}
        assert running.client.get("/healthz").status_code == 200
    finally:
        running.stop()


def test_unreachable_database_is_503_and_not_ready():
    from services.survey.app import create_app as create_survey

    settings = make_settings(
        "survey", "mongodb://127.0.0.1:1/congso_test?serverSelectionTimeoutMS=300")
    running = start(create_survey, settings, MemoryBus())
    try:
        r = running.client.get("/readyz")
        assert r.status_code == 503 and r.get_json()["checks"]["survey.database"] is False
        from devkit.apps import ADMIN

        r = running.client.get("/api/v1/units/U1", headers=ADMIN)
        assert r.status_code == 503
        assert r.mimetype == "application/problem+json" and r.headers["Retry-After"]
    finally:
        running.stop()


def json_write_operations(app_client):
    """(method, path) of every operation that takes a JSON body, from the OpenAPI document."""
    import re

    doc = app_client.get("/api/v1/openapi.json").get_json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in ("post", "put", "patch"):
                continue
            content = (op.get("requestBody") or {}).get("content") or {}
            if "application/json" in content:
                yield method, re.sub(r"\{[^}]+\}", "X1", path)


def test_deeply_nested_json_is_a_400_on_every_json_endpoint_without_a_traceback(
        app_client, caplog):
    """`[` × 5,000 made the JSON parser recurse until RecursionError: a 500 and a full
    traceback per request, a log flood anyone could cause."""
    from devkit.apps import ADMIN, seed_directory

    seed_directory(app_client)
    token = app_client.post("/api/v1/officials/CB1/tokens", headers=ADMIN).get_json()["token"]
    official = {"Authorization": f"Bearer {token}"}
    operations = list(json_write_operations(app_client))
    assert ("post", "/api/v1/ratings") in operations and len(operations) > 5
    for method, path in operations:
        for body in (b"[" * 5000, b'{"a":' * 5000):
            for headers in (ADMIN, official):  # whichever role the operation is for
                r = app_client.open(path, method=method.upper(), data=body,
                                    headers=headers, content_type="application/json")
                if r.status_code != 403:
                    break
            assert r.status_code == 400, (method, path, r.status_code)
            assert r.mimetype == "application/problem+json"
    assert not [rec for rec in caplog.records if rec.exc_info], "no traceback logged"
    assert not [rec for rec in caplog.records if rec.levelname in ("ERROR", "CRITICAL")]


def test_a_metrics_token_reads_metrics_and_nothing_else(mongo_url):
    from services.scoring.app import create_app as create_scoring

    running = start(create_scoring, make_settings("scoring", mongo_url,
                                                  metrics_token="metrics-token-0123456789"),
                    MemoryBus())
    try:
        metrics = {"Authorization": "Bearer metrics-token-0123456789"}
        assert running.client.get("/metrics", headers=metrics).status_code == 200
        assert running.client.get("/api/v1/scoring/config", headers=metrics).status_code == 401
    finally:
        running.stop()


def test_personal_calls_leave_no_trace_in_the_metrics(app_client):
    """A call that is one person's action (who they are, a review, a sign-in) would be
    dated by a counter moving: those endpoints are not counted."""
    from devkit.apps import ADMIN

    for _ in range(3):
        assert app_client.get("/api/v1/me", headers=ADMIN).status_code == 200
    app_client.get("/healthz")
    text = app_client.get("/metrics", headers=ADMIN).get_data(as_text=True)
    assert 'endpoint="/healthz"' in text
    assert "/api/v1/me" not in text


def test_events_that_are_one_persons_action_are_counted_under_one_label(app_client):
    """A review's event counted under its own type would date the review (one more at
    08:14); personal events and outboxes are summed under "personal"."""
    from devkit.apps import ADMIN, seed_directory

    seed_directory(app_client)
    token = app_client.post("/api/v1/officials/CB1/tokens", headers=ADMIN).get_json()["token"]
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.conftest import wait_for

    year = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).year
    r = app_client.put(f"/api/v1/peer-reviews/{year}/CB2", json={"scores": dict.fromkeys(
        ("discipline", "conduct", "ethics", "dress", "participation"), 4)},
        headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201
    text = wait_for(lambda: (lambda t: t if 'type="personal"' in t else None)(
        app_client.get("/metrics", headers=ADMIN).get_data(as_text=True)),
        message="the review's event published")
    assert "peer_review" not in text and "auth.token_issued" not in text
