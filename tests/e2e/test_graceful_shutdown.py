"""SIGTERM: survey stops cleanly and publishes what it accepted before it exits."""

from __future__ import annotations

import collections
import signal
import time
import uuid

import pytest
import requests

from devkit import rabbit
from devkit.apps import ADMIN, ADMIN_TOKEN
from devkit.procs import ServiceProcess, free_port
from shared import topology
from tests.conftest import wait_for

pytestmark = pytest.mark.rabbitmq


def test_sigterm_flushes_the_outbox_and_exits_in_bounded_time(fresh_rabbit_url):
    env = {"AMQP_URL": fresh_rabbit_url, "ADMIN_TOKEN": ADMIN_TOKEN,
           "RATINGS_PER_MINUTE": "100000"}
    survey = ServiceProcess("services.survey", env, free_port())
    survey.wait_ready()
    s = f"{survey.base}/api/v1"
    requests.put(f"{s}/units/U1", json={"name": "P"}, headers=ADMIN, timeout=5)
    requests.put(f"{s}/officials/A", json={"full_name": "A", "unit": "U1"}, headers=ADMIN,
                 timeout=5)
    token = requests.put(f"{s}/counters/Q", json={"unit": "U1", "label": "Q",
                                                  "officials": ["A"]},
                         headers=ADMIN, timeout=5).json()["token"]
    session = requests.Session()
    for _ in range(100):
        assert session.post(f"{s}/ratings", timeout=5, json={
            "counter_token": token, "official": "A", "overall": 5,
            "client_id": str(uuid.uuid4())}).status_code == 201
    started = time.monotonic()
    survey.proc.send_signal(signal.SIGTERM)
    code = survey.proc.wait(30)
    survey.stop()  # closes its log
    assert code == 0 and time.monotonic() - started < 30
    queue = topology.queue_for("scoring").name
    # unit, official and every rating accepted before the signal (and the session key
    # survey announces at every start)
    wait_for(lambda: rabbit.queue_depth(fresh_rabbit_url, queue) == 103, timeout=10)
    types = collections.Counter(props.type for props, _ in rabbit.get_all(
        fresh_rabbit_url, queue))
    assert types == {"rating.submitted": 100, "directory.unit.upserted": 1,
                     "directory.official.upserted": 1, "auth.keys_published": 1}
