"""The checking helpers of the manifest parser (:mod:`mint_tui.pairs.manifest`): a :class:`Checker`
collects every defect with its field path, and reads typed values without coercing them (``true``
is not a number, ``1.5`` is not an integer; an integer is accepted where a float is expected).
"""

from __future__ import annotations

import copy
import math
import re
from datetime import date, datetime, time
from typing import Any

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# A weights entry is a plain file name inside the bundle (no directories).
WEIGHTS_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.safetensors$")
ONNX_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.onnx$")

MISSING = object()


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, (datetime, date, time)):
        return "date/time (write it as a quoted string)"
    return type(value).__name__


class Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def table(self, parent: dict, key: str, path: str, *, required: bool = True) -> dict | None:
        value = parent.get(key, MISSING)
        if value is MISSING:
            if required:
                self.error(path, "missing table")
            return None
        if not isinstance(value, dict):
            self.error(path, f"expected a table, got {type_name(value)}")
            return None
        return value

    def keys(self, table: dict, allowed: tuple[str, ...], path: str) -> None:
        for key in table:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.error(where, f"unknown key (allowed: {', '.join(allowed)})")

    def string(
        self, table: dict, key: str, path: str, *, required: bool = True, nonempty: bool = False
    ) -> str | None:
        value = table.get(key, MISSING)
        if value is MISSING:
            if required:
                self.error(path, "missing key (expected a string)")
            return None
        if not isinstance(value, str):
            self.error(path, f"expected a string, got {type_name(value)}")
            return None
        if nonempty and not value.strip():
            self.error(path, "must not be empty")
            return None
        return value

    def number_value(self, value: Any, path: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(path, f"expected a number, got {type_name(value)}")
            return None
        f = float(value)
        if not math.isfinite(f):
            self.error(path, f"expected a finite number, got {value!r}")
            return None
        return f

    def number(self, table: dict, key: str, path: str, *, required: bool = True) -> float | None:
        value = table.get(key, MISSING)
        if value is MISSING:
            if required:
                self.error(path, "missing key (expected a number)")
            return None
        return self.number_value(value, path)

    def integer(self, table: dict, key: str, path: str, *, required: bool = True) -> int | None:
        value = table.get(key, MISSING)
        if value is MISSING:
            if required:
                self.error(path, "missing key (expected an integer)")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(path, f"expected an integer, got {type_name(value)}")
            return None
        return value

    def number_list(self, table: dict, key: str, path: str, count: int) -> tuple[float, ...] | None:
        value = table.get(key, MISSING)
        if value is MISSING:
            self.error(path, f"missing key (expected {count} numbers)")
            return None
        if not isinstance(value, list):
            self.error(path, f"expected an array of {count} numbers, got {type_name(value)}")
            return None
        if len(value) != count:
            self.error(path, f"expected {count} numbers, got {len(value)}")
            return None
        out = []
        ok = True
        for i, item in enumerate(value):
            f = self.number_value(item, f"{path}[{i}]")
            if f is None:
                ok = False
            else:
                out.append(f)
        return tuple(out) if ok else None

    def sha256(self, table: dict, key: str, path: str) -> str | None:
        value = self.string(table, key, path)
        if value is None:
            return None
        if not SHA256_RE.fullmatch(value.lower()):
            self.error(path, f"expected 64 hexadecimal digits (a SHA-256), got {value!r}")
            return None
        return value.lower()

    def weights_name(self, table: dict, key: str, path: str, suffix: str = ".safetensors") -> str | None:
        value = self.string(table, key, path)
        if value is None:
            return None
        pattern = ONNX_NAME_RE if suffix == ".onnx" else WEIGHTS_NAME_RE
        if not pattern.fullmatch(value):
            self.error(
                path,
                f"expected a plain file name ending in {suffix} "
                f"(letters, digits, '.', '_', '-'), got {value!r}",
            )
            return None
        return value

    def config(self, table: dict, key: str, path: str) -> dict[str, Any] | None:
        value = table.get(key, MISSING)
        if value is MISSING:
            return {}
        if not isinstance(value, dict):
            self.error(path, f"expected a table, got {type_name(value)}")
            return None
        return copy.deepcopy(value)
