"""Reading, checking and writing audited-model weights.

* Third-party checkpoints (e.g. insightface ``backbone.pth``) are read with
  ``torch.load(..., weights_only=True)`` only: a file that needs arbitrary Python
  objects to unpickle is refused with :class:`UnsafeCheckpointError`, never executed.
* Our own weights are stored as safetensors (:func:`save_weights` / :func:`load_weights`).
* Every load into a model goes through :func:`load_state_dict_strict`, which compares
  key sets and shapes first and reports all differences at once.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

__all__ = [
    "CheckpointError",
    "CheckpointMismatchError",
    "UnsafeCheckpointError",
    "CheckpointLayout",
    "PLAIN",
    "load_state_dict_strict",
    "read_state_dict",
    "save_weights",
    "load_weights",
]

# Keys under which training scripts commonly nest the actual state dict.
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "backbone", "net", "module")
# Key prefixes added by DataParallel / DistributedDataParallel and torch.compile.
STRIP_PREFIXES = ("module.", "_orig_mod.")
# How many names of each kind a mismatch message shows.
MAX_LISTED = 10


class CheckpointError(ValueError):
    """A checkpoint file could not be read or used."""


class UnsafeCheckpointError(CheckpointError):
    """The file contains pickled Python objects that weights-only loading refuses."""


class CheckpointMismatchError(CheckpointError):
    """A state dict does not fit a model: missing/unexpected keys or wrong shapes.

    Attributes ``missing``, ``unexpected`` (lists of keys) and ``mismatched``
    (list of ``(key, checkpoint_shape, model_shape)``) hold the full lists.
    """

    def __init__(self, missing: list[str], unexpected: list[str],
                 mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]]) -> None:
        self.missing = missing
        self.unexpected = unexpected
        self.mismatched = mismatched
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} missing key(s)")
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} unexpected key(s)")
        if self.mismatched:
            parts.append(f"{len(self.mismatched)} shape mismatch(es)")
        lines = ["checkpoint does not match the model: " + ", ".join(parts)]
        lines += _listing("missing from checkpoint", self.missing)
        lines += _listing("unexpected in checkpoint", self.unexpected)
        lines += _listing(
            "shape mismatch",
            [f"{key}: checkpoint {list(got)} vs model {list(want)}"
             for key, got, want in self.mismatched],
        )
        return "\n".join(lines)


def _listing(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    lines = [f"  {title} ({len(items)}):"]
    lines += [f"    {item}" for item in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(f"    ... and {len(items) - MAX_LISTED} more")
    return lines


def load_state_dict_strict(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> None:
    """Load ``state_dict`` into ``model`` after checking keys and shapes.

    Raises :class:`CheckpointMismatchError` naming missing keys, unexpected keys and
    shape mismatches (the first ``MAX_LISTED`` of each, with counts) before anything
    is copied, so a failed load leaves the model untouched.  The one tolerated
    difference is a missing BatchNorm ``num_batches_tracked`` counter (old PyTorch
    checkpoints lack it; it does not affect the outputs), which is then set to 0.
    Values are copied (and cast) into the model's existing tensors.
    """
    not_tensors = [k for k, v in state_dict.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        shown = ", ".join(not_tensors[:MAX_LISTED])
        raise CheckpointError(f"state dict has {len(not_tensors)} non-tensor value(s): {shown}")
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict
               and not k.endswith(".num_batches_tracked")]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [
        (k, tuple(v.shape), tuple(expected[k].shape))
        for k, v in state_dict.items()
        if k in expected and tuple(v.shape) != tuple(expected[k].shape)
    ]
    if missing or unexpected or mismatched:
        raise CheckpointMismatchError(missing, unexpected, mismatched)
    # A plain dict (no ``_metadata``) lets BatchNorm fill a missing num_batches_tracked.
    model.load_state_dict(dict(state_dict), strict=True)


def _unwrap(obj: object, path: Path) -> dict[str, torch.Tensor]:
    """Find the tensor dict inside common checkpoint wrappers and strip key prefixes."""
    for _ in range(4):  # wrappers nest at most a few levels deep in practice
        if not isinstance(obj, Mapping):
            break
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            break
        inner = next((obj[k] for k in WRAPPER_KEYS
                      if k in obj and isinstance(obj[k], Mapping)), None)
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, Mapping):
        raise CheckpointError(
            f"{path}: expected a state dict (a mapping of names to tensors), "
            f"found {type(obj).__name__}"
        )
    bad = [str(k) for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad or not obj:
        found = ", ".join(bad[:MAX_LISTED]) if bad else "it is empty"
        raise CheckpointError(
            f"{path}: not a state dict of tensors ({found}); looked inside the "
            f"wrapper keys {', '.join(WRAPPER_KEYS)}"
        )
    state = dict(obj)
    for prefix in STRIP_PREFIXES:
        if all(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items()}
    return state


def _unpickler_detail(message: str) -> str:
    """The useful part of torch's weights-only error (e.g. "Unsupported global: ...")."""
    marker = "WeightsUnpickler error:"
    if marker in message:
        message = message.split(marker, 1)[1]
    message = " ".join(message.split())
    for cut in (" Please use", " Check the documentation"):
        message = message.split(cut, 1)[0]
    return message.strip() or "weights-only unpickling failed"


def read_object(path: str | os.PathLike[str]) -> object:
    """The raw content of a ``.pth``/``.pt``/``.ckpt`` (weights-only) or ``.safetensors`` file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except Exception as exc:  # safetensors raises its own error types
            raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from exc
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = _unpickler_detail(str(exc))
        if "global" not in detail.lower():
            # Not a refused object: the pickle stream itself is broken or not a pickle.
            raise CheckpointError(f"{path}: could not read checkpoint (not a PyTorch "
                                  f"checkpoint or corrupt: {detail})") from exc
        raise UnsafeCheckpointError(
            f"refusing to load {path}: it contains Python objects other than tensors, "
            "and only weights-only loading is allowed (unpickling arbitrary objects can "
            "run code). Re-save the weights alone as a plain state dict with the code that made "
            "the file, e.g. torch.save(model.state_dict(), 'backbone.pth'), or for a Lightning "
            ".ckpt: torch.save(torch.load(path, weights_only=False)['state_dict'], 'weights.pth') "
            f"in a trusted environment. Detail: {detail}"
        ) from exc
    except Exception as exc:  # corrupt zip, truncated file, TorchScript archive, ...
        raise CheckpointError(f"{path}: could not read checkpoint ({type(exc).__name__}: {exc})") from exc


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a state dict from a ``.pth``/``.pt`` (weights-only) or ``.safetensors`` file.

    Common wrappers (``{"state_dict": ...}``, ``{"model": ...}``, ...) are unwrapped and
    ``module.`` prefixes from DataParallel are stripped.  Files that need arbitrary
    Python objects to unpickle raise :class:`UnsafeCheckpointError`; unreadable files
    raise :class:`CheckpointError`; a missing file raises ``FileNotFoundError``.
    """
    return _unwrap(read_object(path), Path(path))


@dataclass(frozen=True)
class CheckpointLayout:
    """One way a project saves an architecture's weights.

    ``wrapper``: the keys to descend from the file's top level to the state dict (empty: a plain
    state dict, where the common wrappers and DataParallel prefixes are handled); ``ignore``: key
    prefixes dropped (training-only parts such as a classifier head); ``prefix``: removed from the
    keys that have it; ``renames``: (old prefix, new prefix) pairs.
    """

    name: str
    wrapper: tuple[str, ...] = ()
    prefix: str = ""
    ignore: tuple[str, ...] = ()
    renames: tuple[tuple[str, str], ...] = ()
    note: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "wrapper": list(self.wrapper), "prefix": self.prefix,
                "ignore": list(self.ignore), "renames": [list(r) for r in self.renames], "note": self.note}

    def extract(self, obj: object, path: Path) -> tuple[dict[str, torch.Tensor], list[str]]:
        """(state dict, ignored keys); :class:`CheckpointError` when the file is not in this layout."""
        for key in self.wrapper:
            if not isinstance(obj, Mapping) or key not in obj:
                raise CheckpointError(f"{path}: no {key!r} entry (the {self.name} layout keeps the "
                                      f"weights under {'/'.join(self.wrapper)})")
            obj = obj[key]
        if self.wrapper:
            if not isinstance(obj, Mapping) or not obj or not all(
                    isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
                raise CheckpointError(f"{path}: {'/'.join(self.wrapper)} is not a state dict of tensors")
            state = dict(obj)
            for prefix in STRIP_PREFIXES:
                if all(k.startswith(prefix) for k in state):
                    state = {k[len(prefix):]: v for k, v in state.items()}
        else:
            state = _unwrap(obj, path)
        ignored = sorted(k for k in state if k.startswith(self.ignore)) if self.ignore else []
        state = {k: v for k, v in state.items() if k not in set(ignored)}
        if self.prefix:  # keys outside the prefix (and not ignored) stay, and show up as unexpected
            state = {(k[len(self.prefix):] if k.startswith(self.prefix) else k): v for k, v in state.items()}
        for old, new in self.renames:
            state = {(new + k[len(old):] if k.startswith(old) else k): v for k, v in state.items()}
        return state, ignored


#: A state dict saved with ``torch.save(model.state_dict(), ...)`` (wrappers and DDP prefixes allowed).
PLAIN = CheckpointLayout("state dict", note="torch.save(model.state_dict(), F); {'state_dict': ...} and "
                                            "'module.' prefixes are unwrapped")


def save_weights(model_or_state_dict: nn.Module | Mapping[str, torch.Tensor],
                 path: str | os.PathLike[str],
                 metadata: Mapping[str, str] | None = None) -> None:
    """Write a model's (or a state dict's) tensors to a safetensors file.

    ``metadata`` (str -> str) is stored in the safetensors header.  The parent
    directory must exist.
    """
    from safetensors.torch import save_file

    if isinstance(model_or_state_dict, nn.Module):
        state = model_or_state_dict.state_dict()
    else:
        state = model_or_state_dict
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}
    save_file(tensors, str(path), metadata=dict(metadata) if metadata is not None else None)


def load_weights(model: nn.Module, path: str | os.PathLike[str]) -> nn.Module:
    """Load a safetensors file into ``model`` with :func:`load_state_dict_strict`.

    Returns ``model`` (loaded in place).
    """
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights not found: {path}")
    try:
        state = load_file(str(path), device="cpu")
    except Exception as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from exc
    load_state_dict_strict(model, state)
    return model
