"""``python -m pdm`` = ``factory-pdm``."""

import sys

from pdm.cli import main

sys.exit(main())
