"""``python -m simulator`` = ``factory-sim``."""

import sys

from simulator.cli import main

sys.exit(main())
