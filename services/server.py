"""Serve a congso Flask app with gunicorn (threaded workers), started from Python.

The app is built inside each worker, after the fork, and its runtime started there: every
connection then belongs to the process using it. With one worker (the default), that
worker runs everything. With several (`WEB_CONCURRENCY`), every worker runs the HTTP
side (database, publisher, outbox relay), and the background components (consumers, the
score refresher, the scheduler's lease) run in exactly one of them: the worker holding an
exclusive lock on a file for this service and port. The operating system releases the lock
when its holder dies, however it dies, and another worker takes it within a second.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
import threading
from collections.abc import Callable

from flask import Flask
from gunicorn.app.base import BaseApplication

from shared.config import Settings
from shared.http import runtime_of

logger = logging.getLogger(__name__)


class _Server(BaseApplication):
    def __init__(self, factory: Callable[[], Flask], options: dict,
                 on_started: Callable[[Flask], None] | None, lock_path: str):
        self._factory = factory
        self._options = options
        self._on_started = on_started
        self._app: Flask | None = None
        self._slot: BackgroundSlot | None = None
        self._lock_path = lock_path
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
            runtime = runtime_of(app)
            if self.cfg.workers > 1:
                runtime.start(background=False)
                self._slot = BackgroundSlot(self._lock_path, runtime.start_background)
                self._slot.start()
            else:
                runtime.start()
        if self._on_started is not None:
            self._on_started(app)

    def _worker_exit(self, server, worker) -> None:
        if self._slot is not None:
            self._slot.stop()
        if self._app is not None and "congso.runtime" in self._app.extensions:
            logger.info("worker %s stopping: settling messages, flushing the outbox", worker.pid)
            runtime_of(self._app).stop(timeout=10)
        if self._slot is not None:
            self._slot.release()


class BackgroundSlot:
    """Runs `on_acquired` once this process holds an exclusive lock on `path`.

    flock(2) locks belong to the open file: the kernel drops them when the process exits,
    SIGKILL included, so a dead holder never blocks the others.
    """

    def __init__(self, path: str, on_acquired: Callable[[], None], interval: float = 1.0):
        self.path = path
        self._on_acquired = on_acquired
        self._interval = interval
        self._file = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.held = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="background-slot")
        self._thread.start()

    def _loop(self) -> None:
        self._file = open(self.path, "a+")  # noqa: SIM115 - held open while the lock is
        while not self._stopping.is_set():
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._stopping.wait(self._interval)
                continue
            self.held = True
            logger.info("worker %s runs the background components", os.getpid())
            try:
                self._on_acquired()
            except Exception:
                logger.exception("starting the background components failed")
            return

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # drops the lock: another worker takes over
            self._file = None
        self.held = False


def _fresh_metrics_dir() -> None:
    """Prometheus multiprocess mode: start from an empty directory. Files left by an
    earlier run (a container restarted in the same pod) would be summed with ours, and a
    dead process's "live" gauges would still count."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(directory, name))


def _child_exit(server, worker) -> None:
    """In Prometheus multiprocess mode, drop a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def serve(
    factory: Callable[[], Flask],
    settings: Settings,
    *,
    workers: int | None = None,
    on_started: Callable[[Flask], None] | None = None,
) -> None:
    """Run `factory()`'s app on settings.port until SIGTERM/SIGINT."""
    options = {
        "bind": _bind(settings.host, settings.port),
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
    if options["workers"] > 1 and settings.mongodb_url.startswith("mongomock://"):
        logger.warning("WEB_CONCURRENCY=%d on mongomock: each worker has its own database",
                       options["workers"])
    _fresh_metrics_dir()
    lock_path = os.path.join(tempfile.gettempdir(),
                             f"congso-{settings.service}-{settings.port}.background.lock")
    _Server(factory, options, on_started, lock_path).run()
