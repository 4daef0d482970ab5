"""The `vodfleet` command: a parser built from `workers.cli.commands`, errors mapped to documented exit codes."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import pkgutil
import shlex
import signal
import sys
from collections.abc import Sequence

import workers.cli.commands
from pipelines.errors import CodedError, FFmpegFailed, QCFailed
from workers.exitcodes import EXIT_INTERRUPTED, exit_code


def command_names() -> list[str]:
    """Every subcommand: one module of `workers.cli.commands` each, named as the command (found without importing)."""
    return sorted(m.name for m in pkgutil.iter_modules(workers.cli.commands.__path__))


def chosen(argv: Sequence[str], names: Sequence[str]) -> str | None:
    """The subcommand `argv` runs (its first word that is not an option), or None (pure)."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in names else None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The full parser; given `argv` naming a command, only that command's module is imported (the others get a
    placeholder), so `vodfleet submit` does not pay for the worker, the exporter or the encoder pipeline."""
    parser = argparse.ArgumentParser(prog="vodfleet", description="Video transcoding fleet.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every command run")
    sub = parser.add_subparsers(dest="command", required=True)
    names = command_names()
    only = None if argv is None else chosen(argv, names)
    for module in names:
        if only is None or module == only:
            importlib.import_module(f"workers.cli.commands.{module}").add_parser(sub)
        else:
            sub.add_parser(module, help="(see vodfleet --help)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _terminate)  # SIGTERM cleans up like Ctrl-C: ffmpeg killed, nothing kept
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was written to the output folder", file=sys.stderr)
        return EXIT_INTERRUPTED
    except CodedError as exc:
        _print_error(exc, json_mode=getattr(args, "json", False))
        return exit_code(exc)
    return code


def _terminate(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _print_error(exc: CodedError, *, json_mode: bool) -> None:
    if json_mode:
        print(json.dumps({"error": exc.to_dict()}, indent=2, ensure_ascii=False))
    print(f"\nerror [{exc.code}]: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"  what to do: {exc.hint}", file=sys.stderr)
    if isinstance(exc, QCFailed):
        for failure in exc.failures:
            print(f"  failed check {failure.name}: {failure.detail}", file=sys.stderr)
    if isinstance(exc, FFmpegFailed):
        print(f"  command: {shlex.join(exc.argv)}", file=sys.stderr)
        for line in exc.stderr_tail.splitlines()[-10:]:
            print(f"  | {line}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
