"""GET /k/<token> and its no-JavaScript form: what a citizen at the counter sees."""

from __future__ import annotations

import re
import uuid

import pytest

from devkit.apps import ADMIN
from services.survey.documents import Rating
from shared.web import messages


def page(client, token, query=""):
    return client.get(f"/k/{token}{query}")


def test_page_is_vietnamese_with_the_counter_its_officials_and_the_scale(client, token):
    r = page(client, token)
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Quầy 1" in html and "Phường Một" in html
    assert "Cán bộ CB1" in html and "Cán bộ CB2" in html
    for label in messages.SCALE["vi"].values():
        assert label in html
    for name in messages.FACTORS["vi"].values():
        assert name in html
    assert html.count('name="overall"') == 5
    assert messages.TEXT["vi"]["submit"] in html


def test_english_with_lang_en(client, token):
    html = page(client, token, "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    for label in messages.SCALE["en"].values():
        assert label in html
    assert messages.TEXT["en"]["submit"] in html
    assert messages.TEXT["vi"]["submit"] not in html


def test_every_word_on_the_page_comes_from_the_catalogue(client, token):
    """The two languages show the same page structure, only the words differ."""
    vi = page(client, token).get_data(as_text=True)
    en = page(client, token, "?lang=en").get_data(as_text=True)
    strip = re.compile(r">[^<]*<")
    assert len(strip.findall(vi)) == len(strip.findall(en))
    assert set(messages.TEXT["vi"]) == set(messages.TEXT["en"])


def test_kiosk_mode_marks_the_page(client, token):
    html = page(client, token, "?kiosk=1").get_data(as_text=True)
    assert 'class="kiosk"' in html and 'data-kiosk="1"' in html


def test_inactive_official_is_not_offered(client, token):
    client.put("/api/v1/officials/CB2", json={"full_name": "Cán bộ CB2", "unit": "U1",
                                              "active": False}, headers=ADMIN)
    html = page(client, token).get_data(as_text=True)
    assert "Cán bộ CB1" in html and "Cán bộ CB2" not in html


@pytest.mark.parametrize("bad", ["nope", "abc.def", "x" * 300])
def test_unknown_or_forged_token_is_a_404_page(client, token, bad):
    r = page(client, bad)
    assert r.status_code == 404
    assert messages.TEXT["vi"]["unknown_counter_title"] in r.get_data(as_text=True)


def test_rotated_token_stops_working(client, token):
    new = client.post("/api/v1/counters/Q1/token", headers=ADMIN).get_json()["token"]
    assert new != token
    assert page(client, token).status_code == 404
    assert page(client, new).status_code == 200


def test_security_headers(client, token):
    r = page(client, token)
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-store"


def test_script_is_served_and_referenced_with_a_version(client, token):
    html = page(client, token).get_data(as_text=True)
    src = re.search(r'<script src="([^"]+)"', html).group(1)
    assert "kiosk.js?v=" in src
    with client.get(src) as r:
        assert r.status_code == 200 and b"localStorage" in r.data


def test_form_post_without_javascript_stores_one_rating(survey, client, token):
    client_id = str(uuid.uuid4())
    form = {"overall": "4", "official": "CB1", "factor_access": "5", "comment": "Tốt",
            "receipt_code": "", "client_id": client_id}
    r = client.post(f"/k/{token}", data=form)
    assert r.status_code == 200
    assert messages.TEXT["vi"]["thanks_title"] in r.get_data(as_text=True)
    again = client.post(f"/k/{token}", data=form)  # the citizen pressed back and resent
    assert again.status_code == 200
    docs = list(Rating._get_collection().find({"client_id": client_id}))
    assert len(docs) == 1
    assert docs[0]["overall"] == 4 and docs[0]["factors"] == {"access": 5}


def test_form_without_overall_shows_the_error_and_keeps_the_answers(client, token):
    r = client.post(f"/k/{token}?lang=en", data={"official": "CB1", "comment": "slow",
                                                 "client_id": str(uuid.uuid4())})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert messages.TEXT["en"]["error_overall"] in html
    assert ">slow</textarea>" in html
    assert Rating._get_collection().count_documents({}) == 0


def test_kiosk_thank_you_returns_to_the_form(client, token):
    r = client.post(f"/k/{token}?kiosk=1", data={"overall": "5", "client_id": str(uuid.uuid4())})
    html = r.get_data(as_text=True)
    assert 'http-equiv="refresh"' in html and f"/k/{token}?kiosk=1" in html


def test_form_receipt_already_rated_is_409_on_the_page(client, token):
    for expected in (200, 409):
        r = client.post(f"/k/{token}", data={"overall": "5", "receipt_code": "HS-1",
                                             "client_id": str(uuid.uuid4())})
        assert r.status_code == expected
    assert messages.TEXT["vi"]["error_receipt_used"] in r.get_data(as_text=True)


def _tablets(client, *devices: str) -> None:
    r = client.put("/api/v1/counters/Q1", json={"unit": "U1", "label": "Quầy 1",
                                                "officials": ["CB1", "CB2"],
                                                "devices": list(devices)}, headers=ADMIN)
    assert r.status_code == 200, r.get_json()


def test_a_registered_tablet_is_the_source_of_its_form_posts(client, token):
    """`?kiosk=1&device=ID`: the page's links and form keep the id; a rating posted from a
    tablet the counter knows comes from that device, else from the address."""
    _tablets(client, "TAB-1")
    html = page(client, token, "?kiosk=1&device=TAB-1").get_data(as_text=True)
    assert 'data-device="TAB-1"' in html
    assert f'action="/k/{token}?kiosk=1&amp;device=TAB-1"' in html
    assert re.search(r'href="[^"]*device=TAB-1[^"]*" hreflang="en"', html)
    for query, kind, back in (("?kiosk=1&device=TAB-1", "d:", "device=TAB-1"),
                              ("?kiosk=1&device=TAB-9", "a:", "device=TAB-9"),
                              ("?device=TAB-1", "a:", None)):  # a phone: no device
        client_id = str(uuid.uuid4())
        r = client.post(f"/k/{token}{query}", data={"overall": "5", "client_id": client_id})
        assert r.status_code == 200
        doc = Rating._get_collection().find_one({"client_id": client_id})
        assert doc["source"].startswith(kind), query
        # the thank-you page leads a tablet back with its id
        assert (back is not None and back in r.get_data(as_text=True)) or \
            (back is None and "device=" not in r.get_data(as_text=True))
