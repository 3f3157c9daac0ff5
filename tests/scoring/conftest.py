import pytest

from devkit.apps import make_settings, start
from devkit.auth import pinned_settings
from services.scoring.app import create_app
from shared.memory_bus import MemoryBus
from tests.scoring.helpers import deliver, office_events


@pytest.fixture
def scoring(mongo_url):
    settings = make_settings("scoring", mongo_url, **pinned_settings())
    running = start(create_app, settings, MemoryBus())
    yield running
    running.stop()


@pytest.fixture
def office(scoring):
    """Scoring with the scope tests' office (`helpers.PEOPLE`) delivered as events."""
    deliver(scoring, *office_events())
    return scoring
