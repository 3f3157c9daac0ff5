"""Benchmarks of congso: `make bench` (python -m bench) writes docs/BENCHMARKS.md.

One module per scenario, each with a `run()` returning its figures (the module's
docstring says what it measures against which baseline):

- ingest:  survey's POST /api/v1/ratings vs a bare Flask endpoint (bare_app.py), by wrk
- broker:  raw pika (one confirm each) vs congso's pipelined publisher, and end to end
- scoring: scoring's handler behind the real consumer vs the same handler in a plain loop
- latency: submit (survey's 201) → applied (scoring's ack), p50 and p99
- notify:  reminder sends per second; low rating → alert email latency
- rebuild: seconds for a new scoring to replay everything survey holds

common.py holds what they share, report.py and report.md.j2 the report.
"""
