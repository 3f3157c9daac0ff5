"""What a message to one official says, on values only (no Flask, pika or database): the
sign-in link's email, and the notice of something done to their own account. Vietnamese
first, then the same in English; the templates only lay it out.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LINK = "auth.link"
NOTICE = "account.notice"
# a sign-in link sent with the review cycle's invitation or reminder
REVIEW_LINKS = ("review.invitation", "review.reminder")
LINKS = (LINK, *REVIEW_LINKS)
# messages to one person: the official's own business (admins see them in the log,
# managers do not), and left out of the metrics, which would date the person's action
# (or, for a review reminder, count who had not finished)
PERSONAL_KINDS = (*LINKS, NOTICE)

_ACTOR = re.compile(r"^(?P<code>[A-Za-z0-9._-]{1,64}) \((?P<via>[a-z-]+)\)$")


def local_times(moment: datetime, tz: ZoneInfo) -> tuple[str, str]:
    """`moment` in local time, in Vietnamese and in English, with its UTC offset
    ("15:42 ngày 04/12/2026 (GMT+7)", "15:42 on 04/12/2026 (GMT+7)")."""
    here = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(tz)
    offset = here.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    zone = f"GMT{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
    clock, day = here.strftime("%H:%M"), here.strftime("%d/%m/%Y")
    return f"{clock} ngày {day} ({zone})", f"{clock} on {day} ({zone})"


def link_context(full_name: str, expires_at: datetime, minutes: int, tz: ZoneInfo) -> dict:
    """What the sign-in email says, but the link itself (added at each delivery)."""
    until_vi, until_en = local_times(expires_at, tz)
    return {"full_name": full_name, "minutes": minutes, "until_vi": until_vi,
            "until_en": until_en}


def actor_words(by: str) -> tuple[str, str]:
    """Who acted, as the audit names them ("admin", "CB009 (session)"), in words."""
    if by == "admin":
        return "Quản trị viên hệ thống", "The system administrator"
    found = _ACTOR.match(by)
    code = found.group("code") if found else by
    return f"Quản trị viên {code}", f"Administrator {code}"


# notice -> (subject, what happened in Vietnamese, in English); {who}, {at}, {change}
_NOTICES = {
    "token_issued": (
        "Một mã truy cập đã được cấp cho tài khoản của bạn",
        "{who} đã cấp một mã truy cập (token) cho tài khoản của bạn lúc {at}. Ai giữ mã "
        "này có thể dùng congso với tư cách của bạn.",
        "{who} issued an access token for your account at {at}; whoever holds it can use "
        "congso as you."),
    "tokens_revoked": (
        "Các mã truy cập của tài khoản bạn đã bị thu hồi",
        "{who} đã thu hồi mọi mã truy cập (token) của tài khoản bạn lúc {at}; các mã đã "
        "cấp trước đó không còn dùng được.",
        "{who} revoked every access token of your account at {at}; the tokens issued "
        "before no longer work."),
    "email_changed": (
        "Địa chỉ email của tài khoản bạn đã được thay đổi",
        "{who} đã đổi địa chỉ email của tài khoản bạn{change} lúc {at}. Từ nay liên kết "
        "đăng nhập được gửi tới địa chỉ mới.",
        "{who} changed your account's email address{change} at {at}; sign-in links now go "
        "to the new address."),
    # an email change that took the address away
    "email_removed": (
        "Địa chỉ email của tài khoản bạn đã được gỡ bỏ",
        "{who} đã gỡ địa chỉ email{change} khỏi tài khoản của bạn lúc {at}; congso không "
        "còn gửi liên kết đăng nhập tới địa chỉ này.",
        "{who} removed the email address{change} from your account at {at}; congso no "
        "longer sends sign-in links to it."),
}


def notice_context(notice: str, full_name: str, at: datetime, by: str, details: dict,
                   tz: ZoneInfo) -> dict:
    """The subject and sentences of an account notice (token issued, tokens revoked,
    email changed: `details` may name the `previous` address and the `new` one)."""
    old, new = details.get("previous"), details.get("new")
    if notice == "email_changed" and old and not new:
        notice = "email_removed"
    subject, vi, en = _NOTICES[notice]
    who_vi, who_en = actor_words(by)
    at_vi, at_en = local_times(at, tz)
    if notice == "email_removed":
        change_vi = change_en = f" {old}"
    elif old and new:
        change_vi, change_en = f" từ {old} sang {new}", f" from {old} to {new}"
    elif new:
        change_vi, change_en = f" thành {new}", f" to {new}"
    else:
        change_vi = change_en = ""
    return {"full_name": full_name, "title": subject,
            "what_vi": vi.format(who=who_vi, at=at_vi, change=change_vi),
            "what_en": en.format(who=who_en, at=at_en, change=change_en)}
