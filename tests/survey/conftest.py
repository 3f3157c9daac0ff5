import threading
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

from devkit.apps import Running, make_settings, seed_directory, start
from services.survey.app import create_app
from shared.memory_bus import MemoryBus

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture
def survey(mongo_url):
    running = start(create_app, make_settings("survey", mongo_url), MemoryBus())
    yield running
    running.stop()


@pytest.fixture
def client(survey):
    return survey.client


@pytest.fixture
def token(client):
    return seed_directory(client)


@dataclass
class Served:
    base: str
    token: str
    running: Running


@pytest.fixture
def served(survey, token):
    """The survey app on a real HTTP port (for a browser), its directory seeded."""
    server = make_server("127.0.0.1", 0, survey.app, threaded=True)
    # a short poll: shutdown() waits up to one poll interval (0.5 s by default)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield Served(f"http://127.0.0.1:{server.server_port}", token, survey)
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, one per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def ctx(survey):
    """Survey's context in the test app (its signer, access copy, keys)."""
    return survey.app.extensions["survey"]
