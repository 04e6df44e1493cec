"""MINT models: classifiers that read an audited model's activations and output one
logit, "was this sample used to train the audited model?" (DeAlcala et al., 2024,
arXiv:2402.09225).

Both models take the ``tap_shapes`` dict from :func:`mint_tui.models.taps.tap_shapes`
(tap name -> per-sample shape) and in ``forward`` a dict of batched tensors with the same
names (extra keys are ignored).  Taps are always consumed in the order of the
``tap_shapes`` dict given at construction (the order is kept in ``self.tap_names``);
store that dict with the weights to rebuild the model.  Inputs may be float16/bfloat16
(cast to float32) and may come from ``torch.inference_mode()`` (cloned when needed).

Shapes: a tap of shape ``(C,)`` is a vector (e.g. the embedding); a tap of shape
``(C, H, W)`` (or any ``(C, ...)``) is a feature map with ``C`` channels.

Submodule names (saved in the weights files):

* ``VanillaMINT``: ``input_norm`` (BatchNorm1d), ``mlp`` (Sequential of
  Linear/ReLU/Dropout), ``head`` (Linear -> 1).
* ``CNNMINT``: ``branches`` (ModuleList, one per tap in tap order), ``input_norm``
  (BatchNorm1d over the merged features), ``mlp``, ``head``.
* both: ``prototype_branches.<tap>.prototypes`` for vector taps (a buffer of member
  embeddings, see ``_PrototypeBranch``) when ``prototypes`` > 0 (a member bank: biometric
  data of the training set, declared in the pair's manifest; 0 by default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from mint_tui.models.shards import RowDropout, rand_rows

__all__ = [
    "VanillaMINT",
    "CNNMINT",
    "MINT_KINDS",
    "MintKind",
    "build_mint",
    "mint_config_defaults",
]


def _normalise_shapes(tap_shapes: Mapping[str, Sequence[int]]) -> dict[str, tuple[int, ...]]:
    if not tap_shapes:
        raise ValueError("tap_shapes is empty: a MINT model needs at least one tap")
    shapes = {}
    for name, shape in tap_shapes.items():
        shape = tuple(int(d) for d in shape)
        if not shape or any(d < 1 for d in shape):
            raise ValueError(f"tap {name!r}: invalid per-sample shape {list(shape)}")
        shapes[str(name)] = shape
    return shapes


def _check_sizes(name: str, values: Sequence[int], allow_empty: bool) -> tuple[int, ...]:
    values = tuple(values)
    if (not allow_empty and not values) or any(
            isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
        raise ValueError(f"{name} must be a list of positive integers, got {list(values)}")
    return values


def _check_dropout(dropout: float) -> float:
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
    return float(dropout)


def _check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return value


# VanillaMINT reads a map only through its per-channel means and its L2 norm, so a cache of pooled
# features keeps both: the means under the tap's name, shaped (N, C, 1, 1), and the norm of the whole
# map under the tap's name plus this suffix, shaped (N, 1). Tap names hold only letters, digits and "_".
NORM_SUFFIX = ".norm"


def pool_map(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """What :class:`VanillaMINT` reads of one tap's batch ``x``: {"": the per-channel means (a map's
    shape kept as (N, C, 1, 1); a vector as it is), NORM_SUFFIX: the L2 norm of each sample, (N, 1)}."""
    x = x.float()
    means = x.flatten(2).mean(dim=2)[:, :, None, None] if x.dim() > 2 else x
    return {"": means, NORM_SUFFIX: x.flatten(1).norm(dim=1, keepdim=True)}


def _split_norm(x: torch.Tensor, norm: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(x divided by its L2 norm, log of that norm as a (N, 1) column), the norm taken over all of a
    sample's values, or the ``norm`` given (that of the full map when ``x`` holds its pooled means).
    How strongly a tap responds is a membership signal of its own (the audited model was fitted to its
    members; the embedding norm alone is a training-free baseline), which per-channel normalisation
    downstream would wash out; the direction keeps the rest."""
    norm = (x.flatten(1).norm(dim=1) if norm is None else norm.reshape(-1).float()).clamp_min(1e-6)
    return x / norm.view(-1, *([1] * (x.dim() - 1))), norm.log().unsqueeze(1)


def _mlp(in_features: int, hidden: Sequence[int], dropout: float) -> tuple[nn.Sequential, int]:
    """Linear-ReLU-Dropout per entry of ``hidden``; returns the stack and its width."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(in_features, width), nn.ReLU(inplace=True), RowDropout(dropout)]
        in_features = width
    return nn.Sequential(*layers), in_features


def _as_normal(x: torch.Tensor) -> torch.Tensor:
    """Clone an inference-mode tensor so autograd may save it for backward.

    Activations extracted under ``torch.inference_mode()`` can not be saved for
    backward (BatchNorm and convolutions need their inputs), which would make training
    on them fail; a clone made outside inference mode is an ordinary tensor.
    """
    if x.is_inference() and not torch.is_inference_mode_enabled():
        return x.clone()
    return x


def _gather(tap_names: Sequence[str], feats: Mapping[str, torch.Tensor]) -> list[torch.Tensor]:
    missing = [t for t in tap_names if t not in feats]
    if missing:
        raise KeyError(f"missing tap(s) {', '.join(missing)}; got {', '.join(feats)}")
    return [feats[t] for t in tap_names]


class VanillaMINT(nn.Module):
    """MLP MINT on pooled activations.

    Each feature map is reduced to one number per channel by global average pooling,
    vectors are used as they are; everything is concatenated (in tap order), normalised
    by ``BatchNorm1d`` (activation scales differ a lot between layers) and fed to an MLP
    with ``hidden`` widths ending in one logit.

    ``norms``: each tap is divided by its L2 norm and the log of that norm joins the features
    (see ``_split_norm``; a pooled-features cache passes each map's norm beside its means, see
    :func:`pool_map`). ``prototypes`` > 0 adds a member bank (``_PrototypeBranch``): member
    embeddings stored in the weights, which a pair must declare.
    """

    def __init__(self, tap_shapes: Mapping[str, Sequence[int]], *, hidden: Sequence[int], dropout: float,
                 prototypes: int, norms: bool) -> None:
        super().__init__()
        self.tap_shapes = _normalise_shapes(tap_shapes)
        self.tap_names = tuple(self.tap_shapes)
        hidden = _check_sizes("hidden", hidden, allow_empty=True)
        dropout = _check_dropout(dropout)
        self.norms = _check_flag("norms", norms)
        self.prototype_branches = _prototype_branches(self.tap_shapes, prototypes)
        self.in_features = (sum(shape[0] for shape in self.tap_shapes.values())
                            + (len(self.tap_shapes) if self.norms else 0)
                            + sum(b.out_features for b in self.prototype_branches.values()))
        self.input_norm = nn.BatchNorm1d(self.in_features)
        self.mlp, width = _mlp(self.in_features, hidden, dropout)
        self.head = nn.Linear(width, 1)

    def forward(self, feats: Mapping[str, torch.Tensor]) -> torch.Tensor:
        parts = []
        for name, x in zip(self.tap_names, _gather(self.tap_names, feats)):
            if x.dim() != len(self.tap_shapes[name]) + 1:
                raise ValueError(f"tap {name!r}: expected a batch of shape "
                                 f"(N, {', '.join(map(str, self.tap_shapes[name]))}), "
                                 f"got {tuple(x.shape)}")
            if self.norms:
                x, log_norm = _split_norm(_as_normal(x).float(), feats.get(name + NORM_SUFFIX))
                parts.append(log_norm)
            parts.append(x.flatten(2).mean(dim=2) if x.dim() > 2 else x)
            if name in self.prototype_branches:
                parts.append(self.prototype_branches[name](x))
        z = torch.cat(parts, dim=1).float()
        z = self.input_norm(z)
        return self.head(self.mlp(z)).squeeze(1)

    def initialise_prototypes(self, members: Mapping[str, torch.Tensor], seed: int = 0) -> None:
        """Start the prototypes at member embeddings (training data, label 1)."""
        _initialise_prototypes(self, members, seed)


# Feature maps larger than this (on their longer side) are average-pooled down first.
MAX_MAP_SIZE = 28


class _MapBranch(nn.Module):
    """Feature map -> vector: average pooling down to at most ``MAX_MAP_SIZE`` pixels
    a side (a 56x56 map becomes 28x28; keeps the CPU cost low), BN, 1x1 conv-BN-ReLU to
    ``channels[0]``, then per entry of ``channels`` a 3x3 stride-2 conv-BN-ReLU, then
    global average pooling."""

    def __init__(self, in_channels: int, channels: Sequence[int],
                 map_size: Sequence[int] = (MAX_MAP_SIZE, MAX_MAP_SIZE), flip: bool = False) -> None:
        super().__init__()
        self.flip = flip
        factor = math.ceil(max(map_size) / MAX_MAP_SIZE)
        if factor > 1:
            self.pool = nn.AvgPool2d(factor, stride=factor, ceil_mode=True)
        else:
            self.pool = nn.Identity()
        self.input_norm = nn.BatchNorm2d(in_channels)
        self.reduce = nn.Sequential(
            nn.Conv2d(in_channels, channels[0], kernel_size=1, bias=False),
            nn.BatchNorm2d(channels[0]),
            nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        prev = channels[0]
        for width in channels:
            layers += [
                nn.Conv2d(prev, width, kernel_size=3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
            prev = width
        self.convs = nn.Sequential(*layers)
        self.out_features = prev

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.flip and self.training:  # mirror half of the maps at random (augmentation)
            mirror = rand_rows(len(x), 1, 1, 1, device=x.device) < 0.5
            x = torch.where(mirror, x.flip(-1), x)
        x = self.convs(self.reduce(self.input_norm(self.pool(x))))
        return x.mean(dim=(2, 3))


class _VectorBranch(nn.Module):
    """Vector -> vector: BN, Linear, ReLU."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.input_norm = nn.BatchNorm1d(in_features)
        self.fc = nn.Linear(in_features, out_features)
        self.act = nn.ReLU(inplace=True)
        self.out_features = out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.fc(self.input_norm(x)))


class _PrototypeBranch(nn.Module):
    """Vector (the embedding) -> its ``top`` largest cosine similarities to ``count`` member
    embeddings of the training data, in decreasing order: how close a face lies to faces the
    audited model was trained on (a nearest-neighbour feature).

    The prototypes are a fixed buffer, not learnt: :meth:`initialise` fills them with member
    embeddings of the MINT training data. While training, a sample's similarity to itself
    (cosine > ``1 - SELF_MATCH``) is left out, so a training member sees the features that an
    unseen photo would give (leave-one-out); at inference nothing is left out. The output does
    not depend on the order of the prototypes."""

    SELF_MATCH = 1e-4

    def __init__(self, in_features: int, count: int, top: int = 8) -> None:
        super().__init__()
        self.register_buffer("prototypes", torch.randn(count, in_features) / math.sqrt(in_features))
        self.top = min(top, count)
        self.out_features = self.top

    @torch.no_grad()
    def initialise(self, members: torch.Tensor, generator: torch.Generator | None = None) -> None:
        members = members.float().reshape(len(members), -1)
        if len(members) == 0:
            return
        idx = torch.randperm(len(members), generator=generator)
        idx = idx.repeat(math.ceil(len(self.prototypes) / len(members)))[: len(self.prototypes)]
        self.prototypes.copy_(nn.functional.normalize(members[idx], dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sims = nn.functional.normalize(x.float(), dim=1) @ nn.functional.normalize(self.prototypes, dim=1).T
        if self.training:
            sims = sims.masked_fill(sims > 1 - self.SELF_MATCH, -1.0)
        return sims.topk(self.top, dim=1).values


def _prototype_branches(tap_shapes: Mapping[str, tuple[int, ...]], count: int) -> nn.ModuleDict:
    if count < 0:
        raise ValueError("prototypes must be >= 0")
    return nn.ModuleDict({name: _PrototypeBranch(shape[0], count)
                          for name, shape in tap_shapes.items() if len(shape) == 1 and count > 0})


def _initialise_prototypes(module: nn.Module, members: Mapping[str, torch.Tensor], seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for name, branch in module.prototype_branches.items():
        if name in members:
            branch.initialise(members[name], g)


class CNNMINT(nn.Module):
    """Convolutional MINT on the activation maps.

    Every ``(C, H, W)`` tap goes through its own small CNN (see ``_MapBranch``: maps
    larger than 28x28 are average-pooled to at most 28x28, then a 1x1 conv to
    ``channels[0]``, then one 3x3 stride-2 conv-BN-ReLU per entry of
    ``channels``, global average pooling); every ``(C,)`` tap through BN-Linear-ReLU to
    ``channels[-1]`` features.  Branch outputs (and the prototype similarities) are
    concatenated in tap order, normalised by ``BatchNorm1d`` (``input_norm``) and fed to an
    MLP with ``hidden`` widths ending in one logit.

    ``flip``: while training, each map is mirrored left-right with probability 1/2 (data
    augmentation; face-recognition models are trained on mirrored faces too, and a small
    CNN over maps of a few thousand faces otherwise overfits their spatial layout).
    ``norms`` and ``prototypes``: as for :class:`VanillaMINT`.
    """

    def __init__(self, tap_shapes: Mapping[str, Sequence[int]], *, channels: Sequence[int],
                 hidden: Sequence[int], dropout: float, prototypes: int, flip: bool, norms: bool) -> None:
        super().__init__()
        self.tap_shapes = _normalise_shapes(tap_shapes)
        self.tap_names = tuple(self.tap_shapes)
        channels = _check_sizes("channels", channels, allow_empty=False)
        flip = _check_flag("flip", flip)
        self.norms = _check_flag("norms", norms)
        hidden = _check_sizes("hidden", hidden, allow_empty=True)
        dropout = _check_dropout(dropout)
        branches: list[nn.Module] = []
        for name, shape in self.tap_shapes.items():
            if len(shape) == 1:
                branches.append(_VectorBranch(shape[0], channels[-1]))
            elif len(shape) == 3:
                branches.append(_MapBranch(shape[0], channels, shape[1:], flip))
            else:
                raise ValueError(f"tap {name!r}: CNNMINT needs (C,) or (C, H, W) shapes, "
                                 f"got {list(shape)}")
        self.branches = nn.ModuleList(branches)
        self.prototype_branches = _prototype_branches(self.tap_shapes, prototypes)
        self.in_features = (sum(b.out_features for b in branches)
                            + (len(self.tap_shapes) if self.norms else 0)
                            + sum(b.out_features for b in self.prototype_branches.values()))
        self.input_norm = nn.BatchNorm1d(self.in_features)
        self.mlp, width = _mlp(self.in_features, hidden, dropout)
        self.head = nn.Linear(width, 1)

    def forward(self, feats: Mapping[str, torch.Tensor]) -> torch.Tensor:
        parts = []
        for name, branch, x in zip(self.tap_names, self.branches,
                                   _gather(self.tap_names, feats)):
            if x.dim() != len(self.tap_shapes[name]) + 1:
                raise ValueError(f"tap {name!r}: expected a batch of shape "
                                 f"(N, {', '.join(map(str, self.tap_shapes[name]))}), "
                                 f"got {tuple(x.shape)}")
            x = _as_normal(x).float()
            if self.norms:
                x, log_norm = _split_norm(x)
                parts.append(log_norm)
            parts.append(branch(x))
            if name in self.prototype_branches:
                parts.append(self.prototype_branches[name](x))
        z = self.input_norm(torch.cat(parts, dim=1))
        return self.head(self.mlp(z)).squeeze(1)

    def initialise_prototypes(self, members: Mapping[str, torch.Tensor], seed: int = 0) -> None:
        """Start the prototypes at member embeddings (training data, label 1)."""
        _initialise_prototypes(self, members, seed)


@dataclass(frozen=True)
class MintKind:
    """One MINT kind: its model class and the default of every config key (the only place the
    defaults live; the classes take every option as a required keyword). ``default_config`` is
    JSON/TOML-friendly (lists, not tuples); do not mutate it, :func:`mint_config_defaults` copies."""

    name: str
    builder: Callable[..., nn.Module]
    default_config: Mapping[str, object]
    description: str = ""
    #: Values of keys added after bundles were first written: what a recorded config that lacks
    #: the key meant (the behaviour before the key existed).
    before: Mapping[str, object] = field(default_factory=dict)


#: Chosen on the calibration split of the demo protocol's MINT training data (docs/RESULTS.md).
MINT_KINDS: dict[str, MintKind] = {
    "mlp": MintKind("mlp", VanillaMINT, {"hidden": [256, 64], "dropout": 0.5, "prototypes": 0, "norms": True},
                    "Vanilla MINT: an MLP over channel-pooled activations", {"norms": False}),
    "cnn": MintKind("cnn", CNNMINT, {"channels": [4, 8], "hidden": [128], "dropout": 0.5, "prototypes": 0,
                                     "flip": True, "norms": True},
                    "CNN MINT: a small CNN per activation map, merged by an MLP", {"norms": False}),
}


def mint_config_defaults(kind: str) -> dict:
    """Default config of a MINT kind (a fresh copy, JSON/TOML-serialisable)."""
    if kind not in MINT_KINDS:
        raise ValueError(f"unknown MINT kind {kind!r}; known: {', '.join(MINT_KINDS)}")
    return {k: list(v) if isinstance(v, list) else v for k, v in MINT_KINDS[kind].default_config.items()}


def build_mint(kind: str, tap_shapes: Mapping[str, Sequence[int]],
               config: Mapping[str, object] | None = None, recorded: bool = False) -> nn.Module:
    """Build a MINT model of ``kind`` ("mlp" or "cnn") for ``tap_shapes``.

    ``config`` overrides :func:`mint_config_defaults`; unknown keys raise ``ValueError``.
    ``recorded``: the config comes from a bundle, so a key it lacks predates it and takes its
    earlier meaning (``MintKind.before``), not today's default.
    """
    defaults = mint_config_defaults(kind)
    if recorded:
        defaults.update(MINT_KINDS[kind].before)
    config = dict(config or {})
    unknown = sorted(set(config) - set(defaults))
    if unknown:
        raise ValueError(f"MINT kind {kind!r}: unknown config key(s) "
                         f"{', '.join(map(repr, unknown))}; accepted: {', '.join(defaults)}")
    full = {**defaults, **config}
    count = full.get("prototypes", 0)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"prototypes must be a non-negative integer, got {count!r}")
    for key in ("hidden", "channels"):
        if key in full:
            value = full[key]
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                raise ValueError(f"{key} must be a list of positive integers, got {value!r}")
            full[key] = tuple(value)
    return MINT_KINDS[kind].builder(tap_shapes, **full)
