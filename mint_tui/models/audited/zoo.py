"""Registry of the audited (face-recognition) architectures.

``ARCHITECTURES`` maps a name to an :class:`ArchSpec`; :func:`build_audited` builds a
model from a name and a JSON/TOML-serialisable config dict (missing keys take the
spec's defaults; unknown keys are an error).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from torch import nn

from mint_tui.preprocess import Preprocess

from .adaface import adaface_ir50, adaface_ir101, stage_ends
from .checkpoint import PLAIN, CheckpointLayout
from .inception_resnet_v1 import inception_resnet_v1
from .iresnet import iresnet18, iresnet34, iresnet50, iresnet100
from .mbf import mbf, mbf_large
from .mobilefacenet import mobilefacenet

__all__ = [
    "ArchSpec",
    "ARCHITECTURES",
    "ONNX",
    "ONNX_PREPROCESS",
    "build_loaded",
    "DEFAULT_TAPS",
    "UnknownArchitectureError",
    "build_audited",
    "validate_config",
]

#: ``audited.arch`` of a pair whose audited model is an ONNX graph (the graph is the architecture).
ONNX = "onnx"

# Tap names every architecture of the zoo provides (see mint_tui.models.taps).
DEFAULT_TAPS: tuple[str, ...] = ("layer1", "layer2", "layer3", "layer4", "embedding")


class UnknownArchitectureError(ValueError):
    """The architecture name is not in ``ARCHITECTURES``."""


#: arcface_torch and AdaFace inputs: [-1, 1] on a 112x112 crop aligned with insightface's template.
_ARCFACE_PRE = Preprocess((112, 112), "RGB", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), "arcface112")
#: The stage outputs of the zoo's own layout.
_LAYERS = {"layer1": "layer1", "layer2": "layer2", "layer3": "layer3", "layer4": "layer4"}
#: ONNX graphs do not say how they want their input: insightface's convention (its model-zoo packs and
#: arcface_torch's torch2onnx.py), overridden with train --color/--mean/--std/--template.
ONNX_PREPROCESS = _ARCFACE_PRE
_RESUME = CheckpointLayout("arcface_torch resume checkpoint", wrapper=("state_dict_backbone",),
                           note="checkpoint_gpu_N.pt written with --resume; the head and optimiser are ignored")


@dataclass(frozen=True)
class ArchSpec:
    """Description of one audited architecture.

    ``builder(**config)`` returns the model; ``default_config`` lists every accepted config key
    with its default (do not mutate it; :func:`build_audited` copies it). ``preprocess`` is the
    input the model was trained on; ``taps`` maps each tap name (the stage outputs the MINT paper
    taps, then ``embedding``) to the submodule it reads (``None``: the model's output);
    ``layouts`` are the checkpoint layouts :func:`import_checkpoint` accepts, tried in order.
    """

    name: str
    builder: Callable[..., nn.Module]
    default_config: dict
    preprocess: Preprocess = _ARCFACE_PRE
    taps: Mapping[str, str | None] = field(default_factory=lambda: {**_LAYERS, "embedding": None})
    layouts: tuple[CheckpointLayout, ...] = (PLAIN,)
    description: str = ""
    source: str = ""

    @property
    def input_size(self) -> tuple[int, int]:
        return tuple(self.preprocess.size)  # type: ignore[return-value]

    @property
    def tap_names(self) -> tuple[str, ...]:
        return tuple(self.taps)

    def to_dict(self) -> dict:
        """JSON-ready description (``mint-tui models list --json``)."""
        return {"name": self.name, "description": self.description, "source": self.source,
                "config": dict(self.default_config), "preprocess": self.preprocess.to_dict(),
                "taps": {k: (v or "model output") for k, v in self.taps.items()},
                "layouts": [lay.to_dict() for lay in self.layouts]}


_IRESNET_DEFAULTS = {"embedding_size": 512, "dropout": 0.0}
_IRESNET_LAYOUTS = (CheckpointLayout("arcface_torch backbone.pth", note="torch.save(backbone.state_dict(), F)"
                                     "; DataParallel 'module.' prefixes are stripped"), _RESUME)


def _iresnet(name: str, builder, depth: str, params: str) -> ArchSpec:
    return ArchSpec(name, builder, dict(_IRESNET_DEFAULTS), layouts=_IRESNET_LAYOUTS,
                    description=f"iResNet-{depth} (arcface_torch layout), ~{params} parameters",
                    source="insightface recognition/arcface_torch/backbones/iresnet.py")


def _adaface(name: str, builder, depth: int) -> ArchSpec:
    ends = stage_ends(depth)
    return ArchSpec(
        name, builder, {"embedding_size": 512},
        preprocess=Preprocess((112, 112), "BGR", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), "arcface112"),
        taps={"layer1": ends[0], "layer2": ends[1], "layer3": ends[2], "layer4": ends[3], "embedding": None},
        layouts=(CheckpointLayout("AdaFace Lightning .ckpt", wrapper=("state_dict",), prefix="model.",
                                  ignore=("head.",), note="weights under state_dict with a 'model.' prefix; "
                                                          "the AdaFace head is ignored"),
                 CheckpointLayout("AdaFace backbone state dict", note="the model.* keys, prefix removed")),
        description=f"AdaFace IR-{depth} (net.py, mode 'ir'); BGR input; forward returns (embedding, norm)",
        source="mk-minchul/AdaFace net.py")


ARCHITECTURES: dict[str, ArchSpec] = {
    "iresnet18": _iresnet("iresnet18", iresnet18, "18", "24M"),
    "iresnet34": _iresnet("iresnet34", iresnet34, "34", "34M"),
    "iresnet50": _iresnet("iresnet50", iresnet50, "50", "44M"),
    "iresnet100": _iresnet("iresnet100", iresnet100, "100", "65M"),
    "mobilefacenet": ArchSpec("mobilefacenet", mobilefacenet,
                              {"embedding_size": 512, "dropout": 0.0, "width": 1.0},
                              description="MobileFaceNet-style light model for CPU training, "
                                          "~0.9M parameters (mint-tui's own layout)",
                              source="mint-tui"),
    "mbf": ArchSpec("mbf", mbf, {"embedding_size": 512},
                    taps={"layer1": "layers.1", "layer2": "layers.3", "layer3": "layers.5", "layer4": "layers.7",
                          "embedding": None},
                    layouts=_IRESNET_LAYOUTS,
                    description="arcface_torch MobileFaceNet (get_mbf; insightface's w600k_mbf), ~2.0M parameters",
                    source="insightface recognition/arcface_torch/backbones/mobilefacenet.py"),
    "mbf_large": ArchSpec("mbf_large", mbf_large, {"embedding_size": 512},
                          taps={"layer1": "layers.1", "layer2": "layers.3", "layer3": "layers.5",
                                "layer4": "layers.7", "embedding": None},
                          layouts=_IRESNET_LAYOUTS,
                          description="arcface_torch MobileFaceNet large (get_mbf_large)",
                          source="insightface recognition/arcface_torch/backbones/mobilefacenet.py"),
    "adaface_ir50": _adaface("adaface_ir50", adaface_ir50, 50),
    "adaface_ir101": _adaface("adaface_ir101", adaface_ir101, 101),
    "inception_resnet_v1": ArchSpec(
        "inception_resnet_v1", inception_resnet_v1, {"dropout": 0.6},
        preprocess=Preprocess((160, 160), "RGB", (127.5 / 255,) * 3, (128 / 255,) * 3, "facenet160"),
        taps={"layer1": "repeat_1", "layer2": "repeat_2", "layer3": "repeat_3", "layer4": "block8",
              "embedding": None},
        layouts=(CheckpointLayout("facenet-pytorch state dict", ignore=("logits.",),
                                  note="InceptionResnetV1(...).state_dict() or its released .pt; the "
                                       "classifier logits.* is ignored"),),
        description="facenet-pytorch InceptionResnetV1 (VGGFace2 / CASIA-WebFace); 160x160, L2-normalised "
                    "embedding",
        source="timesler/facenet-pytorch models/inception_resnet_v1.py"),
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
    """Build a freshly initialised audited model (train mode, CPU, float32).

    The model's ``tap_modules`` attribute maps the registry's tap names to its submodules (see
    ``mint_tui.models.taps``)."""
    full = validate_config(arch, config)
    spec = ARCHITECTURES[arch]
    model = spec.builder(**full)
    model.tap_modules = {name: module for name, module in spec.taps.items() if module is not None}
    return model


def build_loaded(arch: str, config: Mapping[str, object], weights, device: str = "cpu") -> nn.Module:
    """An audited model ready to run (eval mode, no gradients, on ``device``): a registered ``arch``
    with its state dict, or ``"onnx"`` with the ONNX file's bytes (checked by ``check_onnx``)."""
    if arch == ONNX:
        from .onnx_model import OnnxAudited, check_onnx

        model = OnnxAudited(check_onnx(weights), config, device).eval()
        model.onnx_bytes = bytes(weights)
        return model
    from .checkpoint import load_state_dict_strict

    model = build_audited(arch, config)
    load_state_dict_strict(model, weights)
    model.eval().to(device)
    for p in model.parameters():
        p.requires_grad_(False)
    return model
