import threading

import pytest

from devkit.apps import make_settings
from devkit.receivers import SmtpServer, WebhookReceiver
from tests.notify.helpers import start_notify

SECRET = "test-webhook-secret"


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def hook():
    receiver = WebhookReceiver(SECRET).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def webhook_receiver():
    """Make receivers (fail_first=..., always_fail=...) that are stopped after the test."""
    made = []

    def make(**options):
        made.append(WebhookReceiver(SECRET, **options).start())
        return made[-1]

    yield make
    for receiver in made:
        receiver.stop()


@pytest.fixture
def gated(webhook_receiver):
    """A receiver that holds every request until the test sets `receiver.gate`."""
    receiver = webhook_receiver()
    receiver.gate, receiver.entered = threading.Event(), threading.Event()
    answer = receiver.server.RequestHandlerClass

    class Held(answer):
        def do_POST(self):
            receiver.entered.set()
            receiver.gate.wait(30)
            super().do_POST()

    receiver.server.RequestHandlerClass = Held
    yield receiver
    receiver.gate.set()


@pytest.fixture
def notify_settings(mongo_url, smtp):
    return make_settings("notify", mongo_url, smtp_url=smtp.url, webhook_secret=SECRET)


@pytest.fixture
def notify(notify_settings):
    running = start_notify(notify_settings)
    yield running
    running.stop()
