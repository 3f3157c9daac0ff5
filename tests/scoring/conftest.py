import pytest

from services.scoring.app import create_app
from shared.memory_bus import MemoryBus
from tests.support.apps import make_settings, start


@pytest.fixture
def scoring(mongo_url):
    running = start(create_app, make_settings("scoring", mongo_url), MemoryBus())
    yield running
    running.stop()
