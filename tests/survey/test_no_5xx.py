"""Property-based: no rating body, however strange, makes survey answer 5xx."""

from __future__ import annotations

import json
import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from devkit.apps import ADMIN
from services.survey.documents import Rating

FIELDS = ["counter_token", "official", "overall", "factors", "comment", "receipt_code",
          "client_id", "extra"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10), st.integers(), st.floats(allow_nan=False),
    st.text(max_size=40), st.uuids().map(str), st.just("CB1"), st.just(""),
    st.text(alphabet="\x00\ud7ff\u202e\n\t<>&'\"", max_size=10),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=8)


@st.composite
def rating_bodies(draw, token: str):
    body = draw(st.dictionaries(st.sampled_from(FIELDS), values, max_size=8))
    if draw(st.booleans()):
        body["counter_token"] = token
    if draw(st.booleans()):
        body["factors"] = draw(st.dictionaries(
            st.sampled_from(["access", "procedure", "official", "result", "feedback", "x"]),
            values, max_size=6))
    return body


ALLOWED = {200, 201, 400, 404, 409, 413, 422, 429}


def test_no_generated_json_body_yields_a_5xx(client, token):
    @settings(max_examples=300, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=rating_bodies(token))
    def check(body):
        r = client.post("/api/v1/ratings", json=body)
        assert r.status_code in ALLOWED, (body, r.get_data(as_text=True))
        if r.status_code >= 400:
            assert r.mimetype == "application/problem+json"
            assert {"type", "title", "status", "detail"} <= set(r.get_json())

    check()


def test_no_generated_raw_body_yields_a_5xx(client, token):
    @settings(max_examples=200, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)),
           content_type=st.sampled_from(["application/json", "text/plain", "",
                                         "application/x-www-form-urlencoded",
                                         "application/merge-patch+json"]))
    def check(raw, content_type):
        r = client.post("/api/v1/ratings", data=raw, content_type=content_type)
        assert r.status_code in ALLOWED, (raw, r.get_data(as_text=True))

    check()


def test_no_generated_kiosk_form_yields_a_5xx(client, token):
    @settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(form=st.dictionaries(
        st.sampled_from(["overall", "official", "factor_access", "comment", "receipt_code",
                         "client_id", "other"]),
        st.text(max_size=30), max_size=7))
    @example(form={"overall": "²"})  # a digit to str.isdigit(), not to int()
    def check(form):
        r = client.post(f"/k/{token}", data=form)
        assert r.status_code in ALLOWED | {200}, (form, r.status_code)

    check()


def test_valid_bodies_count_once_each(client, token):
    before = Rating._get_collection().count_documents({})
    bodies = [{"counter_token": token, "overall": n % 5 + 1,
               "client_id": f"00000000-0000-4000-8000-{n:012d}"} for n in range(5)]
    for b in bodies + bodies:
        assert client.post("/api/v1/ratings", data=json.dumps(b),
                           content_type="application/json").status_code in (200, 201)
    assert Rating._get_collection().count_documents({}) == before + 5


awkward_text = st.text(st.characters(categories=["Cs", "Cc", "Zs", "Zl", "L", "Nd"]),
                       max_size=12)


def test_no_awkward_directory_text_yields_a_5xx(client, token):
    """Names made of no-break spaces, NULs or a lone UTF-16 surrogate escape: each
    either stored as given (trimmed) or refused with problem+json, never a 500."""
    @settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(text=awkward_text, target=st.sampled_from(["unit", "official", "counter"]))
    @example(text="\u00a0", target="unit")
    @example(text="\ud800", target="official")
    @example(text="a\x00b", target="counter")
    @example(text="\ud800\udc00", target="unit")  # a pair: one character, accepted
    def check(text, target):
        path, body = {
            "unit": ("/api/v1/units/UX", {"name": text}),
            "official": ("/api/v1/officials/CBX", {"full_name": text, "unit": "U1"}),
            "counter": ("/api/v1/counters/QX", {"unit": "U1", "label": text}),
        }[target]
        r = client.put(path, data=json.dumps(body), content_type="application/json",
                       headers=ADMIN)
        assert r.status_code in ALLOWED, (body, r.get_data(as_text=True))
        if r.status_code < 300:
            stored = r.get_json()
            field = {"unit": "name", "official": "full_name", "counter": "label"}[target]
            # JSON joins a high and a low surrogate escape into one character
            assert stored[field] == json.loads(json.dumps(text)).strip() != ""
            assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in stored[field])
        else:
            assert r.mimetype == "application/problem+json"

    check()


def test_blank_or_unencodable_names_are_refused_and_change_nothing(client, token):
    before = client.get("/api/v1/units/U1", headers=ADMIN).get_json()
    for raw, status in [(b'{"name": "\\u00a0 "}', 422), (b'{"name": "\\ud800"}', 400),
                        (b'{"name": "\xed\xa0\x80"}', 400), (b'{"name": "a\\u0000"}', 422)]:
        r = client.put("/api/v1/units/U1", data=raw, content_type="application/json",
                       headers=ADMIN)
        assert r.status_code == status, (raw, r.get_data(as_text=True))
        assert r.mimetype == "application/problem+json"
    assert client.get("/api/v1/units/U1", headers=ADMIN).get_json() == before
