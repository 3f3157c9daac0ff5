"""Serve a congso Flask app with gunicorn (threaded workers), started from Python.

The app is built inside each worker, after the fork, and its runtime (publisher, relay,
consumers, jobs) started there: every connection then belongs to the process using it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask
from gunicorn.app.base import BaseApplication

from shared.config import Settings
from shared.http import runtime_of

logger = logging.getLogger(__name__)


class _Server(BaseApplication):
    def __init__(self, factory: Callable[[], Flask], options: dict,
                 on_started: Callable[[Flask], None] | None):
        self._factory = factory
        self._options = options
        self._on_started = on_started
        self._app: Flask | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 25 opens a control socket at one fixed path per user: several
            # congso processes on one machine would fight over it, and nothing uses it.
            self.cfg.set("control_socket_disable", True)
        self.cfg.set("post_worker_init", self._post_worker_init)
        self.cfg.set("worker_exit", self._worker_exit)
        self.cfg.set("child_exit", _child_exit)

    def load(self) -> Flask:
        if self._app is None:
            self._app = self._factory()
        return self._app

    def _post_worker_init(self, worker) -> None:
        app = self.load()
        if "congso.runtime" in app.extensions:
            runtime_of(app).start()
        if self._on_started is not None:
            self._on_started(app)

    def _worker_exit(self, server, worker) -> None:
        if self._app is not None and "congso.runtime" in self._app.extensions:
            logger.info("worker %s stopping: settling messages, flushing the outbox", worker.pid)
            runtime_of(self._app).stop(timeout=10)


def _child_exit(server, worker) -> None:
    """In Prometheus multiprocess mode, drop a dead worker's live gauges."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def serve(
    factory: Callable[[], Flask],
    settings: Settings,
    *,
    workers: int | None = None,
    on_started: Callable[[Flask], None] | None = None,
) -> None:
    """Run `factory()`'s app on settings.port until SIGTERM/SIGINT."""
    options = {
        "bind": f"0.0.0.0:{settings.port}",
        "workers": workers or settings.web_concurrency,
        "worker_class": "gthread",
        "threads": settings.web_threads,
        "timeout": 60,
        "graceful_timeout": 20,
        "keepalive": 5,
        "accesslog": None,
        "loglevel": settings.log_level.lower(),
        "proc_name": f"congso-{settings.service}",
    }
    _Server(factory, options, on_started).run()
