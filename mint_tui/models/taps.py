"""Reading intermediate activations ("taps") of an audited model.

A tap name is either ``"embedding"`` (the model's output; the first element when the model
returns a tuple, as AdaFace's ``(embedding, norm)``), a name from the model's ``tap_modules``
mapping (set by ``build_audited`` from the architecture registry, e.g. ``"layer1"`` ->
``"layers.1"``), or the name of a submodule as in ``dict(model.named_modules())``
(``"layer3.2"``, ...); the tap's value is that submodule's forward output.  All taps come from
one forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["EMBEDDING", "TapExtractor", "tap_shapes", "valid_tap_names"]

EMBEDDING = "embedding"
# How many names an unknown-tap error lists.
_MAX_LISTED = 20


def valid_tap_names(model: nn.Module) -> list[str]:
    """``"embedding"`` followed by every named submodule (root excluded)."""
    return [EMBEDDING] + [name for name, _ in model.named_modules() if name]


def _resolve(model: nn.Module, taps: Sequence[str]) -> dict[str, nn.Module | None]:
    """Map each tap name to its submodule (``None`` for the embedding) or raise."""
    if isinstance(taps, str):
        raise TypeError("taps must be a sequence of names, not a single string")
    if not taps:
        raise ValueError("at least one tap is needed")
    modules = dict(model.named_modules())
    modules.pop("", None)
    aliases = getattr(model, "tap_modules", None) or {}
    modules.update({alias: modules[target] for alias, target in aliases.items() if target in modules})
    duplicated = sorted({t for t in taps if list(taps).count(t) > 1})
    if duplicated:
        raise ValueError(f"duplicated tap name(s): {', '.join(duplicated)}")
    unknown = [t for t in taps if t != EMBEDDING and t not in modules]
    if unknown:
        top_level = [EMBEDDING, *aliases] + [name for name, _ in model.named_children() if name not in aliases]
        shown = ", ".join(top_level[:_MAX_LISTED])
        if len(top_level) > _MAX_LISTED:
            shown += f", ... ({len(top_level) - _MAX_LISTED} more)"
        raise ValueError(
            f"unknown tap name(s) {', '.join(map(repr, unknown))}; valid: {shown}"
            f" (or any nested submodule name such as 'layer1.0'; "
            f"{len(modules) + 1} valid names in total)"
        )
    return {t: (None if t == EMBEDDING else modules[t]) for t in taps}


class TapExtractor:
    """Collect the outputs of named submodules (and the embedding) in one forward pass.

    ``extractor(x)`` runs ``model(x)`` once and returns ``{tap: tensor}`` in the order
    the taps were given.  Tensors are returned as produced (not detached, not copied);
    run it under ``torch.inference_mode()`` when no gradients are wanted.  If a tapped
    module runs several times in one forward, the last output is kept.  Hooks are
    removed by :meth:`close` or on leaving a ``with`` block; the extractor can not be
    used after that.
    """

    def __init__(self, model: nn.Module, taps: Sequence[str]) -> None:
        self.model = model
        self.taps: tuple[str, ...] = tuple(taps)
        self._outputs: dict[str, torch.Tensor] = {}
        self._handles = []
        for name, module in _resolve(model, self.taps).items():
            if module is not None:
                self._handles.append(module.register_forward_hook(self._make_hook(name)))
        self._closed = False

    def _make_hook(self, name: str):
        def hook(module: nn.Module, inputs: object, output: object) -> None:
            if not isinstance(output, torch.Tensor):
                raise TypeError(
                    f"tap {name!r}: module output is {type(output).__name__}, not a tensor"
                )
            self._outputs[name] = output

        return hook

    def __call__(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if self._closed:
            raise RuntimeError("TapExtractor is closed (its hooks were removed)")
        self._outputs = {}
        try:
            output = self.model(x)
            if isinstance(output, (tuple, list)) and output:
                output = output[0]
            if EMBEDDING in self.taps:
                if not isinstance(output, torch.Tensor):
                    raise TypeError(
                        f"model output is {type(output).__name__}, not a tensor; "
                        f"tap {EMBEDDING!r} needs a tensor"
                    )
                self._outputs[EMBEDDING] = output
            missing = [t for t in self.taps if t not in self._outputs]
            if missing:
                raise RuntimeError(
                    f"tap(s) {', '.join(missing)} did not run during the forward pass"
                )
            return {t: self._outputs[t] for t in self.taps}
        finally:
            self._outputs = {}

    def close(self) -> None:
        """Remove the forward hooks (idempotent)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._closed = True

    def __enter__(self) -> TapExtractor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:  # best effort; do not rely on it
        try:
            self.close()
        except Exception:
            pass


def tap_shapes(model: nn.Module, taps: Sequence[str],
               input_size: tuple[int, int] = (112, 112)) -> dict[str, tuple[int, ...]]:
    """Per-sample shape of every tap, e.g. ``{"layer1": (64, 56, 56), "embedding": (512,)}``.

    Runs one dummy forward with a batch of one 3-channel image of ``input_size``
    (height, width) in eval mode under ``torch.inference_mode()``, on the model's device
    and dtype; the model's train/eval mode is restored afterwards.
    """
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    was_training = model.training
    model.eval()
    try:
        with TapExtractor(model, taps) as extractor, torch.inference_mode():
            x = torch.zeros(1, 3, *input_size, device=device, dtype=dtype)
            outputs = extractor(x)
    finally:
        model.train(was_training)
    return {name: tuple(int(d) for d in t.shape[1:]) for name, t in outputs.items()}
