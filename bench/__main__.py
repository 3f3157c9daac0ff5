"""`make bench` (python -m bench): run the scenarios, write docs/BENCHMARKS.md.

Each scenario is a module of this package with a `run()` returning its figures (what it
measures, against which baseline, is in its docstring): ingest, broker, scoring, latency,
notify, rebuild, dashboard. This module parses the options, runs the chosen scenarios in
a RabbitMQ vhost of its own (ingest, broker, scoring and latency --runs times, reported as
medians; the others once) and renders the report from bench/report.md.j2.

`--only ingest,broker` runs a subset; `--quick` runs everything short and small (one
run) to smoke-test the bench in about a minute. Either one prints the report instead of
replacing docs/BENCHMARKS.md, unless --out names a file.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import broker, dashboard, ingest, latency, notify, rebuild, report, scoring
from devkit import rabbit
from shared.config import SCORING_BATCH

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "BENCHMARKS.md"
# in the order they run; the first four are repeated --runs times
SCENARIOS = ("scoring", "broker", "ingest", "latency", "notify", "rebuild", "dashboard")
REPEATED = ("scoring", "broker", "ingest", "latency")

# option, full-run default, --quick default, help
OPTIONS = (
    ("--runs", 3, 1, "runs of scoring, broker, ingest and latency; their figures are the medians"),
    ("--duration", 10, 2, "seconds of wrk load on each endpoint (ingest)"),
    ("--connections", 32, 8, "wrk connections (ingest)"),
    ("--events", 20000, 500, "events through the publisher and end to end (broker)"),
    ("--raw-events", 3000, 200, "events through raw pika, one confirm each (broker)"),
    ("--scoring-events", 10000, 300, "rating events through scoring's handler (scoring)"),
    ("--rebuild-ratings", 100_000, 1000, "ratings survey holds for the rebuild (rebuild)"),
    ("--rebuild-large", 300_000, 3000, "ratings of the rebuild's larger pass (rebuild)"),
    ("--notify-units", 2000, 50, "units reminded (notify)"),
    ("--alerts", 200, 20, "low ratings timed to their alert email (notify)"),
    ("--latency-rate", 200, 50, "ratings posted per second (latency)"),
    ("--latency-seconds", 10, 2, "seconds of posting (latency)"),
    ("--dashboard-ratings", 100_000, 2000, "a year's ratings in scoring (dashboard)"),
    ("--dashboard-requests", 30, 3, "timed requests of each page and JSON call (dashboard)"),
)
SHOWN_ALWAYS = ("--runs", "--duration", "--connections")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Measure congso against baselines taken in the "
        "same run; write docs/BENCHMARKS.md.")
    for flag, default, quick, text in OPTIONS:
        parser.add_argument(flag, type=int, help=f"{text} (default {default}; --quick {quick})")
    parser.add_argument("--only", type=_scenarios, default=SCENARIOS, metavar="NAMES",
                        help=f"comma-separated scenarios to run, of: {','.join(SCENARIOS)}")
    parser.add_argument("--quick", action="store_true",
                        help="short durations, small counts, one run: a smoke test")
    parser.add_argument("--out", help="where the report goes (default docs/BENCHMARKS.md for a "
                        "full run; --only and --quick only print it)")
    args = parser.parse_args(argv)
    args.given = [flag for flag, *_ in OPTIONS if getattr(args, _dest(flag)) is not None]
    for flag, default, quick, _ in OPTIONS:
        if getattr(args, _dest(flag)) is None:
            setattr(args, _dest(flag), quick if args.quick else default)
    args.full = not args.quick and set(args.only) == set(SCENARIOS)
    return args


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _scenarios(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {', '.join(unknown) or '(none)'}; of: {', '.join(SCENARIOS)}")
    return names


def command(args: argparse.Namespace) -> str:
    """The command line that gives these figures (the defaults it relied on spelled out)."""
    words = ["python -m bench"]
    words += [f"{flag} {getattr(args, _dest(flag))}" for flag in SHOWN_ALWAYS]
    if args.quick:
        words.append("--quick")
    if not set(SCENARIOS) <= set(args.only):
        words.append(f"--only {','.join(args.only)}")
    words += [f"{flag} {getattr(args, _dest(flag))}" for flag in args.given
              if flag not in SHOWN_ALWAYS]
    return " ".join(words)


def report_options(args: argparse.Namespace) -> dict:
    """The sizes the report's text names."""
    return {"duration": args.duration, "connections": args.connections,
            "scoring_events": args.scoring_events, "scoring_batch": SCORING_BATCH}


def run_scenario(name: str, url: str, args: argparse.Namespace):
    """Run one scenario with the sizes of `args`; return its figures."""
    if name == "ingest":
        return ingest.run(url, duration=args.duration, connections=args.connections,
                          warmup=1 if args.quick else 2, settle=0.5 if args.quick else 1.0)
    if name == "broker":
        return broker.run(url, events=args.events, raw_events=args.raw_events)
    if name == "scoring":
        return scoring.run(url, events=args.scoring_events)
    if name == "latency":
        return latency.run(url, rate=args.latency_rate, seconds=args.latency_seconds)
    if name == "notify":
        return notify.run(url, units=args.notify_units, alerts=args.alerts)
    if name == "rebuild":
        return rebuild.run(url, ratings=args.rebuild_ratings, large=args.rebuild_large)
    if name == "dashboard":  # in process, no broker
        return dashboard.run(ratings=args.dashboard_ratings, requests=args.dashboard_requests)
    raise ValueError(name)


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_all(url: str, args: argparse.Namespace) -> dict:
    """Every chosen scenario: the repeated ones as lists of runs, the others once."""
    figures: dict = {name: [] for name in REPEATED if name in args.only}
    for i in range(args.runs if figures else 0):
        for name in figures:
            _log(f"run {i + 1}/{args.runs}: {name}")
            figures[name].append(run_scenario(name, url, args))
            _log(f"  {figures[name][-1]}")
    for name in SCENARIOS:
        if name in args.only and name not in REPEATED:
            _log(name)
            figures[name] = run_scenario(name, url, args)
            _log(f"  {figures[name]}")
    return figures


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if "ingest" in args.only and not ingest.wrk_available():
        sys.exit("the ingest scenario needs wrk (scripts/ensure-tools.sh wrk installs it)")
    vhost, url = rabbit.add_vhost("congso-bench")
    try:
        figures = run_all(url, args)
    finally:
        rabbit.ctl("delete_vhost", vhost)
    text = report.render(
        command=command(args), when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        runs=args.runs, machine=report.machine(), figures=figures, full=args.full,
        quick=args.quick, options=report_options(args))
    out = args.out or (DEFAULT_OUT if args.full else None)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
    print(text)
    if not out:
        _log("not written to docs/BENCHMARKS.md: a partial or quick run (--out writes it)")


if __name__ == "__main__":
    main()
