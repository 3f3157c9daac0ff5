"""Run the notify service: `python -m services.notify`."""

from services.cli import run_service
from services.notify.app import create_app

if __name__ == "__main__":
    run_service("notify", create_app)
