"""How a bucket document is written: contribution ids as field names, and the mark that
a bucket changed (`changes` counts the writes, `dirty_since` keeps the earliest one whose
scores are not derived yet), set in the same write as the contribution."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

_SAFE_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CHANGES = "changes"
DIRTY_SINCE = "dirty_since"
BUCKET_FIELDS = {"kind": 1, "subject": 1, "month": 1, "reviewee": 1, "year": 1, CHANGES: 1}


def changed(now: datetime) -> dict:
    """The update operators that mark a bucket changed at `now`."""
    return {"$inc": {CHANGES: 1}, "$min": {DIRTY_SINCE: now}}


def field_key(contribution_id: str) -> str:
    """A contribution id usable as a field name (no '.', no leading '$')."""
    if _SAFE_KEY.match(contribution_id):
        return contribution_id
    return "h" + hashlib.sha256(contribution_id.encode()).hexdigest()[:40]
