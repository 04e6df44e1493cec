"""Audited-model activations (AAD) of many crops, cached on disk as float16 memory maps.

Activation maps of shallow layers are large (tens of KB per image and tap), so they are written
to ``.npy`` files in the user cache directory and read back memory-mapped: training streams
batches from disk instead of holding everything in memory. The cache key is the audited
model's weights hash, the tap, the preprocessing and the ordered content hashes of the crops.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from mint_tui.faces import to_tensor_batch
from mint_tui.models.taps import TapExtractor
from mint_tui.paths import user_cache_dir


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


def extract_activations(model: torch.nn.Module, model_digest: str, crops: np.ndarray, shas: list[str],
                        taps: list[str], preprocess: dict, batch_size: int = 64,
                        cache_root: Path | None = None, progress=None) -> dict[str, np.ndarray]:
    """{tap: array (N, *shape) float16}, memory-mapped from the cache (computed on a miss)."""
    root = Path(cache_root or user_cache_dir() / "activations")
    root.mkdir(parents=True, exist_ok=True)
    key_src = json.dumps({"model": model_digest, "pre": preprocess, "shas": shas}, sort_keys=True)
    key = hashlib.sha256(key_src.encode()).hexdigest()[:32]
    paths = {t: root / f"{key}-{t}.npy" for t in taps}
    missing = [t for t in taps if not paths[t].exists()]
    if missing:
        _compute(model, crops, missing, preprocess, batch_size, paths, progress)
    return {t: np.load(paths[t], mmap_mode="r") for t in taps}


@torch.inference_mode()
def _compute(model, crops, taps, preprocess, batch_size, paths, progress) -> None:
    model.eval()
    color, mean, std = preprocess["color"], tuple(preprocess["mean"]), tuple(preprocess["std"])
    n = len(crops)
    maps: dict[str, np.ndarray] = {}
    tmp = {t: paths[t].with_name(paths[t].name + ".tmp") for t in taps}
    with TapExtractor(model, taps) as extract:
        for i in range(0, n, batch_size):
            x = to_tensor_batch(list(crops[i:i + batch_size]), color, mean, std)
            feats = extract(x)
            for t in taps:
                f = feats[t].float().cpu().numpy().astype(np.float16)
                if t not in maps:
                    maps[t] = np.lib.format.open_memmap(tmp[t], mode="w+", dtype=np.float16, shape=(n, *f.shape[1:]))
                maps[t][i:i + len(f)] = f
            if progress is not None:
                progress(min(i + batch_size, n), n)
    for t in taps:
        if t in maps:
            maps[t].flush()
            del maps[t]
        tmp[t].replace(paths[t])
