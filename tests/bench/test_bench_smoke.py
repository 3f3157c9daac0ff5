"""The benchmark still runs: each scenario at a tiny size on the real broker, its figures
sane (every event published is counted), and the report rendered from made-up figures.
The figures themselves are not judged here: the machine is busy with the rest of the
suite."""

from __future__ import annotations

import math

import pytest

from bench import broker, ingest, latency, notify, rebuild, report, scoring
from bench.__main__ import SCENARIOS, command, parse_args, report_options
from bench.ingest import IngestFigures, WrkFigures
from devkit import rabbit
from shared import topology

pytestmark = pytest.mark.rabbitmq


def positive(*values: float) -> bool:
    return all(v is not None and math.isfinite(v) and v > 0 for v in values)


def test_broker_counts_every_event_on_each_path(fresh_rabbit_url):
    figures = broker.run(fresh_rabbit_url, events=60, raw_events=20)

    assert positive(figures.raw_pika_confirm_each, figures.publisher_pipelined,
                    figures.end_to_end)
    assert rabbit.queue_depth(fresh_rabbit_url, topology.queue_for("scoring").name) == 0


def test_scoring_plain_loop_and_consumer_each_take_every_event(fresh_rabbit_url):
    figures = scoring.run(fresh_rabbit_url, events=60)

    assert positive(figures.plain_loop, figures.batched_loop, figures.through_consumer)
    assert figures.ratio == pytest.approx(figures.through_consumer / figures.plain_loop)


@pytest.mark.skipif(not ingest.wrk_available(), reason="wrk is installed by make bench only")
def test_ingest_publishes_every_accepted_rating_once(fresh_rabbit_url):
    figures = ingest.run(fresh_rabbit_url, duration=1, connections=2, warmup=0, settle=0.3)

    assert figures.survey.non2xx == 0 and figures.bare.non2xx == 0
    assert figures.accepted > 0 and figures.published == figures.accepted
    assert figures.stored == figures.accepted
    assert positive(figures.bare.rps, figures.survey.rps, figures.ratio)


def test_latency_sees_every_rating_applied(fresh_rabbit_url):
    figures = latency.run(fresh_rabbit_url, rate=20, seconds=1)

    assert figures.ratings == 20 and figures.applied == 20
    assert 0 < figures.p50_ms <= figures.p99_ms


def test_notify_sends_every_reminder_and_alert(fresh_rabbit_url):
    figures = notify.run(fresh_rabbit_url, units=5, alerts=3)

    assert figures.reminders == 5 and figures.received == 5
    assert positive(figures.reminders_per_s)
    assert 0 < figures.alert_p50_ms <= figures.alert_p99_ms


def test_rebuild_replays_every_rating_and_counts_them(fresh_rabbit_url):
    figures = rebuild.run(fresh_rabbit_url, ratings=100, large=300, timeout=60)

    for p, n in ((figures.passes["batched"], 100), (figures.passes["per_event"], 100),
                 (figures.passes["batched_unpacked"], 100),
                 (figures.passes["batched_large"], 300)):
        # the ratings, the units, the officials, survey's session key
        assert p.events == n + 5 + 50 + 1
        assert p.unit_U0_count == n // 5
        assert 0 < p.applied_s <= p.scores_s
        assert 0 < p.rss_start_mib <= p.rss_peak_mib
    assert [p.per_message for p in figures.passes.values()] == [50, 1, 1, 50]
    assert figures.speedup == pytest.approx(
        figures.passes["per_event"].applied_s / figures.passes["batched"].applied_s)


MACHINE = {"cpu": "Test CPU", "cores": 2, "memory_gib": 4, "python": "3.11", "rabbitmq": "3",
           "wrk": "4", "flask": "3", "gunicorn": "23", "pika": "1", "mongomock": "4",
           "store": "mongomock (embedded, linear scans)"}


def wrk_figures(rps: float) -> WrkFigures:
    return WrkFigures(rps=rps, p50_ms=10.0, p99_ms=20.0, requests=100, non2xx=0,
                      socket_errors="")


def fake_figures() -> dict:
    ingest_runs = [IngestFigures(bare=wrk_figures(1000.0 + i), survey=wrk_figures(500.0),
                                 accepted=100, published=100, relay_drain_s=None if i else 0.5,
                                 stored=100, ratio=0.5, rules_on=wrk_figures(475.0),
                                 rules_ratio=0.95) for i in range(3)]
    return {
        "ingest": ingest_runs,
        "broker": [broker.BrokerFigures(1200.0, 22000.0, 5000.0 + i) for i in range(3)],
        "scoring": [scoring.ScoringFigures(500.0, 2600.0, 2500.0, 5.0)] * 3,
        "latency": [latency.LatencyFigures(rate=200, seconds=10, ratings=2000, applied=2000,
                                           p50_ms=13.0, p99_ms=p99) for p99 in (286.0, 250.0,
                                                                                 410.0)],
        "notify": notify.NotifyFigures(units=2000, reminders=2000, received=2000,
                                       reminders_per_s=172.0, alert_p50_ms=8.5,
                                       alert_p99_ms=16.4, alerts=200),
        "rebuild": rebuild.RebuildFigures(ratings=100_000, large=300_000, passes={
            label: rebuild.RebuildPass(label, n, batch, per, n + 56, s / 2, s, s + 12.0,
                                       (n + 56) / s, 200.0, 300.0 + n / 1000, n // 5)
            for label, n, batch, per, s in (("batched", 100_000, 200, 50, 20.0),
                                            ("per_event", 100_000, 1, 1, 110.1),
                                            ("batched_unpacked", 100_000, 200, 1, 40.0),
                                            ("batched_large", 300_000, 200, 50, 60.0))},
            speedup=110.1 / 20.0),
    }


def render(args, figures) -> str:
    return report.render(command=command(args), when="2026-01-01 00:00 UTC", runs=args.runs,
                         machine=MACHINE, options=report_options(args),
                         figures=figures, full=args.full, quick=args.quick)


def test_report_shows_the_medians_the_command_and_the_machine():
    text = render(parse_args([]), fake_figures())

    assert "`make bench` (`python -m bench --runs 3 --duration 10 --connections 32`)" in text
    assert "Test CPU, 2 cores, 4 GiB" in text
    assert "| bare Flask endpoint, same schema, returns 201 | 1001 | 10.0 ms | 20.0 ms |" in text
    assert "**ratio survey / bare** | **50%**" in text
    assert "| **rules on / rules off (goal: at least 90%)** | **95%** |" in text
    assert "Every accepted rating reached RabbitMQ: 300 events" in text
    assert "difference 0" in text and "0.50 s after the load stopped" in text
    assert "| publisher → RabbitMQ (quorum queue) → RabbitConsumer" in text
    assert "| 5001 |" in text
    assert "| **consumer against the per-event loop (goal: at least 5×)** | **5.0×** |" in text
    assert "| submit → applied, p99 (goal: at most 300 ms) | **286 ms** |" in text
    assert "Each run's p99: 286 ms, 250 ms, 410 ms" in text
    assert "unit U0 counts 20000, 20000, 20000 and 60000 ratings of 2026" in text
    assert "the replay, 11.0× faster than the per-event one at most" in text
    assert "| one event a message, one at a time (reference) | 100000 | 55.0 s | 110.1 s | " \
        "909 | 122.1 s |" in text
    assert "| packs of 50, batches of 500 | 100000 | 10.0 s | 20.0 s |" in text
    assert "every event applied:\n5.5×**" in text and "in batches gives\n2.8×" in text
    assert "prefetch (1000 messages: as many events of live traffic, 50000 of a replay" in text
    assert "200 → 400 MiB |" in text
    assert "(the SMTP server received 2000 of 2000) | 172 |" in text
    assert "mongomock's in-process dictionaries" in text  # what mongomock bounds
    assert '"ingest": [' in text and '"rebuild": {' in text
    assert "Quick run" not in text and "n/a" not in text


def test_report_of_a_subset_has_only_its_sections_and_flags_a_loss():
    args = parse_args(["--quick", "--only", "ingest,broker"])
    figures = fake_figures()
    figures["ingest"][0].published = 99
    text = render(args, {"ingest": figures["ingest"], "broker": figures["broker"]})

    assert "Quick run (`--quick`)" in text
    assert "`python -m bench --runs 1 --duration 2 --connections 8 --quick --only " \
           "ingest,broker`" in text
    assert "make bench" not in text
    assert "**Not every accepted rating reached RabbitMQ, once**" in text
    assert "(difference 1)" in text
    assert "## Broker" in text
    for absent in ("## Submit to score", "## Scoring", "## Rebuilding", "## Notify"):
        assert absent not in text


def test_a_rebuild_pass_that_timed_out_is_reported_not_a_crash():
    figures = fake_figures()
    figures["rebuild"].passes["per_event"].applied_s = None
    figures["rebuild"].passes["batched"].replayed_s = None
    figures["rebuild"].speedup = None
    text = render(parse_args(["--only", "rebuild"]), {"rebuild": figures["rebuild"]})
    assert "every event applied:\nn/a×" in text
    assert "the replay, n/a× faster than the per-event one at most" in text


def test_options_keep_their_defaults_and_quick_shrinks_what_is_not_given():
    full = parse_args([])
    assert (full.runs, full.duration, full.connections, full.events, full.scoring_events,
            full.rebuild_ratings, full.notify_units, full.latency_rate, full.alerts) == \
        (3, 10, 32, 20000, 10000, 100_000, 2000, 200, 200)
    assert full.only == SCENARIOS and full.full and full.out is None

    quick = parse_args(["--quick", "--events", "5000"])
    assert quick.runs == 1 and quick.events == 5000 and not quick.full
    assert command(quick).endswith("--quick --events 5000")


def test_an_unknown_scenario_is_refused(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--only", "ingest,nope"])
    assert "unknown scenario nope" in capsys.readouterr().err
