"""Demo data for `make run`: a ward's one-stop office with a year behind it.

`seed_directory` writes the directory (a department, a ward, ten officials, the heads
who sign in to read results, four counters); `seed_history` then writes the year so far:
a few thousand citizen ratings in office hours, with bad days, comments and ratings
without an official, and two years of peer reviews (2025's window closed, this year's
open). Everything is written through survey's store, each record with its event in the
outbox, so scoring and notify receive it as they would in production. A fixed random
seed makes the same data for the same day.
"""

from __future__ import annotations

import io
import random
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import segno

from services.survey import accounts, domain, keys, review_rules, reviews, tokens
from services.survey.store import directory, ratings
from services.survey.store import review_cycle as cycle_store
from shared.config import Settings
from shared.events import CRITERIA, FACTORS

# The demo signs with a fixed key, so its counter token (and the README's curl line) is
# the same at every start.
DEMO_COUNTER_NONCE = "demo-quay-1"
SEED = 20261204
RATINGS_PER_DAY = (7, 19)  # a working day's ratings, lowest and highest

UNITS = [
    ("SNV", {"name": "Sở Nội vụ thành phố Đà Nẵng", "emails": ["snv@example.vn"],
             "managers": ["SNV01"]}),
    ("UBND-HC", {"name": "UBND phường Hải Châu", "parent": "SNV",
                 "emails": ["motcua.haichau@example.vn"], "managers": ["CB011", "CB010"]}),
]
# Who signs in to read results: the ward's chairman (its head; CB010, the vice-chairwoman,
# is the deputy), the department's director, and an administrator of the department's
# Emulation-Commendation Board. (code, full name, position, unit, email, roles)
LEADERS = [
    ("CB011", "Lê Văn Hùng", "Chủ tịch UBND phường", "UBND-HC",
     "chutich.haichau@example.vn", []),
    ("SNV01", "Nguyễn Văn Thành", "Giám đốc Sở Nội vụ", "SNV", "giamdoc.snv@example.vn", []),
    ("SNV02", "Trần Thị Thu Trang", "Chuyên viên Ban Thi đua - Khen thưởng", "SNV",
     "thiduakhenthuong.snv@example.vn", ["admin"]),
]
HEAD_EMAIL, ADMIN_EMAIL = LEADERS[0][4], LEADERS[2][4]
# (code, full name, position, how well citizens find them served: 0 poor .. 1 excellent)
OFFICIALS = [
    ("CB001", "Nguyễn Thị Lan", "Công chức Tư pháp - Hộ tịch", 0.9),
    ("CB002", "Trần Văn Minh", "Công chức Địa chính - Xây dựng", 0.7),
    ("CB003", "Lê Thị Hoa", "Công chức Văn hóa - Xã hội", 0.85),
    ("CB004", "Phạm Quốc Huy", "Công chức Địa chính - Xây dựng", 0.35),
    ("CB005", "Hoàng Thị Mai", "Công chức Tư pháp - Hộ tịch", 0.8),
    ("CB006", "Võ Văn Tâm", "Công chức Văn phòng - Thống kê", 0.75),
    ("CB007", "Đặng Thị Thu Hà", "Công chức Tài chính - Kế toán", 0.8),
    ("CB008", "Ngô Thị Hồng", "Công chức Văn phòng - Thống kê", 0.65),
    ("CB009", "Huỳnh Minh Khoa", "Công chức Lao động - Thương binh và Xã hội", 0.85),
    ("CB010", "Phan Thị Ngọc Ánh", "Phó Chủ tịch UBND phường", 0.8),
]
QUALITY = {code: quality for code, _, _, quality in OFFICIALS}
# everyone in the ward reviews everyone else (the chairman too)
WARD = [code for code, *_ in OFFICIALS] + [LEADERS[0][0]]
REVIEW_REMINDERS = ["P7D", "P3D", "P1D"]
DRAFTED = 0.12  # of this year's reviews not finished, the share saved as a draft
# this year, two have finished already and two not begun (the others about a third done)
DILIGENCE = {"CB003": 1.0, "CB009": 1.0, "CB004": 0.0, "CB008": 0.0}
# (code, label, officials on duty, share of the office's citizens)
COUNTERS = [
    ("HC-Q1", "Quầy số 1 - Tư pháp, Hộ tịch", ["CB001", "CB005", "CB002"], 0.35),
    ("HC-Q2", "Quầy số 2 - Đất đai, Xây dựng", ["CB002", "CB004"], 0.25),
    ("HC-Q3", "Quầy số 3 - Lao động, Thương binh và Xã hội", ["CB009", "CB003"], 0.2),
    ("HC-Q4", "Quầy số 4 - Chứng thực, Tài chính", ["CB006", "CB008", "CB007"], 0.2),
]
# Days off beside weekends: New Year, Tết, Hùng Kings, 30/4-1/5, National Day.
HOLIDAYS = {
    2025: [(date(2025, 1, 1), 1), (date(2025, 1, 25), 9), (date(2025, 4, 7), 1),
           (date(2025, 4, 30), 2), (date(2025, 9, 1), 2)],
    2026: [(date(2026, 1, 1), 1), (date(2026, 2, 14), 9), (date(2026, 4, 27), 1),
           (date(2026, 4, 30), 2), (date(2026, 9, 1), 2)],
    2027: [(date(2027, 1, 1), 1), (date(2027, 2, 5), 9), (date(2027, 4, 16), 1),
           (date(2027, 4, 30), 2), (date(2027, 9, 2), 2)],
}
OFFICE_HOURS = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
GOOD_COMMENTS = [
    "Cán bộ nhiệt tình, hướng dẫn rất rõ ràng.",
    "Giải quyết hồ sơ nhanh, đúng hẹn.",
    "Thái độ niềm nở, lịch sự. Cảm ơn chị!",
    "Thủ tục đơn giản hơn trước nhiều.",
    "Được hướng dẫn nộp hồ sơ trực tuyến, rất tiện.",
    "Nhận kết quả sớm hơn ngày hẹn.",
    "Phòng chờ sạch sẽ, có nước uống, có chỗ ngồi.",
]
NEUTRAL_COMMENTS = [
    "Phải chờ hơi lâu nhưng cán bộ giải thích kỹ.",
    "Nên có thêm ghế ngồi cho người lớn tuổi.",
    "Bảng hướng dẫn thủ tục chữ hơi nhỏ, khó đọc.",
]
BAD_COMMENTS = [
    "Chờ gần hai tiếng mới đến lượt.",
    "Cán bộ trả lời cộc lốc, không hướng dẫn cụ thể.",
    "Hồ sơ bị trả lại ba lần, mỗi lần yêu cầu bổ sung một giấy tờ khác.",
    "Trễ hẹn trả kết quả mà không báo trước.",
    "Hệ thống mạng bị lỗi, phải về rồi quay lại hôm sau.",
    "Không có ai ở quầy trong giờ làm việc.",
]


@dataclass
class Seeded:
    """What `seed_history` wrote."""

    ratings: int = 0
    reviews: int = 0
    by_official: dict[str, int] | None = None


def work_email(full_name: str, domain: str = "haichau.example.vn") -> str:
    """A Vietnamese office's address for a name: the given name, then the initials of
    the others, without accents ("Nguyễn Thị Lan" -> lannt@…)."""
    plain = unicodedata.normalize("NFD", full_name.replace("Đ", "D").replace("đ", "d"))
    words = "".join(c for c in plain if not unicodedata.combining(c)).lower().split()
    return f"{words[-1]}{''.join(w[0] for w in words[:-1])}@{domain}"


def seed_directory(app) -> dict:
    """Create the demo directory (idempotent); return the demo counter (HC-Q1)."""
    ctx = app.extensions["survey"]
    for code, data in UNITS:
        accounts.save_unit(ctx, code, data, audited=False)
    for code, name, position, _ in OFFICIALS:
        accounts.save_official(ctx, code, {"full_name": name, "unit": "UBND-HC",
                                           "position": position, "email": work_email(name)},
                               audited=False)
    for code, name, position, unit, email, roles in LEADERS:
        accounts.save_official(ctx, code, {"full_name": name, "unit": unit, "position": position,
                                           "email": email, "roles": roles}, audited=False)
    key = ctx.key(keys.COUNTER_TOKEN)
    first = None
    for code, label, on_duty, _ in COUNTERS:
        token = tokens.make_counter_token(key, nonce=DEMO_COUNTER_NONCE if first is None
                                          else f"demo-{code.lower()}")
        record, _ = directory.upsert_counter(
            code, {"unit": "UBND-HC", "label": label, "officials": on_duty}, lambda t=token: t)
        directory.set_counter_token(code, token)
        first = first or {**record, "token": token}
    return first


def _working_days(start: date, end: date) -> list[date]:
    """Monday to Friday from `start` to `end` (inclusive), public holidays left out."""
    off = {first + timedelta(days=i) for year in HOLIDAYS.values()
           for first, length in year for i in range(length)}
    days, day = [], start
    while day <= end:
        if day.weekday() < 5 and day not in off:
            days.append(day)
        day += timedelta(days=1)
    return days


def _office_moment(rng: random.Random, day: date, tz) -> datetime:
    """A random moment of `day`'s office hours, in UTC to the millisecond."""
    opens, closes = rng.choice(OFFICE_HOURS)
    span = (datetime.combine(day, closes) - datetime.combine(day, opens)).total_seconds()
    local = datetime.combine(day, opens, tz) + timedelta(seconds=rng.uniform(0, span))
    moment = local.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _overall(rng: random.Random, quality: float) -> int:
    """A citizen's overall rating of an official of `quality` (0..1)."""
    weights = [max(0.02, (1 - quality) * 0.25), max(0.03, (1 - quality) * 0.3),
               0.15 + (1 - quality) * 0.2, 0.35, 0.2 + quality * 0.6]
    return rng.choices([1, 2, 3, 4, 5], weights=weights)[0]


def _comment(rng: random.Random, overall: int) -> str | None:
    if rng.random() > (0.35 if overall <= 2 else 0.12):
        return None
    pool = BAD_COMMENTS if overall <= 2 else NEUTRAL_COMMENTS if overall == 3 else GOOD_COMMENTS
    return rng.choice(pool)


def _rating_body(rng: random.Random, counter: tuple, bad_day: bool) -> dict:
    _, _, on_duty, _ = counter
    official = None if rng.random() < 0.15 else rng.choice(on_duty)
    quality = QUALITY.get(official, 0.7)
    overall = _overall(rng, 0.1 if bad_day else quality)
    factors = {}
    if rng.random() < 0.4:
        factors = {f: min(5, max(1, overall + rng.choice((-1, 0, 0, 0, 1)))) for f in FACTORS}
    return {"client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "official": official, "overall": overall, "factors": factors,
            "comment": _comment(rng, overall), "receipt_code": None}


def seed_ratings(app, rng: random.Random, today: date, weeks: int = 48) -> dict[str, int]:
    """Citizen ratings of the last `weeks`, up to two days ago (notify alerts only on
    ratings of the last day, so the history sends no email); return counts by official
    ("-" for the ratings that name none)."""
    ctx = app.extensions["survey"]
    tz = ctx.settings.tz
    days = _working_days(today - timedelta(weeks=weeks), today - timedelta(days=2))
    bad = set(rng.sample(days, k=min(6, len(days))))
    counters = {c[0]: directory.get("counter", c[0]) for c in COUNTERS}
    by_official: dict[str, int] = {}
    for day in days:
        for _ in range(rng.randint(*RATINGS_PER_DAY)):
            counter = rng.choices(COUNTERS, weights=[c[3] for c in COUNTERS])[0]
            # a bad day is one counter's: the network down, or nobody at the desk
            bad_day = day in bad and counter is COUNTERS[day.toordinal() % len(COUNTERS)]
            body = _rating_body(rng, counter, bad_day)
            data = domain.rating_data(body, counters[counter[0]], _office_moment(rng, day, tz))
            if ratings.add_rating(data, address_hash=None, notify=ctx.relay.notify):
                key = body["official"] or "-"
                by_official[key] = by_official.get(key, 0) + 1
    return by_official


def seed_reviews(app, rng: random.Random, today: date) -> int:
    """Peer reviews in the ward: last year's window closed with most reviews done, this
    year's open (for two weeks more, reminders a week, three days and a day before it
    closes, its invitations sent when it opened) with some done and some saved as drafts.
    Returns the reviews written."""
    ctx = app.extensions["survey"]
    tz, key = ctx.settings.tz, ctx.key(keys.REVIEWER_PSEUDONYM)
    last = today.year - 1
    now = datetime.combine(today, time(9), tz)
    windows = [(str(last), datetime(last, 11, 16, tzinfo=tz), datetime(last, 12, 12, tzinfo=tz),
                0.85),
               (str(today.year), datetime.combine(today - timedelta(days=14), time(), tz),
                datetime.combine(today + timedelta(days=14), time(), tz), 0.35)]
    written = 0
    for period, opens, closes, done in windows:
        if opens <= now < closes:
            _invited_when_it_opened(period, opens)
        reviews.save_window(period, {"opens_at": opens.astimezone(UTC),
                                     "closes_at": closes.astimezone(UTC),
                                     "remind_before": REVIEW_REMINDERS},
                            key=key, notify=ctx.relay.notify)
        until = min(closes, datetime.combine(today, time(), tz))
        for reviewer in WARD:
            share = DILIGENCE.get(reviewer, done) if until < closes else done
            for reviewee in WARD:
                roll = rng.random()
                if reviewee == reviewer:
                    continue
                scores = {c: min(5, max(1, round(rng.gauss(
                    2.5 + 2.3 * QUALITY.get(reviewee, 0.8), 0.6)))) for c in CRITERIA}
                if roll <= share:
                    when = opens + (until - opens) * rng.random()
                    reviews.submit_review(period, reviewer, reviewee, {"scores": scores},
                                          key=key, tz=tz, notify=ctx.relay.notify,
                                          now=when.astimezone(UTC).replace(microsecond=0))
                    written += 1
                elif until < closes and share and roll <= share + DRAFTED:
                    partial = dict(list(scores.items())[:rng.randint(1, 4)])
                    reviews.save_draft(period, reviewer, reviewee, {"scores": partial},
                                       key=key, tz=tz, now=now, notify=ctx.relay.notify)
    return written


def _invited_when_it_opened(period: str, opens: datetime) -> None:
    """The invitations of a window already open, as sent when it opened (the history):
    none goes out again when notify hears of the window."""
    for _, members in cycle_store.active_by_unit():
        for member in members if len(members) > 1 else []:
            if member["email"]:
                cycle_store.add_notice(
                    review_rules.notice_key(period, member["code"], review_rules.INVITATION,
                                            None),
                    year=period, official=member["code"], kind=review_rules.INVITATION,
                    offset=None, sent_at=opens.astimezone(UTC), event=None)


def seed_history(app, today: date | None = None) -> Seeded:
    """The year behind the demo office (after `seed_directory`); deterministic per day."""
    ctx = app.extensions["survey"]
    today = today or datetime.now(ctx.settings.tz).date()
    rng = random.Random(f"{SEED}-{today.isoformat()}")
    by_official = seed_ratings(app, rng, today)
    written = seed_reviews(app, rng, today)
    return Seeded(ratings=sum(by_official.values()), reviews=written, by_official=by_official)


def banner(settings: Settings, counter: dict) -> str:
    """What `make run` prints: where to go, the admin token, a QR code, a first curl."""
    kiosk_url = f"{settings.public_base_url}/k/{counter['token']}"
    qr = io.StringIO()
    segno.make(kiosk_url, error="m").terminal(out=qr, compact=True)
    base = settings.public_base_url
    new_uuid = "$(python3 -c 'import uuid; print(uuid.uuid4())')"
    body = (f'{{"counter_token":"{counter["token"]}","official":"CB001","overall":5,'
            f'"client_id":"\'{new_uuid}\'"}}')
    return f"""
congso demo: survey, scoring and notify in one process on {base}
  admin token  {settings.admin_token}
  kiosk page   {kiosk_url}
{qr.getvalue()}
Sign in at {base}/login as
  the ward's chairman (a unit head)    {HEAD_EMAIL}
  the department's administrator       {ADMIN_EMAIL}
  an official of the ward              {work_email(OFFICIALS[0][1])}
  (no SMTP_URL: the sign-in link is printed on this console, marked [demo])
This year's peer reviews are open: {base}/reviews
  (the head reads how far the ward has got at {base}/reviews/response)

Rate official CB001 at the demo counter, then read the score back:
  curl -s -X POST {base}/api/v1/ratings -H 'Content-Type: application/json' \\
    -d '{body}'
  curl -s -H 'Authorization: Bearer {settings.admin_token}' {base}/api/v1/scores/officials/CB001
"""
