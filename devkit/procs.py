"""Services as real OS processes, for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpClient:
    """requests against one service, answering like Flask's test client (`get_json()`), so
    helpers written for in-process apps (devkit.apps.seed_directory) drive processes too."""

    def __init__(self, base: str, timeout: float = 10):
        self.base = base
        self.timeout = timeout
        self.session = requests.Session()

    def open(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        response = self.session.request(method, f"{self.base}{path}", **kwargs)
        response.get_json = response.json
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.open("GET", path, **kwargs)

    def put(self, path: str, **kwargs) -> requests.Response:
        return self.open("PUT", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.open("POST", path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.open("DELETE", path, **kwargs)


class ServiceProcess:
    def __init__(self, module: str, env: dict[str, str], port: int):
        self.module = module
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix=f"{module}-", suffix=".log")  # noqa: SIM115
        full_env = {k: v for k, v in os.environ.items()
                    if k not in ("AMQP_URL", "MONGODB_URL", "ADMIN_TOKEN", "PORT", "HOST")}
        full_env.update(env, PORT=str(port), PYTHONUNBUFFERED="1")
        # A session of its own: kill() takes the gunicorn master and its workers together.
        self.proc = subprocess.Popen([sys.executable, "-m", module], env=full_env,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    @property
    def client(self) -> HttpClient:
        """A new HTTP client of this service (its own connection pool)."""
        return HttpClient(self.base)

    def output(self) -> str:
        self.log.flush()
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.module} exited:\n{self.output()}")
            try:
                if requests.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.module} not ready in {timeout}s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL the whole service (master and workers), as a crash or OOM kill would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
        return self.proc.returncode


def start_ready(env: dict[str, str], *modules: str) -> list[ServiceProcess]:
    """Start each module as its own service on a free port; return them once all are
    ready (stopping them all if one is not)."""
    procs = [ServiceProcess(m, env, free_port()) for m in modules]
    try:
        for p in procs:
            p.wait_ready()
    except BaseException:
        for p in procs:
            p.stop()
        raise
    return procs
