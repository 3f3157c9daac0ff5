"""A unit head signs in by emailed link, in Chromium, against the three services as OS
processes on the real broker with a real SMTP server: the link arrives by email, works
once, signs in to every service; signing out ends the session in every service, and a
forged or tampered cookie is refused by each. Screenshots of every page at 390 and
1280 px (in CONGSO_SCREENSHOTS, else the test's temporary directory)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import requests

from devkit.apps import ADMIN, ADMIN_TOKEN
from devkit.procs import start_ready
from devkit.receivers import SmtpServer
from shared import sessions
from tests.conftest import wait_for
from tests.survey import conftest as survey_fixtures

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]
HEAD = ("TP01", "Lê Văn Hùng", "truongphong.hc@example.vn")
ADMIN_OFFICIAL = ("QT01", "Trần Thị Thu Trang", "quantri.snv@example.vn")
WIDTHS = (390, 1280)
chromium = survey_fixtures.browser  # Debian's Chromium, one per module (a fixture)


@pytest.fixture(scope="module")
def system(rabbit_url):
    from devkit import rabbit

    rabbit.delete_topology(rabbit_url)
    smtp = SmtpServer().start()
    env = {"AMQP_URL": rabbit_url, "ADMIN_TOKEN": ADMIN_TOKEN, "SMTP_URL": smtp.url,
           "LOG_LEVEL": "INFO"}
    procs = start_ready(env, "services.survey", "services.scoring", "services.notify")
    try:
        yield procs, smtp
    finally:
        for proc in procs:
            proc.stop()
        smtp.stop()
        rabbit.delete_topology(rabbit_url)


def shoot(page, name: str, folder: Path) -> None:
    """The page at each width, whole (the viewport put back as it was)."""
    size = page.viewport_size
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(size)


LINK = re.compile(r"http://127\.0\.0\.1:\d+/login/\S+")


def link_for(smtp, email: str) -> str:
    """The sign-in link of the latest sign-in email to `email`."""
    def links():
        texts = [m.get_body(preferencelist=("plain",)).get_content()
                 for m in smtp.messages if email in m["To"]]
        return [LINK.search(t).group(0) for t in texts if LINK.search(t)]

    return wait_for(links, timeout=30, message=f"the sign-in email to {email}")[-1]


def me(proc, cookie: str | None = None) -> int:
    cookies = {sessions.COOKIE: cookie} if cookie else {}
    return requests.get(f"{proc.base}/api/v1/me", cookies=cookies, timeout=5).status_code


def test_a_unit_head_signs_in_by_email_and_out_everywhere(system, chromium, tmp_path):
    (survey, scoring, notify), smtp = system
    shots = Path(os.environ.get("CONGSO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    api = f"{survey.base}/api/v1"
    assert requests.put(f"{api}/units/UBND-HC", headers=ADMIN, timeout=5,
                        json={"name": "UBND phường Hải Châu"}).status_code == 201
    code, name, email = HEAD
    assert requests.put(f"{api}/officials/{code}", headers=ADMIN, timeout=5, json={
        "full_name": name, "unit": "UBND-HC", "position": "Trưởng phòng",
        "email": email}).status_code == 201
    assert requests.put(f"{api}/units/UBND-HC", headers=ADMIN, timeout=5, json={
        "name": "UBND phường Hải Châu", "managers": [code]}).status_code == 200

    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{survey.base}/login")
    assert page.locator("html").get_attribute("lang") == "vi"
    shoot(page, "login", shots)
    page.get_by_label("Địa chỉ email").fill("truongphong.hc@")
    page.get_by_role("button", name="Gửi liên kết đăng nhập").click()
    assert "Địa chỉ email không hợp lệ" in page.get_by_role("alert").first.inner_text()
    shoot(page, "login-error", shots)
    page.get_by_label("Địa chỉ email").fill(email.upper())
    page.get_by_role("button", name="Gửi liên kết đăng nhập").click()
    page.get_by_role("heading", name="Hãy kiểm tra hộp thư").wait_for()
    shoot(page, "sent", shots)

    link = link_for(smtp, email)
    page.goto(link)
    page.get_by_role("heading", name=f"Xin chào, {name}").wait_for()
    assert page.url == f"{survey.base}/"
    assert "UBND phường Hải Châu (UBND-HC)" in page.content()
    assert "Lãnh đạo đơn vị" in page.content()
    shoot(page, "home", shots)
    cookie = next(c for c in context.cookies() if c["name"] == sessions.COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    session = cookie["value"]
    # every service accepts the session by itself (once it has survey's public key)
    for proc in (survey, scoring, notify):
        wait_for(lambda p=proc: me(p, session) == 200, timeout=30,
                 message=f"{proc.module} to accept the session")
    page.goto(f"{survey.base}/login")  # signed in: straight on
    assert page.url == f"{survey.base}/"

    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(f"{survey.base}/login")
    assert not [c for c in context.cookies() if c["name"] == sessions.COOKIE]
    # the same link again: gone, with a form to ask for a new one
    response = page.goto(link)
    assert response.status == 410
    assert page.get_by_role("heading", name="Liên kết không còn hiệu lực").is_visible()
    assert page.get_by_role("button", name="Gửi liên kết đăng nhập").is_visible()
    shoot(page, "gone", shots)

    # the old cookie, replayed: refused by survey's pages and by every service's API
    replay = chromium.new_context()
    replay.add_cookies([{**cookie, "value": session}])
    again = replay.new_page()
    again.goto(f"{survey.base}/")
    assert again.url == f"{survey.base}/login?next=/"
    replay.close()
    for proc in (survey, scoring, notify):
        wait_for(lambda p=proc: me(p, session) == 401, timeout=60,
                 message=f"{proc.module} to refuse the ended session")
    # a forged or tampered cookie: 401 everywhere
    header, payload, signature = session.split(".")
    tampered = f"{header}.{payload[:-4]}AAAA.{signature}"
    for bad in (tampered, "not.a.session", f"{header}.{payload}.{signature[::-1]}"):
        for proc in (survey, scoring, notify):
            assert me(proc, bad) == 401, (proc.module, bad)
    # the link's secret reached no log
    secret = link.rsplit("/", 1)[1]
    for proc in (survey, scoring, notify):
        assert secret not in proc.output(), proc.module
    context.close()


def test_an_administrator_reads_the_audit_log(system, chromium, tmp_path):
    (survey, _, _), smtp = system
    shots = Path(os.environ.get("CONGSO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    api = f"{survey.base}/api/v1"
    requests.put(f"{api}/units/SNV", headers=ADMIN, timeout=5, json={"name": "Sở Nội vụ"})
    code, name, email = ADMIN_OFFICIAL
    assert requests.put(f"{api}/officials/{code}", headers=ADMIN, timeout=5, json={
        "full_name": name, "unit": "SNV", "email": email, "roles": ["admin"]}).status_code == 201
    requests.post(f"{api}/officials/{code}/tokens", headers=ADMIN, timeout=5)
    # the token is told to them at once, by email
    wait_for(lambda: [m for m in smtp.messages if email in m["To"]], timeout=30,
             message="the notice of the token")
    requests.post(f"{api}/auth/links", json={"email": email}, timeout=5)

    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(link_for(smtp, email))
    page.get_by_role("heading", name=f"Xin chào, {name}").wait_for()
    assert "Đang hiệu lực" in page.content()  # the token issued for them, on their page
    page.get_by_role("navigation").get_by_role("link", name="Nhật ký hoạt động").click()
    page.get_by_role("heading", name="Nhật ký hoạt động").wait_for()
    table = page.get_by_role("table")
    assert "Đăng nhập" in table.inner_text() and "Cấp mã truy cập" in table.inner_text()
    page.get_by_label("Hành động").select_option("token_issued")
    page.get_by_role("button", name="Lọc").click()
    assert page.url.endswith("action=token_issued")
    rows = page.get_by_role("table").get_by_role("row")
    assert rows.count() == 2  # the heading and the one token
    page.goto(f"{survey.base}/audit")
    shoot(page, "audit", shots)
    page.goto(f"{survey.base}/?lang=en")
    page.get_by_role("heading", name=f"Hello, {name}").wait_for()
    shoot(page, "home-en", shots)
    context.close()
