"""Many PUTs of one code at once: each answered 200, 201 or 409 (never 5xx), the stored
record is one of the bodies sent, and every counter token handed out is the stored one."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from devkit.apps import ADMIN

WRITERS = 20


@pytest.fixture
def busy_threads():
    """Switch threads as often as possible, so the writers really interleave."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def put_all_at_once(app, path: str, bodies: list[dict]) -> list:
    start = threading.Barrier(len(bodies))

    def put(body):
        client = app.test_client()
        start.wait()
        return client.put(path, json=body, headers=ADMIN)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(put, bodies))


CASES = {
    "unit": ("/api/v1/units/UX", lambda i: {"name": f"Đơn vị {i}"}),
    "official": ("/api/v1/officials/CBX", lambda i: {"full_name": f"Cán bộ {i}", "unit": "U1"}),
    "counter": ("/api/v1/counters/QX", lambda i: {"unit": "U1", "label": f"Quầy {i}",
                                                   "officials": ["CB1"]}),
}
ROUNDS = 4  # each on a new code: creating races too, not only updating
NAME = {"unit": "name", "official": "full_name", "counter": "label"}


@pytest.mark.parametrize("kind", list(CASES))
def test_parallel_puts_of_one_code_never_fail(survey, client, token, busy_threads, kind):
    base, body_of = CASES[kind]
    for attempt in range(ROUNDS):
        path = f"{base}{attempt}"
        bodies = [body_of(f"{attempt}-{i}") for i in range(WRITERS)]
        answers = put_all_at_once(survey.app, path, bodies)
        statuses = [r.status_code for r in answers]
        assert set(statuses) <= {200, 201, 409}, [r.get_json() for r in answers]
        assert statuses.count(201) == 1
        for r in answers:
            if r.status_code == 409:
                assert r.mimetype == "application/problem+json"
        stored = client.get(path, headers=ADMIN).get_json()
        assert stored[NAME[kind]] in {b[NAME[kind]] for b in bodies}
        if kind == "counter":
            # a QR code printed from any answer must open the counter's kiosk page
            tokens = {r.get_json()["token"] for r in answers if r.status_code < 300}
            assert tokens == {stored["token"]}
            assert client.get(f"/k/{stored['token']}").status_code == 200


def test_versions_count_every_accepted_write(survey, client, token, busy_threads):
    path, body_of = CASES["unit"]
    answers = put_all_at_once(survey.app, path, [body_of(i) for i in range(WRITERS)])
    accepted = [r.get_json()["version"] for r in answers if r.status_code < 300]
    # each accepted write claimed a version of its own: no two answers share one
    assert len(set(accepted)) == len(accepted)
    assert client.get(path, headers=ADMIN).get_json()["version"] == max(accepted)
