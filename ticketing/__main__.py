"""`python -m ticketing` runs the operator CLI (the same as the `ticketing` script)."""

import sys

from ticketing.cli import main

sys.exit(main())
