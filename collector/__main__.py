"""``python -m collector``: same as ``factory-collector``."""

import sys

from collector.cli import main

sys.exit(main())
