"""Registry of the audited (face-recognition) architectures.

``ARCHITECTURES`` maps a name to an :class:`ArchSpec`; :func:`build_audited` builds a
model from a name and a JSON/TOML-serialisable config dict (missing keys take the
spec's defaults; unknown keys are an error).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from torch import nn

from .iresnet import iresnet18, iresnet34, iresnet50, iresnet100
from .mobilefacenet import mobilefacenet

__all__ = [
    "ArchSpec",
    "ARCHITECTURES",
    "DEFAULT_TAPS",
    "UnknownArchitectureError",
    "build_audited",
    "validate_config",
]

# Tap names every architecture of the zoo provides (see mint_tui.models.taps).
DEFAULT_TAPS: tuple[str, ...] = ("layer1", "layer2", "layer3", "layer4", "embedding")


class UnknownArchitectureError(ValueError):
    """The architecture name is not in ``ARCHITECTURES``."""


@dataclass(frozen=True)
class ArchSpec:
    """Description of one audited architecture.

    ``builder(**config)`` returns the model; ``default_config`` lists every accepted
    config key with its default (do not mutate it; :func:`build_audited` copies it).
    """

    name: str
    builder: Callable[..., nn.Module]
    default_config: dict
    input_size: tuple[int, int] = (112, 112)
    taps: tuple[str, ...] = DEFAULT_TAPS
    description: str = ""


_IRESNET_DEFAULTS = {"embedding_size": 512, "dropout": 0.0}

ARCHITECTURES: dict[str, ArchSpec] = {
    "iresnet18": ArchSpec("iresnet18", iresnet18, dict(_IRESNET_DEFAULTS),
                          description="iResNet-18 (arcface_torch layout), ~24M parameters"),
    "iresnet34": ArchSpec("iresnet34", iresnet34, dict(_IRESNET_DEFAULTS),
                          description="iResNet-34 (arcface_torch layout), ~34M parameters"),
    "iresnet50": ArchSpec("iresnet50", iresnet50, dict(_IRESNET_DEFAULTS),
                          description="iResNet-50 (arcface_torch layout), ~44M parameters"),
    "iresnet100": ArchSpec("iresnet100", iresnet100, dict(_IRESNET_DEFAULTS),
                           description="iResNet-100 (arcface_torch layout), ~65M parameters"),
    "mobilefacenet": ArchSpec("mobilefacenet", mobilefacenet,
                              {"embedding_size": 512, "dropout": 0.0, "width": 1.0},
                              description="MobileFaceNet-style light model for CPU training, "
                                          "~0.9M parameters"),
}


def _check_value(arch: str, key: str, value: object) -> None:
    """Range/type checks for the known config keys."""
    if key == "embedding_size":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{arch}: embedding_size must be a positive integer, got {value!r}")
    elif key == "dropout":
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not 0.0 <= float(value) < 1.0):
            raise ValueError(f"{arch}: dropout must be a number in [0, 1), got {value!r}")
    elif key == "width":
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(float(value)) or not 0.0 < float(value) <= 4.0):
            raise ValueError(f"{arch}: width must be a number in (0, 4], got {value!r}")


def validate_config(arch: str, config: Mapping[str, object] | None = None) -> dict:
    """Return the full config for ``arch`` (defaults filled in), or raise.

    Raises :class:`UnknownArchitectureError` for an unknown ``arch`` and ``ValueError``
    naming unknown keys or out-of-range values.
    """
    spec = ARCHITECTURES.get(arch)
    if spec is None:
        known = ", ".join(ARCHITECTURES)
        raise UnknownArchitectureError(f"unknown architecture {arch!r}; known: {known}")
    config = dict(config or {})
    unknown = sorted(set(config) - set(spec.default_config))
    if unknown:
        raise ValueError(
            f"{arch}: unknown config key(s) {', '.join(map(repr, unknown))}; "
            f"accepted: {', '.join(spec.default_config)}"
        )
    full = {**spec.default_config, **config}
    for key, value in full.items():
        _check_value(arch, key, value)
    if "width" in full:
        full["width"] = float(full["width"])
    if "dropout" in full:
        full["dropout"] = float(full["dropout"])
    return full


def build_audited(arch: str, config: Mapping[str, object] | None = None) -> nn.Module:
    """Build a freshly initialised audited model (train mode, CPU, float32)."""
    full = validate_config(arch, config)
    return ARCHITECTURES[arch].builder(**full)
