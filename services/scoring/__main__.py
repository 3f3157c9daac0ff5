"""Run the scoring service (`python -m services.scoring`), or rebuild its database
from survey's records (`python -m services.scoring rebuild`)."""

import sys

from services.bootstrap import main

if __name__ == "__main__":
    if sys.argv[1:2] == ["rebuild"]:
        from services.scoring.rebuild import rebuild

        sys.exit(rebuild(sys.argv[2:]))
    main("scoring")
