"""Audited-model activations (AAD) of many crops: cached on disk, or computed on the fly.

Three ways to feed a MINT model while it trains (:func:`choose_mode` picks one, and says why):

* ``maps``: feature maps cached as float16 ``.npy`` files in the user cache folder and read back
  memory-mapped, so training streams batches from disk instead of holding them in memory (CNN
  MINT on the CPU, where reading a face's maps is far cheaper than the audited model's forward pass);
* ``pooled``: per-channel means of each map cached as float32 (MLP MINT reads nothing else; a few
  KB per face instead of hundreds). Map taps keep their rank as ``(N, C, 1, 1)``, which MLP MINT
  pools to exactly these means;
* ``live``: nothing cached; the audited model runs on every batch of every epoch (CNN MINT on a
  GPU, where the forward pass is cheaper than reading the maps from disk).

A cache key is the audited model's weights hash, the form, the preprocessing and the ordered
content hashes of the crops. Each entry has a ``<key>.json`` record (model, taps, faces, form) for
``mint-tui cache info``; a hit renews its time for the cache's least-recently-used budget.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from mint_tui import cache as disk_cache
from mint_tui.faces import to_tensor_batch
from mint_tui.models.mint import NORM_SUFFIX, pool_map
from mint_tui.models.taps import TapExtractor

MODES = ("maps", "pooled", "live")


def state_digest(state: dict[str, torch.Tensor] | bytes) -> str:
    """A content hash of a state dict (names, shapes and values), or of an ONNX file's bytes."""
    if isinstance(state, bytes):
        return hashlib.sha256(state).hexdigest()
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def choose_mode(kind: str, device: str, requested: str = "auto") -> tuple[str, str]:
    """(mode, why) for MINT ``kind`` trained on ``device``; ``requested`` is auto, cache or live."""
    if requested not in ("auto", "cache", "live"):
        raise ValueError(f"activations must be auto, cache or live, not {requested!r}")
    if requested == "live":
        return "live", "computed on the fly each epoch (asked for)"
    if kind == "mlp":
        return "pooled", "pooled features cached on disk (MLP MINT reads only per-channel means and map norms)"
    if requested == "cache":
        return "maps", "feature maps cached on disk (asked for)"
    if str(device).startswith("cuda"):
        return "live", ("computed on the fly each epoch (auto on CUDA: the forward pass is cheaper than reading "
                        "the maps from disk; --activations cache to cache them)")
    return "maps", ("feature maps cached on disk (auto on the CPU: reading a face's maps costs far less than the "
                    "audited model's forward pass, see bench/scale_bench.py; --activations live to recompute)")


class CachedActivations:
    """Activation arrays (memory-mapped), batched as float32 tensors."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays

    def __len__(self) -> int:
        return len(next(iter(self.arrays.values())))

    def batch(self, idx: np.ndarray, taps=None) -> dict[str, torch.Tensor]:
        idx = np.sort(np.asarray(idx))
        return {t: torch.from_numpy(np.asarray(a[idx], dtype=np.float32))
                for t, a in self.arrays.items() if taps is None or t.removesuffix(NORM_SUFFIX) in taps}


class LiveActivations:
    """Activations computed from the crops for every batch asked for (nothing stored)."""

    def __init__(self, model: torch.nn.Module, crops, taps: list[str], preprocess: dict,
                 device: str = "cpu") -> None:
        self.model, self.crops, self.taps, self.device = model, crops, list(taps), torch.device(device)
        self.color, self.mean, self.std = preprocess["color"], tuple(preprocess["mean"]), tuple(preprocess["std"])

    def __len__(self) -> int:
        return len(self.crops)

    @torch.no_grad()
    def batch(self, idx: np.ndarray, taps=None) -> dict[str, torch.Tensor]:
        idx = np.sort(np.asarray(idx))
        taps = [t for t in self.taps if taps is None or t in taps]
        self.model.eval()
        x = to_tensor_batch(list(self.crops[idx]), self.color, self.mean, self.std).to(self.device)
        with TapExtractor(self.model, taps) as extract:
            feats = extract(x)
        return {t: feats[t].float() for t in taps}


def activation_source(mode: str, model: torch.nn.Module, model_digest: str, crops, shas: list[str],
                      taps: list[str], preprocess: dict, device: str = "cpu", label: str = "",
                      cache_root: Path | None = None, progress=None):
    """The training input for ``mode`` (see :func:`choose_mode`)."""
    if mode == "live":
        return LiveActivations(model, crops, taps, preprocess, device)
    return CachedActivations(extract_activations(model, model_digest, crops, shas, taps, preprocess,
                                                 cache_root=cache_root, progress=progress, form=mode, label=label,
                                                 device=device))


def extract_activations(model: torch.nn.Module, model_digest: str, crops, shas: list[str],
                        taps: list[str], preprocess: dict, batch_size: int = 64,
                        cache_root: Path | None = None, progress=None, form: str = "maps",
                        label: str = "", device: str = "cpu") -> dict[str, np.ndarray]:
    """{tap: array (N, *shape)}, memory-mapped from the cache (computed on a miss).

    ``form`` "maps": float16 activations as the model gives them; "pooled": float32, what MLP MINT
    reads of each map (:func:`mint_tui.models.mint.pool_map`): its per-channel means, shaped
    (N, C, 1, 1), and under ``tap + NORM_SUFFIX`` its L2 norm, (N, 1)."""
    if form not in ("maps", "pooled"):
        raise ValueError(f"form must be maps or pooled, not {form!r}")
    root = Path(cache_root or disk_cache.cache_root()) / "activations"
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:  # e.g. MINT_TUI_HOME names a file, a read-only disk: the memory maps go elsewhere
        fallback = Path(tempfile.gettempdir()) / f"mint-tui-activations-{os.getuid() if hasattr(os, 'getuid') else 0}"
        logging.getLogger("mint_tui").warning("warning: the activation cache %s cannot be written (%s); using %s "
                                              "for this run", root, exc.strerror or exc, fallback)
        root = fallback
        root.mkdir(parents=True, exist_ok=True)
    key_doc = {"model": model_digest, "pre": preprocess, "shas": shas}
    if form != "maps":  # the maps' key is unchanged, so caches made before forms existed stay valid
        key_doc["form"] = form
    key = hashlib.sha256(json.dumps(key_doc, sort_keys=True).encode()).hexdigest()[:32]
    names = {t: [t, t + NORM_SUFFIX] if form == "pooled" else [t] for t in taps}  # arrays of each tap
    paths = {n: root / f"{key}-{n}.npy" for t in taps for n in names[t]}
    missing = [t for t in taps if not all(paths[n].exists() for n in names[t])]
    if missing:
        _compute(model, crops, missing, preprocess, batch_size, paths, progress, form, device)
    meta = root / f"{key}.json"
    record = {"model": label, "model_digest": model_digest, "form": form, "faces": len(shas),
              "taps": sorted(set(taps) | set(disk_cache.read_activation_meta(meta).get("taps") or ()))}
    if missing or not meta.exists():
        record["created"] = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        meta.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    for p in (meta, *paths.values()):
        disk_cache.touch(p)
    disk_cache.enforce_limit(root=cache_root)
    return {n: np.load(p, mmap_mode="r") for n, p in paths.items()}


@torch.inference_mode()
def _compute(model, crops, taps, preprocess, batch_size, paths, progress, form="maps", device="cpu") -> None:
    model.eval()
    color, mean, std = preprocess["color"], tuple(preprocess["mean"]), tuple(preprocess["std"])
    n = len(crops)
    maps: dict[str, np.ndarray] = {}
    tmp = {n: p.with_name(p.name + ".tmp") for n, p in paths.items() if n.removesuffix(NORM_SUFFIX) in taps}
    with TapExtractor(model, taps) as extract:
        for i in range(0, n, batch_size):
            x = to_tensor_batch(list(crops[i:i + batch_size]), color, mean, std).to(device)
            feats = extract(x)
            for t in taps:
                if form == "pooled":
                    out = {t + suffix: f.cpu().numpy() for suffix, f in pool_map(feats[t]).items()}
                else:
                    out = {t: feats[t].float().cpu().numpy().astype(np.float16)}
                for name, f in out.items():
                    if name not in maps:
                        maps[name] = np.lib.format.open_memmap(tmp[name], mode="w+", dtype=f.dtype,
                                                               shape=(n, *f.shape[1:]))
                    maps[name][i:i + len(f)] = f
            if progress is not None:
                progress(min(i + batch_size, n), n)
    for name in tmp:
        if name in maps:
            maps[name].flush()
            del maps[name]
        tmp[name].replace(paths[name])
