"""A loaded pair: the audited model and its MINT classifier, verified and ready to score."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from mint_tui.pairs.bundle import verify_bundle
from mint_tui.pairs.manifest import ONNX_ARCH, Manifest
from mint_tui.pairs.verify import BundleError

__all__ = ["LoadedPair", "load_pair"]


@dataclass(eq=False)
class LoadedPair:
    """An audited model and its MINT classifier, ready to score face crops."""

    manifest: Manifest
    audited: torch.nn.Module
    mint: torch.nn.Module
    taps: tuple[str, ...]
    device: torch.device
    bundle_sha256: str
    #: The calibration scores stored in the bundle (see CALIBRATION_SCORE_KEYS), if any.
    calibration_scores: dict[str, np.ndarray] | None = None
    _extractor: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        from mint_tui.models.taps import TapExtractor

        wanted = self.taps if "embedding" in self.taps else (*self.taps, "embedding")
        self._extractor = TapExtractor(self.audited, list(wanted))

    @property
    def name(self) -> str:
        return self.manifest.pair.name

    def _check_batch(self, batch: torch.Tensor) -> torch.Tensor:
        if not isinstance(batch, torch.Tensor):
            raise TypeError(f"expected a torch.Tensor batch, got {type(batch).__name__}")
        size = tuple(self.manifest.audited.preprocess.size)
        if batch.dim() != 4 or batch.shape[1] != 3 or tuple(batch.shape[2:]) != size:
            raise ValueError(f"expected a batch of shape [N, 3, {size[0]}, {size[1]}], got {list(batch.shape)}")
        return batch.to(self.device, dtype=torch.float32)

    def score_with_embeddings(self, batch: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Membership probabilities [N] and audited-model embeddings [N, D]."""
        x = self._check_batch(batch)
        with torch.inference_mode():
            feats = self._extractor(x)
            probs = torch.sigmoid(self.mint({t: feats[t] for t in self.taps}).float()).reshape(-1)
            if self.manifest.mint.mirror:  # the pair was calibrated on this mean (manifest [mint] mirror)
                mirrored = self._extractor(x.flip(-1))
                probs = (probs + torch.sigmoid(self.mint({t: mirrored[t] for t in self.taps}).float()).reshape(-1)) / 2
            emb = feats["embedding"].float().reshape(x.shape[0], -1)
        return probs.cpu().numpy(), emb.cpu().numpy()

    def score(self, batch: torch.Tensor) -> np.ndarray:
        """Membership probabilities [N] for a normalised batch [N, 3, H, W]."""
        return self.score_with_embeddings(batch)[0]


def _load_onnx(path, data: bytes, m: Manifest, device: str) -> torch.nn.Module:
    """The verified ONNX graph as an audited model whose taps have the shapes the manifest declares."""
    from mint_tui.models.audited import build_loaded
    from mint_tui.models.audited.onnx_model import OnnxError
    from mint_tui.models.taps import tap_shapes

    try:
        audited = build_loaded(ONNX_ARCH, dict(m.audited.config), data, device)
        found = tap_shapes(audited, [*m.audited.config["taps"], "embedding"], tuple(m.audited.preprocess.size))
    except (OnnxError, RuntimeError, TypeError) as exc:
        raise BundleError(f"{path}: the ONNX model does not run: {exc}") from None
    declared = {k: tuple(v) for k, v in m.audited.config["shapes"].items()}
    if found != declared:
        raise BundleError(f"{path}: the ONNX model's taps have shapes {found}, the manifest declares {declared}")
    return audited


def load_pair(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> LoadedPair:
    """Verify a bundle and load both models (eval mode, on ``device``)."""
    from safetensors.torch import load as st_load

    from mint_tui.models.audited import CheckpointMismatchError, build_audited, load_state_dict_strict
    from mint_tui.models.mint import build_mint

    v = verify_bundle(path, full=True, keep_weights=True)
    m = v.manifest
    try:
        if m.audited.arch == ONNX_ARCH:
            audited = _load_onnx(path, v.weights.pop("audited"), m, str(device))
        else:
            audited = build_audited(m.audited.arch, dict(m.audited.config))
            load_state_dict_strict(audited, st_load(v.weights.pop("audited")))
        mint = build_mint(m.mint.kind, dict(v.tap_shapes), dict(m.mint.config), recorded=True)
        load_state_dict_strict(mint, st_load(v.weights.pop("mint")))
    except CheckpointMismatchError as exc:
        raise BundleError(f"{path}: weights do not fit the declared models: {exc}") from None
    scores = None
    if "calibration" in v.weights:
        scores = {k: t.numpy() for k, t in st_load(v.weights.pop("calibration")).items()}
    dev = torch.device(device)
    audited.eval().to(dev)
    mint.eval().to(dev)
    for p in (*audited.parameters(), *mint.parameters()):
        p.requires_grad_(False)
    return LoadedPair(
        manifest=m,
        audited=audited,
        mint=mint,
        taps=tuple(m.mint.taps),
        device=dev,
        bundle_sha256=v.bundle_sha256,
        calibration_scores=scores,
    )
