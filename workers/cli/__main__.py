"""``python -m workers.cli``: the `vodfleet` command without its console script."""

import sys

from workers.cli.command import main

sys.exit(main())
