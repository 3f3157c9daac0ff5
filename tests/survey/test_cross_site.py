"""A page of another site cannot make its visitors' browsers cast ratings: the kiosk form
post and the JSON API refuse cross-site posts (Origin, Sec-Fetch-Site) and store
nothing; the kiosk's own pages, PUBLIC_BASE_URL's origin and programs pass."""

from __future__ import annotations

import html
import uuid

import pytest

from devkit.apps import rating_body
from services.survey.documents import Rating
from shared.crosssite import cross_site_reason
from shared.web import messages

# the test client's requests go to http://localhost; make_settings' PUBLIC_BASE_URL
HOST, PUBLIC = "localhost", "http://kiosk.test"

REFUSED = [
    pytest.param({"Origin": "https://evil.example"}, id="another-origin"),
    pytest.param({"Sec-Fetch-Site": "cross-site"}, id="fetch-metadata-cross-site"),
    pytest.param({"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"},
                 id="cross-site-wins-over-a-same-origin"),
    pytest.param({"Origin": "null"}, id="opaque-origin"),
    pytest.param({"Origin": "http://localhost:8080"}, id="same-host-other-port"),
    pytest.param({"Origin": "http://kiosk.test.evil.example"}, id="public-host-as-prefix"),
    pytest.param({"Origin": "https://kiosk.test"}, id="public-host-other-scheme"),
]
ALLOWED = [
    pytest.param({}, id="a-program-without-headers"),
    pytest.param({"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
                 id="same-origin"),
    pytest.param({"Origin": "http://LOCALHOST:80"}, id="same-host-default-port"),
    pytest.param({"Origin": PUBLIC, "Sec-Fetch-Site": "same-site"}, id="public-base-url"),
    pytest.param({"Sec-Fetch-Site": "none"}, id="typed-by-the-user"),
]


def stored() -> int:
    return Rating._get_collection().count_documents({})


def form(**extra) -> dict:
    return {"overall": "5", "official": "CB1", "client_id": str(uuid.uuid4()), **extra}


@pytest.mark.parametrize("headers", REFUSED)
def test_api_refuses_a_cross_site_post_and_stores_nothing(client, token, headers):
    r = client.post("/api/v1/ratings", json=rating_body(token), headers=headers)
    assert r.status_code == 403
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["type"].endswith("/cross-site")
    assert stored() == 0


@pytest.mark.parametrize("headers", REFUSED)
def test_kiosk_form_refuses_a_cross_site_post_with_a_page(client, token, headers):
    r = client.post(f"/k/{token}", data=form(), headers=headers)
    assert r.status_code == 403 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert messages.TEXT["vi"]["kiosk_cross_site_title"] in page
    assert 'role="alert"' in page
    assert stored() == 0


def test_kiosk_refusal_speaks_english_with_lang_en(client, token):
    r = client.post(f"/k/{token}?lang=en&kiosk=1", data=form(),
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert messages.TEXT["en"]["kiosk_cross_site_text"] in html.unescape(r.get_data(as_text=True))


@pytest.mark.parametrize("headers", ALLOWED)
def test_api_accepts_same_site_posts_and_programs(client, token, headers):
    r = client.post("/api/v1/ratings", json=rating_body(token), headers=headers)
    assert r.status_code == 201, r.get_json()
    assert stored() == 1


@pytest.mark.parametrize("headers", ALLOWED)
def test_kiosk_form_accepts_same_site_posts(client, token, headers):
    r = client.post(f"/k/{token}", data=form(), headers=headers)
    assert r.status_code == 200
    assert messages.TEXT["vi"]["thanks_title"] in r.get_data(as_text=True)
    assert stored() == 1


def test_refusal_comes_before_the_body_is_read(client, token):
    """A forged post is refused whatever it carries: no 404/422 tells its maker more."""
    r = client.post("/k/not-a-token", data={}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = client.post("/api/v1/ratings", json={"nonsense": 1},
                    headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403


def test_the_refusal_is_documented(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    post = doc["paths"]["/api/v1/ratings"]["post"]
    assert "403" in post["responses"] and "requestBody" in post


@pytest.mark.parametrize(("headers", "host", "public", "refused"), [
    ({"Origin": "https://danhgia.gov.vn"}, "danhgia.gov.vn", "http://x", False),
    # TLS ended at the proxy: the app sees http, the browser said https
    ({"Origin": "https://danhgia.gov.vn"}, "danhgia.gov.vn:443", "http://x", False),
    ({"Origin": "http://danhgia.gov.vn:8000"}, "danhgia.gov.vn:8000", "http://x", False),
    ({"Origin": "https://danhgia.gov.vn"}, "10.0.0.5:8000", "https://danhgia.gov.vn/", False),
    ({"Origin": "https://danhgia.gov.vn"}, "10.0.0.5:8000", "https://danhgia.gov.vn:443", False),
    ({"Origin": "https://danhgia.gov.vn:8443"}, "10.0.0.5", "https://danhgia.gov.vn", True),
    ({"Origin": "https://other.gov.vn"}, "danhgia.gov.vn", "https://danhgia.gov.vn", True),
    ({"Origin": "file://"}, "danhgia.gov.vn", "https://danhgia.gov.vn", True),
    ({"Origin": "danhgia.gov.vn"}, "danhgia.gov.vn", "https://danhgia.gov.vn", True),
    ({"Sec-Fetch-Site": "Cross-Site"}, "danhgia.gov.vn", "https://danhgia.gov.vn", True),
    ({"Sec-Fetch-Site": "same-site"}, "danhgia.gov.vn", "https://danhgia.gov.vn", False),
    ({}, "danhgia.gov.vn", "https://danhgia.gov.vn", False),
])
def test_the_rule(headers, host, public, refused):
    assert (cross_site_reason(headers, host, public) is not None) is refused
