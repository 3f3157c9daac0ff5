"""The background parts of a service (publisher, relay, consumers, jobs) and their lifecycle.

`create_app` builds a `Runtime` but starts nothing: the process entry point (or a test)
calls `start()` after any fork, so every connection belongs to the process that uses it.

Components are of two kinds. Those the HTTP side needs (database, publisher, outbox relay,
senders) run in every process that serves requests. Those that are the service's own work
(consumers, the score refresher, the notify scheduler's lease) are marked `background`: in
a single process they start with the rest; with several gunicorn workers, exactly one
worker at a time runs them (see `services.server`), so they are never duplicated per
HTTP worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

logger = logging.getLogger(__name__)


class Component(Protocol):
    def start(self) -> None: ...


class Part:
    """A component made of two callables (for objects with more than one role)."""

    def __init__(self, start: Callable[[], None], stop: Callable[[float], None] | None = None):
        self._start = start
        self._stop = stop

    def start(self) -> None:
        self._start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._stop is not None:
            self._stop(timeout)


class Runtime:
    """An ordered set of components started in order and stopped in reverse."""

    def __init__(self, name: str):
        self.name = name
        self.components: list[tuple[str, object, bool]] = []
        self.running: set[str] = set()
        self.started = False
        self.background_started = False
        # run once the background components are up (once per service, not per worker)
        self.on_start: list = []
        self.readiness_of: dict[str, str] = {}

    def add(self, name: str, component, *, background: bool = False,
            readiness: str | None = None) -> None:
        """Add a component; with `readiness`, `/readyz` reports it under that check
        (e.g. "survey.broker": every broker-facing component of survey must be ready)."""
        self.components.append((name, component, background))
        if readiness is not None:
            self.readiness_of[name] = readiness

    def get(self, name: str):
        for n, c, _ in self.components:
            if n == name:
                return c
        raise KeyError(name)

    def is_running(self, name: str) -> bool:
        return name in self.running

    def readiness(self) -> dict[str, bool]:
        """Each readiness check: all its components ready. A background component that
        runs in another worker process is not this process's to report."""
        checks: dict[str, bool] = {}
        for name, component, background in self.components:
            check = self.readiness_of.get(name)
            if check is None:
                continue
            counts = not background or name in self.running or not self.started
            checks[check] = checks.get(check, True) and (
                not counts or component_ready(component))
        return checks

    def start(self, *, background: bool = True) -> None:
        """Start the HTTP side's components, and the background ones unless told not to."""
        if not self.started:
            for name, component, is_background in self.components:
                if not is_background:
                    self._start(name, component)
            self.started = True
        if background:
            self.start_background()

    def start_background(self) -> None:
        if self.background_started:
            return
        for name, component, is_background in self.components:
            if is_background:
                self._start(name, component)
        for hook in self.on_start:
            hook()
        self.background_started = True

    def _start(self, name: str, component) -> None:
        logger.debug("%s: starting %s", self.name, name)
        component.start()
        self.running.add(name)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every started component; consumers finish the message in hand, the relay
        flushes."""
        for name, component, _ in reversed(self.components):
            if name not in self.running:
                continue
            stop = getattr(component, "stop", None) or getattr(component, "close", None)
            if stop is None:
                continue
            try:
                stop(timeout)
            except Exception:
                logger.exception("%s: stopping %s failed", self.name, name)
            self.running.discard(name)
        self.started = self.background_started = False


def component_ready(component) -> bool:
    return bool(getattr(component, "ready", True))
