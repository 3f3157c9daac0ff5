"""Run the survey service: `python -m services.survey`."""

from services.cli import run_service
from services.survey.app import create_app

if __name__ == "__main__":
    run_service("survey", create_app)
