import pytest

from devkit.apps import make_settings, start
from services.scoring.app import create_app
from shared.memory_bus import MemoryBus


@pytest.fixture
def scoring(mongo_url):
    running = start(create_app, make_settings("scoring", mongo_url), MemoryBus())
    yield running
    running.stop()
