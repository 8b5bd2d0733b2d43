"""`python -m keepwell …`: see keepwell/cli."""

import sys

from keepwell.cli import main

sys.exit(main())
