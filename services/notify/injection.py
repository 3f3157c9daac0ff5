"""How scheduler jobs get their dependencies.

APScheduler's MongoDB job store keeps a job's function by textual reference and its plain
arguments (pickled). A job's dependencies (the store, the sender, the time zone, the
scheduler) exist only in the running process, so they cannot be stored: a job function
declares them as keyword-only parameters defaulting to `INJECTED`, and `InjectingExecutor`
adds this process's objects to the job being run, never to the stored job. `run_with`
calls a job function the same way, at once (the reconcile; tests drive jobs with an
explicit `now` through it).
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor


class _Injected:
    """The default of a job's dependency until the scheduler gives the real one (a
    default at all because APScheduler checks a job's arguments when it is added)."""

    def __getattr__(self, name: str):
        raise RuntimeError("a job's dependency was not injected: run jobs through the "
                           "notify scheduler (its executor, or Scheduler.run)")

    def __repr__(self) -> str:
        return "INJECTED"


INJECTED: Any = _Injected()


@cache
def _wanted(func) -> frozenset[str]:
    return frozenset(name for name, p in inspect.signature(func).parameters.items()
                     if p.kind is inspect.Parameter.KEYWORD_ONLY)


def dependencies_for(func, deps: dict) -> dict:
    """The dependencies among `deps` that `func` takes (its keyword-only parameters)."""
    wanted = _wanted(func)
    return {name: value for name, value in deps.items() if name in wanted}


def run_with(deps: dict, func, *args, now=None):
    """Call the job function `func` now, with its dependencies."""
    return func(*args, now=now, **dependencies_for(func, deps))


class _WithDependencies:
    """The job as run: the stored job, its keyword arguments plus the dependencies."""

    def __init__(self, job, deps: dict):
        self._job = job
        self.kwargs = {**job.kwargs, **dependencies_for(job.func, deps)}

    def __getattr__(self, name):
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


class InjectingExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, running each job with this process's dependencies."""

    def __init__(self, deps: dict, max_workers: int = 10):
        super().__init__(max_workers)
        self.deps = deps

    def _do_submit_job(self, job, run_times):
        super()._do_submit_job(_WithDependencies(job, self.deps), run_times)
