"""One way to run background work: a daemon thread calling a step again and again.

Every background part of congso (the outbox relay, scoring's refresher, notify's sender
and scheduler lease, the database start-up, the broker's publisher and consumer) is a
`BackgroundLoop`, so they all start, wake, back off and stop the same way:

- `step()` does one round of work and returns how long to wait before the next one
  (`None`: the loop's interval; `0`: at once; `STOP`: the work is done, end the loop);
- `wake()` cuts the current wait short (new work arrived);
- a step that raises is logged and retried after a capped exponential backoff with
  jitter, reset by the next step that succeeds;
- `stop(timeout)` asks the loop to end, wakes it, runs `final()` once on the loop's
  thread (a last flush) and joins the thread.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

from pymongo.errors import ConnectionFailure

logger = logging.getLogger(__name__)

STOP = object()  # returned by a step whose work is done for good
# An unreachable database is an outage, not a bug: one warning line, no traceback.
EXPECTED_OUTAGES: tuple[type[BaseException], ...] = (ConnectionFailure,)


class Backoff:
    """Capped exponential backoff with jitter: each delay is drawn from [d/2, d] where d
    doubles from `initial` up to `cap`, so many processes retrying after one outage do
    not come back in step."""

    def __init__(self, initial: float = 0.5, cap: float = 15.0):
        self.initial = initial
        self.cap = cap
        self.failures = 0

    def next(self) -> float:
        ceiling = min(self.cap, self.initial * 2 ** self.failures)
        self.failures += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0


class BackgroundLoop:
    """Calls `step()` on a daemon thread until stopped (see the module's docstring)."""

    def __init__(
        self,
        name: str,
        step: Callable[[], float | object | None],
        *,
        interval: float = 1.0,
        backoff: Backoff | None = None,
        final: Callable[[], None] | None = None,
        quiet: tuple[type[BaseException], ...] = (),
    ):
        self.name = name
        self._step = step
        self.interval = interval
        self.backoff = backoff or Backoff()
        self._final = final
        # exceptions that are expected while a dependency is away: one warning line, no
        # traceback (a broker outage must not flood the log)
        self._quiet = (*quiet, *EXPECTED_OUTAGES)
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (again after a stop, or in a forked child)."""
        if self.running:
            return
        self.stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def sleep(self, seconds: float) -> bool:
        """Wait up to `seconds` unless woken or stopped; True when the loop is stopping."""
        if seconds > 0:
            self._wake.wait(seconds)
        self._wake.clear()
        return self.stopping.is_set()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to end, let it run `final()`, and wait for its thread."""
        self.stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                try:
                    delay = self._step()
                except Exception as exc:
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    wait = self.backoff.next()
                    if isinstance(exc, self._quiet):
                        logger.warning("%s: %s; retrying in %.1fs", self.name,
                                       self.last_error, wait)
                    else:
                        logger.exception("%s failed; retrying in %.1fs", self.name, wait)
                    self.sleep(wait)
                    continue
                self.backoff.reset()
                if delay is STOP:
                    return
                self.sleep(self.interval if delay is None else float(delay))
        finally:
            if self._final is not None:
                try:
                    self._final()
                except Exception:
                    logger.exception("%s: final step failed", self.name)
