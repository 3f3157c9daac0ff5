"""The sign-in pages, the home page and the audit log page, as a browser without
JavaScript gets them: plain forms, Vietnamese first, errors tied to their field."""

from __future__ import annotations

from devkit.apps import ADMIN
from devkit.auth import signed_in
from shared import sessions
from tests.survey.links import add_person, link_events


def html(response) -> str:
    return response.get_data(as_text=True)


def test_the_sign_in_page_is_vietnamese_first(client):
    r = client.get("/login")
    assert r.status_code == 200 and '<html lang="vi">' in html(r)
    assert '<label for="email">Địa chỉ email</label>' in html(r)
    assert 'autocomplete="email"' in html(r) and 'method="post" action="/login"' in html(r)
    assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
    english = client.get("/login?lang=en")
    assert '<html lang="en">' in html(english) and "Send me a sign-in link" in html(english)


def test_asking_by_form_goes_to_the_same_page_for_every_address(survey, client):
    add_person(client)
    for email in ("cb1@example.vn", "nobody@example.vn"):
        r = client.post("/login", data={"email": email, "next": "/audit"})
        assert r.status_code == 303 and r.headers["Location"] == "/login/sent"
    assert [e.data["next"] for e in link_events(survey)] == ["/audit"]
    sent = client.get("/login/sent")
    assert "Hãy kiểm tra hộp thư" in html(sent) and 'href="/login"' in html(sent)


def test_a_bad_address_is_shown_next_to_its_field_and_kept(survey, client):
    r = client.post("/login", data={"email": "lan@exаmple.vn"})  # a Cyrillic 'а'
    page = html(r)
    assert r.status_code == 422 and 'role="alert"' in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="email-hint email-error"' in page
    assert "Địa chỉ email không hợp lệ" in page and 'value="lan@exаmple.vn"' in page
    empty = client.post("/login", data={"email": "  "})
    assert empty.status_code == 422 and "Vui lòng nhập địa chỉ email." in html(empty)
    injected = client.post("/login", data={"email": "a@example.vn\r\nBcc: b@example.vn"})
    assert injected.status_code == 422
    assert link_events(survey) == []


def test_too_many_links_is_said_on_the_page(survey, client):
    for _ in range(5):
        client.post("/login", data={"email": "cb1@example.vn"})
    r = client.post("/login", data={"email": "cb1@example.vn"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "quá nhiều yêu cầu" in html(r) and 'value="cb1@example.vn"' in html(r)


def test_a_form_from_another_site_is_refused(survey, client):
    add_person(client)
    r = client.post("/login", data={"email": "cb1@example.vn"},
                    headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and link_events(survey) == []


def test_pages_need_a_session(client):
    for path in ("/", "/audit?actor=CB1"):
        r = client.get(path)
        assert r.status_code == 303
    assert client.get("/audit?actor=CB1").headers["Location"] == "/login?next=/audit%3Factor%3DCB1"
    # a bearer token is for programs: pages still ask for a session
    assert client.get("/", headers=ADMIN).status_code == 303


def test_someone_signed_in_goes_past_the_sign_in_page(client, ctx):
    add_person(client)
    signed_in(client, "CB1", ctx.signer)
    r = client.get("/login?next=/audit")
    assert r.status_code == 303 and r.headers["Location"] == "/audit"


def test_the_home_page_shows_who_and_what(client, ctx):
    add_person(client, "CB1", roles=[])
    client.put("/api/v1/units/U1", json={"name": "Phường Một", "managers": ["CB1"]},
               headers=ADMIN)
    client.post("/api/v1/officials/CB1/tokens", headers=ADMIN)
    signed_in(client, "CB1", ctx.signer)
    page = html(client.get("/"))
    assert "Xin chào, Cán bộ CB1" in page and "Phường Một (U1)" in page
    assert "Lãnh đạo đơn vị" in page and "Quản trị hệ thống" not in page
    assert "Đang hiệu lực" in page and "admin" in page  # the token, and who issued it
    assert 'href="/audit"' not in page  # not for them
    assert f'name="{sessions.CSRF_FIELD}"' in page and 'action="/logout"' in page


def test_the_audit_page_is_for_administrators(client, ctx):
    add_person(client, "CB1")
    signed_in(client, "CB1", ctx.signer)
    assert client.get("/audit").status_code == 403
    add_person(client, "CB2", "cb2@example.vn", roles=["admin"])
    signed_in(client, "CB2", ctx.signer)
    home = html(client.get("/"))
    assert 'href="/audit"' in home and "Quản trị hệ thống" in home
    page = client.get("/audit?action=official_saved")
    assert page.status_code == 200
    text = html(page)
    assert "<strong>Lưu cán bộ</strong>" in text and "<strong>Lưu đơn vị</strong>" not in text
    assert '<option value="official_saved" selected>' in text
    assert "Mục 1–2 trong tổng số 2" in text


def test_signing_in_and_out_leaves_no_trace_in_the_metrics(survey, client, ctx):
    """Each of these calls is one person's: counting them would date it."""
    from devkit.apps import ADMIN_TOKEN
    from tests.survey.links import last_link

    add_person(client)
    client.post("/login", data={"email": "cb1@example.vn"})
    client.get("/login/sent")
    client.post("/api/v1/auth/links", json={"email": "cb1@example.vn"})
    client.get(last_link(survey, ctx))
    client.get("/session/renew?next=/")
    client.get("/api/v1/me")
    client.post("/logout", data={sessions.CSRF_FIELD: "not it"})
    text = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) \
        .get_data(as_text=True)
    assert 'endpoint="/api/v1/units/<code:code>"' in text  # the administrator's writes count
    for rule in ("/login", "/login/sent", "/api/v1/auth/links", "/login/<path:secret>",
                 "/session/renew", "/logout", "/api/v1/me"):
        assert f'method="POST",endpoint="{rule}"' not in text, rule
        if rule != "/login":  # the sign-in page itself is anyone's
            assert f'endpoint="{rule}"' not in text, rule
