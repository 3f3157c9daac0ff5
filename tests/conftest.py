"""Fixtures shared by the whole suite.

- `rabbit_url`: the real RabbitMQ on 127.0.0.1:5672, in a vhost made for this test session
  and deleted after it.
- `mongo_url`: a database of its own for each test: mongomock by default, or a real
  MongoDB when MONGODB_URL names one (then the test database is dropped after the test).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid

import pika
import pytest

from devkit import rabbit

RABBIT_HOST = os.environ.get("TEST_RABBITMQ_HOST", "127.0.0.1")


@pytest.fixture(scope="session")
def rabbit_vhost_and_url():
    try:
        vhost, url = rabbit.add_vhost("congso-test", RABBIT_HOST)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"RabbitMQ is needed on {RABBIT_HOST}:5672 (make test starts it): {exc}")
    yield vhost, url
    rabbit.ctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def rabbit_vhost(rabbit_vhost_and_url) -> str:
    return rabbit_vhost_and_url[0]


@pytest.fixture(scope="session")
def rabbit_url(rabbit_vhost_and_url) -> str:
    return rabbit_vhost_and_url[1]


@pytest.fixture
def fresh_rabbit_url(rabbit_url):
    """The session vhost, with congso's queues deleted before and after the test."""
    rabbit.delete_topology(rabbit_url)
    yield rabbit_url
    rabbit.delete_topology(rabbit_url)


@pytest.fixture
def mongo_url():
    base = os.environ.get("MONGODB_URL", "mongomock://")
    name = f"congso_test_{uuid.uuid4().hex[:12]}"
    if base.startswith("mongomock://"):
        url = f"mongomock://localhost/{name}"
        yield url
        from shared.db import forget_mock_store

        forget_mock_store(url)
        return
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    yield url
    import pymongo

    client = pymongo.MongoClient(base)
    for db in client.list_database_names():
        if db.startswith(name):
            client.drop_database(db)
    client.close()


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.02, message: str = ""):
    """Poll `predicate` until it returns a truthy value; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message or predicate}")
        time.sleep(interval)


@pytest.fixture
def amqp_channel(rabbit_url):
    conn = pika.BlockingConnection(pika.URLParameters(rabbit_url))
    yield conn.channel()
    if conn.is_open:
        conn.close()
