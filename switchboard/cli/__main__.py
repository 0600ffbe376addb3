"""`python -m switchboard.cli`: the same command as the `switchboard` console script."""

import sys

from switchboard.cli import main

sys.exit(main())
