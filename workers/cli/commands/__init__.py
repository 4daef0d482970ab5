"""One module per `vodfleet` subcommand.

Each module defines ``add_parser(subparsers) -> None``, which registers its subcommand and sets
``func=run`` on it, and ``run(args) -> int``, which returns an exit code from `workers.exitcodes`.
Modules here are discovered by name, so adding a command touches no shared file.
"""
