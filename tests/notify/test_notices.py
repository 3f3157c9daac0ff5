"""The words of messages to one official (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.notify.notices import actor_words, local_times, notice_context

AT = datetime(2026, 12, 4, 8, 5, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "vi", "en"), [
    ("Asia/Ho_Chi_Minh", "15:05 ngày 04/12/2026 (GMT+7)", "15:05 on 04/12/2026 (GMT+7)"),
    ("Asia/Kolkata", "13:35 ngày 04/12/2026 (GMT+5:30)", "13:35 on 04/12/2026 (GMT+5:30)"),
    ("America/New_York", "03:05 ngày 04/12/2026 (GMT-5)", "03:05 on 04/12/2026 (GMT-5)"),
])
def test_times_are_local_with_their_offset(zone, vi, en):
    assert local_times(AT, ZoneInfo(zone)) == (vi, en)


@pytest.mark.parametrize(("by", "vi"), [
    ("admin", "Quản trị viên hệ thống"),
    ("CB009 (session)", "Quản trị viên CB009"),
    ("CB009 (token)", "Quản trị viên CB009"),
])
def test_who_acted_is_named_in_words(by, vi):
    assert actor_words(by)[0] == vi


@pytest.mark.parametrize(("details", "vi", "en"), [
    ({"previous": "cu@x.vn", "new": "moi@x.vn"},
     "đã đổi địa chỉ email của tài khoản bạn từ cu@x.vn sang moi@x.vn lúc 15:05",
     "changed your account's email address from cu@x.vn to moi@x.vn at 15:05"),
    ({"previous": None, "new": "moi@x.vn"},
     "đã đổi địa chỉ email của tài khoản bạn thành moi@x.vn lúc 15:05",
     "changed your account's email address to moi@x.vn at 15:05"),
    ({"previous": "cu@x.vn", "new": None},
     "đã gỡ địa chỉ email cu@x.vn khỏi tài khoản của bạn lúc 15:05",
     "removed the email address cu@x.vn from your account at 15:05"),
    ({}, "đã đổi địa chỉ email của tài khoản bạn lúc 15:05",
     "changed your account's email address at 15:05"),
])
def test_an_email_change_says_what_changed(details, vi, en):
    said = notice_context("email_changed", "A", AT, "admin", details,
                          ZoneInfo("Asia/Ho_Chi_Minh"))
    assert vi in said["what_vi"] and en in said["what_en"]
