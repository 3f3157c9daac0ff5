"""Run the notify service: `python -m services.notify`."""

from services.bootstrap import main

if __name__ == "__main__":
    main("notify")
