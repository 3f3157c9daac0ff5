import pytest

from devkit.apps import make_settings, seed_directory, start
from services.survey.app import create_app
from shared.memory_bus import MemoryBus


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
