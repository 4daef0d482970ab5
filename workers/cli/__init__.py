"""The `vodfleet` command: `command` builds the parser from `commands` (one module per subcommand) and maps errors to
exit codes; `main` is the console script's entry point (``vodfleet = "workers.cli:main"``)."""

from workers.cli.command import main

__all__ = ["main"]
