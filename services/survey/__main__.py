"""Run the survey service: `python -m services.survey`."""

from services.bootstrap import main

if __name__ == "__main__":
    main("survey")
