"""How a face crop becomes an audited model's input: size, colour order, mean/std, alignment template.

Each audited architecture declares its defaults (``mint_tui.models.audited.ARCHITECTURES``); a pair
records the values it was trained with in its manifest. This module imports nothing heavy, so the
manifest parser can use it without torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

__all__ = ["COLOR_ORDERS", "Preprocess", "with_overrides"]

COLOR_ORDERS = ("RGB", "BGR")


@dataclass(frozen=True)
class Preprocess:
    """``((pixel / 255) - mean) / std`` per channel, in ``color`` order, on a ``size`` (height,
    width) crop aligned with ``template``."""

    size: tuple[int, int]
    color: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    template: str

    def to_dict(self) -> dict:
        return {"size": list(self.size), "color": self.color, "mean": list(self.mean), "std": list(self.std),
                "template": self.template}


def _three(values: Sequence[float] | float, what: str) -> tuple[float, float, float]:
    if isinstance(values, (int, float)):
        values = [values] * 3
    values = [float(v) for v in values]
    if len(values) == 1:
        values = values * 3
    if len(values) != 3:
        raise ValueError(f"{what} needs 1 or 3 numbers, got {len(values)}")
    return (values[0], values[1], values[2])


def with_overrides(base: Preprocess, *, size: Sequence[int] | int | None = None, color: str | None = None,
                   mean: Sequence[float] | float | None = None, std: Sequence[float] | float | None = None,
                   template: str | None = None) -> Preprocess:
    """``base`` with the given fields replaced (and checked); ``None`` keeps the base value.

    ``size`` is one number (a square) or (height, width); ``color`` is rgb/bgr in any case;
    ``mean``/``std`` are one number (all channels) or three, on the 0..1 pixel scale."""
    changes: dict = {}
    if size is not None:
        dims = [int(size)] * 2 if isinstance(size, int) else [int(v) for v in size]
        if len(dims) == 1:
            dims *= 2
        if len(dims) != 2 or min(dims) < 16 or max(dims) > 1024:
            raise ValueError(f"input size must be one or two integers in 16..1024, got {list(dims)}")
        changes["size"] = (dims[0], dims[1])
    if color is not None:
        if color.upper() not in COLOR_ORDERS:
            raise ValueError(f"colour order must be rgb or bgr, got {color!r}")
        changes["color"] = color.upper()
    if mean is not None:
        changes["mean"] = _three(mean, "mean")
    if std is not None:
        changes["std"] = _three(std, "std")
        if min(changes["std"]) <= 0:
            raise ValueError(f"std must be > 0, got {list(changes['std'])}")
    if template is not None:
        changes["template"] = template
    return replace(base, **changes)
