"""Messages to one official: the sign-in link (its secret only ever in the email, once per
link, never once expired, the same link after a restart, printed on the console only by
the demo without SMTP) and the notices about their own account."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from mongoengine.connection import get_db

from devkit.apps import ADMIN, make_settings
from devkit.receivers import SmtpServer
from services.notify.documents import ALIAS, Notification
from shared import signin
from tests.conftest import wait_for
from tests.notify.conftest import SECRET
from tests.notify.helpers import (
    LOGIN_URL,
    account_notice,
    ctx,
    deliver,
    link_requested,
    notifications,
    official,
    settled,
    start_notify,
    unit,
)

EMAIL = "binh.tt@example.vn"
LINK = re.compile(re.escape(LOGIN_URL) + r"(\S+)")


@pytest.fixture
def person(notify, smtp):
    deliver(notify, unit("U1", emails=["u1@example.vn"]),
            official("CB1", "U1", "Trần Thị Bình", email=EMAIL))
    return notify


def key_of(running) -> bytes:
    settings = running.settings
    return signin.link_key(settings.signin_link_key, settings.admin_token)


def text_of(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def everything_stored() -> str:
    """Every document of notify's database, as text."""
    database = get_db(ALIAS)
    return "\n".join(repr(doc) for name in database.list_collection_names()
                     for doc in database[name].find())


def our_logs(caplog) -> str:
    # "mail.*" is the test's SMTP server (the receiving side), not congso
    return "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}"
                     for r in caplog.records if not r.name.startswith("mail."))


def test_the_email_carries_a_working_link_valid_until_its_local_time(person, smtp):
    event = link_requested("CB1", EMAIL)
    deliver(person, event)
    settled()
    [mail] = smtp.messages
    assert mail["To"] == EMAIL
    assert mail["Subject"].startswith("Liên kết đăng nhập congso")
    secret = LINK.search(text_of(mail)).group(1)
    assert signin.nonce_of(key_of(person), secret) == event.data["nonce"]
    html = mail.get_body(("html",)).get_content()
    assert f'href="{LOGIN_URL}{secret}"' in html
    expires = datetime.fromisoformat(event.data["expires_at"])
    local = expires.astimezone(person.settings.tz).strftime("%H:%M ngày %d/%m/%Y")
    assert f"đến {local} (GMT+7)" in text_of(mail)
    assert "Nếu bạn không yêu cầu đăng nhập" in text_of(mail)
    assert "English:" in text_of(mail)


def test_the_link_is_in_no_log_record_api_answer_metric_or_console(person, smtp, caplog,
                                                                    capsys):
    caplog.set_level(logging.DEBUG)
    event = link_requested("CB1", EMAIL)
    deliver(person, event)
    settled()
    secret = LINK.search(text_of(smtp.messages[0])).group(1)
    mac = secret.rpartition(".")[2]
    client = person.client
    seen = {
        "logs": our_logs(caplog),
        "database": everything_stored(),
        "log API": client.get("/api/v1/notifications", headers=ADMIN).get_data(as_text=True),
        "metrics": client.get("/metrics", headers=ADMIN).get_data(as_text=True),
        "console": "".join(capsys.readouterr()),
        "events kept": repr(person.bus.waiting("congso.survey")),
    }
    for where, text in seen.items():
        assert mac not in text, where
    # once sent, nothing is left to make the link again: the nonce is gone too
    assert event.data["nonce"] not in seen["database"]
    [record] = notifications()
    assert record["kind"] == "auth.link" and record["status"] == "sent"
    assert "link_nonce" not in record and "đã ẩn" in record["text"]
    # a count of sent links would date one person's sign-in
    assert 'kind="auth.link"' not in seen["metrics"]


def test_the_log_names_the_official_and_their_unit_for_admins_only(person):
    deliver(person, link_requested("CB1", EMAIL), account_notice("CB1", [EMAIL]))
    settled()
    r = person.client.get("/api/v1/notifications", headers=ADMIN)
    assert sorted((n["kind"], n["official"], n["unit"], n["recipient"], n["status"])
                  for n in r.get_json()) == [
        ("account.notice", "CB1", "U1", EMAIL, "sent"),
        ("auth.link", "CB1", "U1", EMAIL, "sent")]
    r = person.client.get("/api/v1/notifications?kind=auth.link&official=CB1", headers=ADMIN)
    assert [n["kind"] for n in r.get_json()] == ["auth.link"]


def test_a_link_is_sent_once_however_often_its_request_arrives(person, smtp):
    first = link_requested("CB1", EMAIL)
    again = link_requested("CB1", EMAIL, nonce=first.data["nonce"])  # a re-publish
    deliver(person, first, first, again)
    settled()
    assert len(smtp.messages) == 1 and len(notifications()) == 1


def test_a_request_that_expired_on_its_way_is_not_sent(person, smtp):
    event = link_requested("CB1", EMAIL, expires_in=timedelta(seconds=-1))
    deliver(person, event)
    settled()
    [record] = notifications()
    assert record["status"] == "skipped" and "expired" in record["errors"][0]
    assert "link_nonce" not in record and event.data["nonce"] not in everything_stored()
    assert smtp.messages == []


def test_a_retry_after_a_restart_sends_the_same_link(mongo_url):
    smtp = SmtpServer()  # not listening yet: the first attempt fails
    settings = make_settings("notify", mongo_url, smtp_url=smtp.url, webhook_secret=SECRET)
    first = start_notify(settings)
    ctx(first).sender.initial_delay = ctx(first).sender.max_delay = 30
    event = link_requested("CB1", EMAIL)
    deliver(first, official("CB1", "U1", email=EMAIL), event)
    wait_for(lambda: [n for n in notifications() if n["errors"]], message="a failed attempt")
    first.stop()
    [record] = notifications()
    assert record["status"] == "pending" and record["link_nonce"] == event.data["nonce"]
    smtp.start()
    again = start_notify(settings)
    try:
        settled()
        [mail] = smtp.messages
        secret = LINK.search(text_of(mail)).group(1)
        assert signin.nonce_of(key_of(again), secret) == event.data["nonce"]
        assert notifications()[0]["status"] == "sent"
    finally:
        again.stop()
        smtp.stop()


def test_a_link_that_expires_before_its_retry_is_not_sent(mongo_url):
    smtp = SmtpServer()
    settings = make_settings("notify", mongo_url, smtp_url=smtp.url, webhook_secret=SECRET)
    first = start_notify(settings)
    ctx(first).sender.initial_delay = ctx(first).sender.max_delay = 30
    deliver(first, link_requested("CB1", EMAIL))
    wait_for(lambda: [n for n in notifications() if n["errors"]], message="a failed attempt")
    first.stop()
    Notification._get_collection().update_one(
        {}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}})
    smtp.start()
    again = start_notify(settings)
    try:
        settled()
        [record] = notifications()
        assert record["status"] == "skipped" and "expired" in record["errors"][-1]
        assert smtp.messages == [] and "link_nonce" not in record
    finally:
        again.stop()
        smtp.stop()


@pytest.mark.parametrize("demo", [True, False])
def test_without_smtp_only_the_demo_prints_the_link_on_its_console(mongo_url, demo, capsys,
                                                                   caplog):
    caplog.set_level(logging.DEBUG)
    running = start_notify(make_settings("notify", mongo_url, webhook_secret=SECRET,
                                         demo=demo))
    try:
        event = link_requested("CB1", EMAIL)
        deliver(running, event)
        settled()
        out = capsys.readouterr().out
        secret = signin.secret_for(key_of(running), event.data["nonce"])
        if demo:
            assert f"[demo] sign-in link for {EMAIL}: {LOGIN_URL}{secret}" in out
        else:
            assert secret not in out and "sign-in link" not in out
        assert secret.rpartition(".")[2] not in our_logs(caplog)
        [record] = notifications()
        assert record["status"] == "skipped" and "SMTP_URL" in record["errors"][0]
    finally:
        running.stop()


def test_the_demo_with_smtp_sends_the_link_and_prints_nothing(mongo_url, smtp, capsys):
    running = start_notify(make_settings("notify", mongo_url, smtp_url=smtp.url,
                                         webhook_secret=SECRET, demo=True))
    try:
        deliver(running, link_requested("CB1", EMAIL))
        settled()
        assert len(smtp.messages) == 1 and "[demo]" not in capsys.readouterr().out
    finally:
        running.stop()


def test_a_token_issued_is_told_to_the_official_at_once(person, smtp):
    deliver(person, account_notice("CB1", [EMAIL], "token_issued", by="admin"))
    settled()
    [mail] = smtp.messages
    text = text_of(mail)
    assert mail["To"] == EMAIL and "mã truy cập" in mail["Subject"]
    assert "Quản trị viên hệ thống đã cấp một mã truy cập (token) cho tài khoản" in text
    assert "Nếu bạn không biết việc này, hãy báo ngay" in text
    assert "issued an access token for your account" in text
    [record] = notifications()
    assert (record["kind"], record["official"], record["unit"]) == ("account.notice", "CB1",
                                                                    "U1")


def test_an_email_change_goes_to_the_new_and_the_old_address_once_each(person, smtp):
    event = account_notice("CB1", ["moi@example.vn", "cu@example.vn"], "email_changed",
                           by="ADM (session)", details={"previous": "cu@example.vn",
                                                        "new": "moi@example.vn"})
    deliver(person, event, event)
    settled()
    assert sorted(m["To"] for m in smtp.messages) == ["cu@example.vn", "moi@example.vn"]
    text = text_of(smtp.messages[0])
    assert "Quản trị viên ADM đã đổi địa chỉ email của tài khoản bạn từ cu@example.vn " \
           "sang moi@example.vn" in text
    assert len(notifications(kind="account.notice")) == 2


def test_revoked_tokens_are_told_in_vietnamese_and_english(person, smtp):
    deliver(person, account_notice("CB1", [EMAIL], "tokens_revoked"))
    settled()
    text = text_of(smtp.messages[0])
    assert "đã thu hồi mọi mã truy cập (token)" in text
    assert "revoked every access token" in text
