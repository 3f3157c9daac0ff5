"""Several gunicorn workers: the HTTP side in each, the background components in exactly
one, taken over by another worker when that one dies; metrics summed over all workers."""

from __future__ import annotations

import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from devkit import rabbit
from devkit.apps import ADMIN, ADMIN_TOKEN
from devkit.metrics import scrape_total
from devkit.procs import ServiceProcess, free_port
from services.server import BackgroundSlot
from shared import topology
from tests.conftest import wait_for

HOLDER = re.compile(r"worker (\d+) runs the background components")


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def holders(output: str) -> list[int]:
    return [int(p) for p in HOLDER.findall(output)]


def test_a_background_slot_is_held_by_one_and_passes_on_release(tmp_path):
    path = str(tmp_path / "slot.lock")
    started = []
    first = BackgroundSlot(path, lambda: started.append("first"), interval=0.05)
    second = BackgroundSlot(path, lambda: started.append("second"), interval=0.05)
    first.start()
    wait_for(lambda: first.held)
    second.start()
    time.sleep(0.3)
    assert started == ["first"] and not second.held
    first.release()
    wait_for(lambda: second.held, message="the second slot takes over")
    assert started == ["first", "second"]
    second.stop()
    second.release()


@pytest.mark.rabbitmq
def test_one_consumer_for_three_workers_and_it_moves_when_its_worker_is_killed(
        fresh_rabbit_url, tmp_path):
    # a file left by an earlier run (same pid as nothing here) must not be summed in
    stale = tmp_path / "gauge_livesum_999999.db"
    stale.write_bytes(b"stale")
    env = {"AMQP_URL": fresh_rabbit_url, "ADMIN_TOKEN": ADMIN_TOKEN, "WEB_CONCURRENCY": "3",
           "WEB_THREADS": "4", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    scoring = ServiceProcess("services.scoring", env, free_port())
    queue = topology.queue_for("scoring").name
    try:
        scoring.wait_ready()
        assert not stale.exists()
        wait_for(lambda: len(children(scoring.proc.pid)) == 3, timeout=20)
        wait_for(lambda: holders(scoring.output()), timeout=20, message="a background worker")
        wait_for(lambda: rabbit.consumer_count(fresh_rabbit_url, queue) == 1, timeout=20)
        time.sleep(2)  # every worker has had time to start whatever it would start
        assert rabbit.consumer_count(fresh_rabbit_url, queue) == 1
        [first] = holders(scoring.output())
        assert first in children(scoring.proc.pid)

        os.kill(first, signal.SIGKILL)
        wait_for(lambda: len(holders(scoring.output())) == 2, timeout=20,
                 message="another worker takes the background components over")
        second = holders(scoring.output())[1]
        assert second != first and second in children(scoring.proc.pid)
        wait_for(lambda: rabbit.consumer_count(fresh_rabbit_url, queue) == 1, timeout=20)
        wait_for(lambda: len(children(scoring.proc.pid)) == 3, timeout=20)  # replaced
        time.sleep(2)
        assert rabbit.consumer_count(fresh_rabbit_url, queue) == 1
        assert len(holders(scoring.output())) == 2

        # whichever worker answers, the status tells of the consumer running in another
        for _ in range(12):
            status = requests.get(f"{scoring.base}/api/v1/scoring/status",
                                  headers=ADMIN, timeout=5).json()
            assert status["consumer_ready"] is True and status["inflight"] == 0, status

        # every worker answers; /metrics sums what all of them counted
        url = f"{scoring.base}/healthz"
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda _: requests.get(url, timeout=5).status_code,
                                  range(120)))
        assert codes == [200] * 120
        served = scrape_total(scoring.base, "congso_http_requests_total",
                              endpoint="/healthz")
        assert served == 120
    finally:
        code = scoring.stop()
    assert code == 0
