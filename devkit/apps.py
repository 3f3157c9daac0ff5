"""Build services for tests: in-process apps on mongomock and a bus of the test's choice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Flask

from shared.config import Settings
from shared.http import runtime_of

ADMIN_TOKEN = "test-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def make_settings(service: str, mongo_url: str, amqp_url: str = "memory://", **extra) -> Settings:
    fields = {"admin_token": ADMIN_TOKEN, "public_base_url": "http://kiosk.test",
              "secret_key": "test-secret", "rate_limit_storage_url": "memory://", **extra}
    return Settings(service=service, mongodb_url=mongo_url, amqp_url=amqp_url, **fields)


@dataclass
class Running:
    app: Flask
    bus: object
    settings: Settings

    @property
    def client(self):
        return self.app.test_client()

    @property
    def runtime(self):
        return runtime_of(self.app)

    def stop(self):
        self.runtime.stop(timeout=5)


def start(create_app, settings: Settings, bus) -> Running:
    app = create_app(settings, bus=bus)
    runtime_of(app).start()
    return Running(app, bus, settings)


def seed_directory(client, *, unit="U1", officials=("CB1", "CB2"), counter="Q1") -> str:
    """Create a unit, officials and a counter over the API; return the kiosk token."""
    assert client.put(f"/api/v1/units/{unit}", json={"name": "Phường Một"},
                      headers=ADMIN).status_code in (200, 201)
    for code in officials:
        r = client.put(f"/api/v1/officials/{code}",
                       json={"full_name": f"Cán bộ {code}", "unit": unit}, headers=ADMIN)
        assert r.status_code in (200, 201), r.get_json()
    r = client.put(f"/api/v1/counters/{counter}",
                   json={"unit": unit, "label": "Quầy 1", "officials": list(officials)},
                   headers=ADMIN)
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()["token"]


def rating_body(token: str, **fields) -> dict:
    body = {"counter_token": token, "official": "CB1", "overall": 5,
            "client_id": str(uuid.uuid4())}
    body.update(fields)
    return body


def unpacked(messages: list) -> list:
    """Messages with each pack (a replay's) taken apart into messages of its events, as
    they would be one event a message (routing key `replay.<consumer>.<type>`)."""
    import msgspec

    from shared.messages import PACK_TYPE, OutgoingMessage, unpack

    out = []
    for m in messages:
        if m.type != PACK_TYPE:
            out.append(m)
            continue
        for doc, _ in unpack(m.body):  # each envelope parsed: written again as it came
            out.append(OutgoingMessage(m.routing_key.removesuffix(PACK_TYPE) + doc["type"],
                                       msgspec.json.encode(doc), doc["id"], doc["type"]))
    return out


def queued_events(running: Running, queue: str, *types: str) -> list:
    """Events waiting in one of the in-process bus's queues (all types when none given),
    packs taken apart."""
    from shared import events as ev

    return [ev.load_event(m.body) for m in unpacked(running.bus.waiting(queue))
            if not types or m.type in types]
