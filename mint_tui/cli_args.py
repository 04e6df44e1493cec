"""What the command-line modules share: the usage error (exit status 2) and option values parsed
from JSON."""

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
