"""The report (docs/BENCHMARKS.md): medians of the runs, the machine, bench/report.md.j2."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import statistics
import subprocess
from importlib.metadata import version
from pathlib import Path

import jinja2

from bench.common import store_kind
from devkit import rabbit

TEMPLATE = "report.md.j2"


def machine() -> dict:
    """What the figures were measured on: CPU, memory, and the versions that matter."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                if line.startswith("model name")), platform.processor())
    mem = next((line.split()[1] for line in meminfo if line.startswith("MemTotal")), "0")
    try:
        rmq = rabbit.ctl("version").strip()
    except (OSError, subprocess.SubprocessError):
        rmq = "?"
    try:
        wrk = subprocess.run(["wrk", "--version"], capture_output=True,
                             text=True).stdout.split()[1]
    except (OSError, IndexError):
        wrk = "not installed"
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(int(mem) / 1024 / 1024),
        "python": platform.python_version(), "rabbitmq": rmq, "wrk": wrk,
        "flask": version("flask"), "gunicorn": version("gunicorn"), "pika": version("pika"),
        "mongomock": version("mongomock"),
        "store": store_kind(),
    }


def plain(figures) -> dict:
    """A scenario's figures as a plain dict (dataclasses are converted, dicts kept)."""
    return dataclasses.asdict(figures) if dataclasses.is_dataclass(figures) else dict(figures)


def median_of(runs: list[dict]) -> dict:
    """Each figure's median over `runs` (nested dicts alike; None values are left out,
    text is taken from the first run)."""
    out = {}
    for key, first in runs[0].items():
        values = [r[key] for r in runs]
        if isinstance(first, dict):
            out[key] = median_of(values)
        elif isinstance(first, int | float) or first is None:
            numbers = [v for v in values if v is not None]
            out[key] = statistics.median(numbers) if numbers else None
        else:
            out[key] = first
    return out


def repeated(runs: list) -> dict:
    """A scenario run several times, for the template: every run and the medians."""
    dicts = [plain(r) for r in runs]
    return {"runs": dicts, "median": median_of(dicts)}


def _fmt(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent), autoescape=False,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)
    env.filters["fmt"] = _fmt
    env.filters["tojson_indented"] = lambda value: json.dumps(value, indent=1)
    return env


def render(*, command: str, when: str, runs: int, machine: dict, options: dict,
           figures: dict, full: bool = True, quick: bool = False) -> str:
    """The report. `figures` maps each scenario that ran to its figures: a list of runs for
    ingest, broker, scoring and latency, one run's figures for notify, rebuild and
    dashboard."""
    context = {name: None for name in ("ingest", "broker", "scoring", "latency", "notify",
                                       "rebuild", "dashboard")}
    raw = {}
    for name, value in figures.items():
        if isinstance(value, list):
            context[name] = repeated(value)
            raw[name] = context[name]["runs"]
        else:
            context[name] = raw[name] = plain(value)
    return _environment().get_template(TEMPLATE).render(
        command=command, when=when, runs=runs, machine=machine, options=options, full=full,
        quick=quick, raw=raw, **context)
