"""Structured logs carry the request id, and events carry it on to the next service."""

import io
import json
import logging

from shared import events as ev
from shared import logs
from shared.messages import handle_delivery
from tests.shared.test_bus_contract import rating_event


def capture_json():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("congso.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, stream, handler


def test_a_log_line_during_an_event_names_the_event_and_the_request_that_caused_it():
    logger, stream, handler = capture_json()
    event = ev.make_event(ev.RATING_SUBMITTED, rating_event().data, source="/t",
                          correlationid="req-123")
    try:
        handle_delivery(event.to_bytes(), lambda e: logger.info("handled"), queue="q",
                        message_id=event.id)
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["message"] == "handled"
    assert line["event_id"] == event.id and line["request_id"] == "req-123"
    assert line["level"] == "INFO" and "time" in line


def test_request_id_header_is_logged_and_passed_to_events(mongo_url):
    from devkit.apps import make_settings, queued_events, rating_body, seed_directory, start
    from services.survey.app import create_app
    from services.survey.documents import Rating
    from shared.memory_bus import MemoryBus

    running = start(create_app, make_settings("survey", mongo_url), MemoryBus())
    try:
        token = seed_directory(running.client)
        r = running.client.post("/api/v1/ratings", json=rating_body(token),
                                headers={"X-Request-ID": "kiosk-7-0042"})
        assert r.headers["X-Request-ID"] == "kiosk-7-0042"
        running.runtime.get("survey.relay").flush()
        sent = queued_events(running, "congso.scoring", ev.RATING_SUBMITTED)
        assert [e.correlationid for e in sent] == ["kiosk-7-0042"]
        assert Rating._get_collection().count_documents({}) == 1
    finally:
        running.stop()
