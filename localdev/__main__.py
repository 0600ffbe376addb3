"""`python -m localdev dev|chat`: run the pipeline on this machine, or chat with a running one."""

import sys

from localdev.cli import main

sys.exit(main())
