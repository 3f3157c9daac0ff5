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
# messages to one person: the official's own business (admins see them in the log,
# managers do not), and left out of the metrics, which would date the person's action
PERSONAL_KINDS = (LINK, NOTICE)

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


def notice_context(notice: str, full_name: str, at: datetime, by: str, details: dict,
                   tz: ZoneInfo) -> dict:
    """The subject and sentences of an account notice (token issued, tokens revoked,
    email changed)."""
    who_vi, who_en = actor_words(by)
    at_vi, at_en = local_times(at, tz)
    if notice == "token_issued":
        subject = "Một mã truy cập đã được cấp cho tài khoản của bạn"
        what_vi = (f"{who_vi} đã cấp một mã truy cập (token) cho tài khoản của bạn lúc "
                   f"{at_vi}. Ai giữ mã này có thể dùng congso với tư cách của bạn.")
        what_en = (f"{who_en} issued an access token for your account at {at_en}; "
                   "whoever holds it can use congso as you.")
    elif notice == "tokens_revoked":
        subject = "Các mã truy cập của tài khoản bạn đã bị thu hồi"
        what_vi = (f"{who_vi} đã thu hồi mọi mã truy cập (token) của tài khoản bạn lúc "
                   f"{at_vi}; các mã đã cấp trước đó không còn dùng được.")
        what_en = (f"{who_en} revoked every access token of your account at {at_en}; "
                   "the tokens issued before no longer work.")
    else:
        subject = "Địa chỉ email của tài khoản bạn đã được thay đổi"
        old, new = details.get("previous_email"), details.get("email")
        change_vi = f" từ {old} sang {new}" if old and new else ""
        change_en = f" from {old} to {new}" if old and new else ""
        what_vi = (f"{who_vi} đã đổi địa chỉ email của tài khoản bạn{change_vi} lúc "
                   f"{at_vi}. Từ nay liên kết đăng nhập được gửi tới địa chỉ mới.")
        what_en = (f"{who_en} changed your account's email address{change_en} at {at_en}; "
                   "sign-in links now go to the new address.")
    return {"full_name": full_name, "title": subject, "what_vi": what_vi,
            "what_en": what_en}
