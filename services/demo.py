"""Demo data for `make run`: a department, a ward office, three officials and a counter."""

from __future__ import annotations

import io

import segno

from services.survey import keys, tokens
from services.survey.store import directory
from shared.config import Settings

# The demo signs with a fixed key, so its counter token (and the README's curl line) is
# the same at every start.
DEMO_COUNTER_NONCE = "demo-quay-1"

UNITS = [
    ("SNV", {"name": "Sở Nội vụ thành phố Đà Nẵng", "emails": ["snv@example.vn"]}),
    ("UBND-HC", {"name": "UBND phường Hải Châu", "parent": "SNV",
                 "emails": ["motcua.haichau@example.vn"]}),
]
OFFICIALS = [
    ("CB001", {"full_name": "Nguyễn Thị Lan", "unit": "UBND-HC",
               "position": "Công chức Tư pháp - Hộ tịch"}),
    ("CB002", {"full_name": "Trần Văn Minh", "unit": "UBND-HC",
               "position": "Công chức Địa chính - Xây dựng"}),
    ("CB003", {"full_name": "Lê Thị Hoa", "unit": "UBND-HC",
               "position": "Công chức Văn hóa - Xã hội"}),
]
COUNTER = ("HC-Q1", {"unit": "UBND-HC", "label": "Quầy số 1 - Tư pháp, Hộ tịch",
                     "officials": ["CB001", "CB002"]})


def seed(app) -> dict:
    """Create the demo directory (idempotent); return the demo counter."""
    ctx = app.extensions["survey"]
    relay, secret = ctx.relay, ctx.secret
    for code, data in UNITS:
        directory.upsert_unit(code, data, notify=relay.notify)
    for code, data in OFFICIALS:
        directory.upsert_official(code, data, notify=relay.notify)
    code, data = COUNTER
    token = tokens.make_counter_token(keys.purpose_key(keys.COUNTER_TOKEN, secret),
                                      nonce=DEMO_COUNTER_NONCE)
    record, _ = directory.upsert_counter(code, data, lambda: token)
    directory.set_counter_token(code, token)
    record["token"] = token
    return record


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
Rate official CB001 at the demo counter, then read the score back:
  curl -s -X POST {base}/api/v1/ratings -H 'Content-Type: application/json' \\
    -d '{body}'
  curl -s -H 'Authorization: Bearer {settings.admin_token}' {base}/api/v1/scores/officials/CB001
"""
