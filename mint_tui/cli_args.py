"""What the command-line modules share: the usage error (exit status 2), option values parsed
from JSON and the audit's optional ``--ray`` address."""

from __future__ import annotations

import json


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


def ray_without_address(argv: list[str]) -> list[str]:
    """``audit --ray PATH ...``: PATH is an image path, not the optional Ray address (argparse
    would take it as the address): spelt ``--ray=local PATH``."""
    if not argv or argv[0] != "audit" or "--ray" not in argv:
        return argv
    from mint_tui.ray_audit import LOCAL, is_address

    i = argv.index("--ray")
    if i + 1 < len(argv) and not argv[i + 1].startswith("-") and not is_address(argv[i + 1]):
        return [*argv[:i], f"--ray={LOCAL}", *argv[i + 1:]]
    return argv
