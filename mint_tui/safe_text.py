"""Text that came from outside (file names, bundle titles, error messages) made safe to show.

A file name may hold any byte but ``/`` and NUL: carriage returns, escape sequences that move the
cursor or clear a line, bidirectional-override characters that reorder what follows. Printed raw,
such a name can make a ``non-member`` row display as ``member``. :func:`for_terminal` escapes them
(``\\r``, ``\\x1b``, ``\\u202e``) so that what is shown is what is there; every terminal output of
the CLI and the TUI goes through it.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the invisible characters that reorder or hide text (bidi marks,
# embeddings, overrides and isolates; the Arabic letter mark).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_KEEP_NEWLINES = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """Text (a path) as valid UTF-8: bytes of a file name that are not UTF-8 (which Python keeps as
    lone surrogates) become ``\\xNN`` escapes instead of breaking a JSON/CSV encoder or a terminal."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: object, keep_newlines: bool = False) -> str:
    """``text`` with every control character escaped (``keep_newlines``: line breaks stay), and
    bytes that are not UTF-8 as ``\\xNN``: safe to print to a terminal or show in the TUI."""
    pattern = _UNSAFE_KEEP_NEWLINES if keep_newlines else _UNSAFE
    return pattern.sub(_escape, printable(str(text)))
