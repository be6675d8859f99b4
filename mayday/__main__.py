"""``python -m mayday``: the same as the ``mayday`` command."""

import sys

from mayday.cli import main

sys.exit(main())
