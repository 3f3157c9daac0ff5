"""The held-ratings rules' own cost, in process: `python -m bench.rules_ab [rounds]`.

The ingest scenario's ratio (rules on against off, through gunicorn and wrk) moves by
about ±10% between runs of the same code. This measures the same comparison without the
HTTP server, the load generator or the broker: survey as an in-process app (the
in-process bus, an embedded store of its own each round), 8 threads posting 1,600 ratings
for one official from one address through the Flask test client, with the burst rule
off (`rating_burst=0`) and on (10, nearly every rating held), alternating which goes first
from round to round. Prints each round and the ratio of the medians. Not part of
`make bench`: a tool for working on the rules' cost.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
import uuid

from devkit.apps import ADMIN_TOKEN, seed_directory

THREADS = 8
RATINGS = 1600


def one_round(burst: int) -> float:
    """Ratings per second of one round with the burst rule at `burst` (0: off)."""
    from services.survey.app import create_app
    from shared.config import Settings
    from shared.http import runtime_of

    settings = Settings(service="survey", amqp_url="memory://", admin_token=ADMIN_TOKEN,
                        mongodb_url=f"mongomock://rules{uuid.uuid4().hex[:8]}",
                        rating_burst=burst, ratings_per_minute=100_000)
    app = create_app(settings)
    runtime_of(app).start()
    try:
        token = seed_directory(app.test_client(), unit="U1", officials=["CB1"], counter="Q1")

        def post(n: int) -> None:
            client = app.test_client()
            for _ in range(n):
                r = client.post("/api/v1/ratings", json={
                    "counter_token": token, "official": "CB1", "overall": 5,
                    "client_id": str(uuid.uuid4())}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
                assert r.status_code == 201, r.get_json()

        threads = [threading.Thread(target=post, args=(RATINGS // THREADS,))
                   for _ in range(THREADS)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return RATINGS / (time.perf_counter() - started)
    finally:
        runtime_of(app).stop()


def main(rounds: int = 3) -> float:
    rates: dict[int, list[float]] = {0: [], 10: []}
    for r in range(rounds):
        for burst in ((0, 10) if r % 2 == 0 else (10, 0)):
            rates[burst].append(one_round(burst))
            print(f"round {r + 1}, burst rule {'on' if burst else 'off'}: "
                  f"{rates[burst][-1]:.0f} ratings/s", flush=True)
    ratio = statistics.median(rates[10]) / statistics.median(rates[0])
    print(f"rules on / rules off, medians: {ratio:.0%}")
    return ratio


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
