"""Logging: readable text for people, or one JSON object a line for log collectors."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime

# The request being answered, or the event being handled, in this thread: every log line
# carries them, and events carry the request id on (CloudEvents `correlationid`), so one
# citizen's rating can be followed from survey's request to notify's email.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                        default=None)
event_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("event_id", default=None)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.event_id = event_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
        }
        for key in ("request_id", "event_id", "service", "event_type"):
            value = getattr(record, key, None)
            if value is not None:
                doc[key] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Configure the root logger once for this process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # pika narrates every connection step, and logs each failed attempt as an ERROR with a
    # traceback; the broker module already says, once per attempt, what failed and when it
    # retries, so pika's own lines are left to debugging.
    logging.getLogger("pika").setLevel(logging.CRITICAL)
