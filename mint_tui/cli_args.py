"""What the command-line modules share: exit statuses, the usage error (exit status 2), the
``--pair`` option, option values parsed from JSON, and small wording helpers."""

from __future__ import annotations

import argparse
import json
import os
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a tool ended by a closed pipe
EXIT_NO_FACE = 3  # audit: images were read, but no face was found (so nothing was scored)


class UsageError(Exception):
    """A mistake in how the command was called; exit status 2."""


def json_arg(text: str, what: str) -> dict:
    """An option's JSON object, or a UsageError that says what is wrong with it."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{what} must be a JSON object")
    return value


def add_pair_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pair", metavar="NAME|FILE",
                   help="installed pair name or a .mintpair file (default: the bundled demo pair)")


def plural(n: int, word: str) -> str:
    """"1 result", "2 results"."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def quiet_stdout() -> None:
    """Point standard output at /dev/null, so that the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
