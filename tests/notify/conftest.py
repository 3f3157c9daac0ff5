import pytest

from devkit.apps import make_settings, start
from devkit.receivers import SmtpServer, WebhookReceiver
from services.notify.app import create_app
from shared.memory_bus import MemoryBus

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


def fast_retries(running):
    sender = running.app.extensions["notify"].sender
    sender.initial_delay, sender.max_delay, sender.max_attempts = 0.05, 0.2, 4


@pytest.fixture
def notify_settings(mongo_url, smtp):
    return make_settings("notify", mongo_url, smtp_url=smtp.url, webhook_secret=SECRET)


@pytest.fixture
def notify(notify_settings):
    running = start(create_app, notify_settings, MemoryBus())
    fast_retries(running)
    yield running
    running.stop()
