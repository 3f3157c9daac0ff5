"""The background parts of a service (publisher, relay, consumers, jobs) and their lifecycle.

`create_app` builds a `Runtime` but starts nothing: the process entry point (or a test)
calls `start()` after any fork, so every connection belongs to the process that uses it.
"""

from __future__ import annotations

import logging
from typing import Protocol

logger = logging.getLogger(__name__)


class Component(Protocol):
    def start(self) -> None: ...


class Runtime:
    """An ordered set of components started in order and stopped in reverse."""

    def __init__(self, name: str):
        self.name = name
        self.components: list[tuple[str, object]] = []
        self.started = False
        self.on_start: list = []

    def add(self, name: str, component) -> None:
        self.components.append((name, component))

    def get(self, name: str):
        for n, c in self.components:
            if n == name:
                return c
        raise KeyError(name)

    def start(self) -> None:
        if self.started:
            return
        for name, component in self.components:
            logger.debug("%s: starting %s", self.name, name)
            component.start()
        for hook in self.on_start:
            hook()
        self.started = True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every component; consumers finish the message in hand, the relay flushes."""
        for name, component in reversed(self.components):
            stop = getattr(component, "stop", None) or getattr(component, "close", None)
            if stop is None:
                continue
            try:
                stop(timeout)
            except Exception:
                logger.exception("%s: stopping %s failed", self.name, name)
        self.started = False


def component_ready(component) -> bool:
    return bool(getattr(component, "ready", True))
