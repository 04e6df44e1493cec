"""Third-party checkpoints read for a registered architecture: the layouts its registry entry
accepts are tried in turn, and a file that fits none is named for the architecture it looks like.

(Apart from :mod:`.checkpoint`, which reads and checks state dicts, so that the registry in
:mod:`.zoo` can declare layouts without an import running back to it.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from .checkpoint import (CheckpointError, CheckpointLayout, CheckpointMismatchError, load_state_dict_strict,
                         read_object)
from .zoo import ARCHITECTURES, build_audited

__all__ = ["ImportedCheckpoint", "LayoutMismatchError", "import_checkpoint", "import_checkpoint_report"]


@dataclass
class ImportedCheckpoint:
    """A checkpoint read for an architecture: its state dict as the model names it, and how it was found."""

    state: dict[str, torch.Tensor]
    layout: CheckpointLayout
    matched: int
    ignored: list[str]


def _differences(expected: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor]):
    missing = [k for k in expected if k not in state and not k.endswith(".num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    mismatched = [(k, tuple(v.shape), tuple(expected[k].shape)) for k, v in state.items()
                  if k in expected and tuple(v.shape) != tuple(expected[k].shape)]
    return missing, unexpected, mismatched


class LayoutMismatchError(CheckpointMismatchError):
    """No accepted layout of the architecture fits; the message's first line says which layout (and
    architecture) the file looks like, what is missing and what to do."""

    def __init__(self, headline: str, missing, unexpected, mismatched) -> None:
        self.headline = headline
        super().__init__(missing, unexpected, mismatched)

    def _format(self) -> str:
        return self.headline + "\n" + super()._format()


def _fit(obj: object, path: Path, layouts, expected) -> tuple[int, CheckpointLayout | None, tuple, str]:
    """Best layout for a model's keys: (matched keys, layout, (state, ignored, differences), why not)."""
    best: tuple = (-1, None, None, "")
    for layout in layouts:
        try:
            state, ignored = layout.extract(obj, path)
        except CheckpointError as exc:
            if best[1] is None:
                best = (-1, None, None, str(exc).split(": ", 1)[-1])
            continue
        diff = _differences(expected, state)
        matched = sum(1 for k in state if k in expected and tuple(state[k].shape) == tuple(expected[k].shape))
        if matched > best[0]:
            best = (matched, layout, (state, ignored, diff), "")
    return best


def _looks_like(obj: object, path: Path, arch: str) -> str:
    """'it is a <other arch> checkpoint (<layout>): use --arch <other>' when another architecture fits."""
    for name, spec in ARCHITECTURES.items():
        if name == arch or not spec.layouts:
            continue
        with torch.device("meta"):
            expected = build_audited(name).state_dict()
        matched, layout, found, _ = _fit(obj, path, spec.layouts, expected)
        if layout is not None and not any(found[2]):
            return f"it is a {name} checkpoint ({layout.name}): use --arch {name}"
    return ""


def import_checkpoint_report(path: str | os.PathLike[str], arch: str,
                             config: Mapping[str, object] | None = None) -> ImportedCheckpoint:
    """Read a third-party checkpoint for ``arch`` in one of the layouts its registry entry accepts.

    Returns the model's own (checked, loaded) state dict and the layout that fitted.  When none
    fits, :class:`LayoutMismatchError` names the closest layout, the keys that differ, and whether
    the file is another registered architecture's checkpoint.
    """
    path = Path(path)
    model = build_audited(arch, dict(config) if config is not None else None)
    spec = ARCHITECTURES[arch]
    obj = read_object(path)
    expected = model.state_dict()
    matched, layout, found, why = _fit(obj, path, spec.layouts, expected)
    accepted = "; ".join(lay.name for lay in spec.layouts)
    if layout is None:
        other = _looks_like(obj, path, arch)
        raise CheckpointError(f"{path}: not a {arch} checkpoint in an accepted layout ({accepted}): {why}"
                              + (f"; {other}" if other else ""))
    state, ignored, (missing, unexpected, mismatched) = found
    if missing or unexpected or mismatched:
        other = _looks_like(obj, path, arch)
        todo = other or ("check --arch and --arch-config (embedding_size, ...), or re-save the backbone's "
                         "state dict alone")
        headline = (f"{path.name}: does not fit {arch}: closest accepted layout is '{layout.name}' with "
                    f"{matched} of {len(expected)} tensors matching ({len(missing)} missing, {len(unexpected)} "
                    f"unexpected, {len(mismatched)} of another shape); {todo}")
        raise LayoutMismatchError(headline, missing, unexpected, mismatched)
    load_state_dict_strict(model, state)
    own = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    return ImportedCheckpoint(own, layout, matched, ignored)


def import_checkpoint(path: str | os.PathLike[str], arch: str,
                      config: Mapping[str, object] | None = None) -> dict[str, torch.Tensor]:
    """Read a third-party checkpoint for ``arch`` and return a checked state dict.

    The architecture is built with ``config`` (see ``build_audited``), the file's state
    dict is found through the architecture's accepted layouts (:func:`import_checkpoint_report`),
    checked with :func:`load_state_dict_strict` and loaded, and the model's own
    state dict is returned: every key present, float tensors in the model's dtype,
    contiguous, on the CPU and not sharing memory, ready for ``save_weights``.
    """
    return import_checkpoint_report(path, arch, config).state
