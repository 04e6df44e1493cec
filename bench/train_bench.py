"""Benchmark of pair building: preprocessing rate, MINT epoch time, demo build time, peak memory.

    .venv/bin/python bench/train_bench.py [--lfw ../shared/data/lfw] [--images 300]

Prints:
- crops/s of preprocessing (read + decode + MediaPipe detection + alignment, no cache), 2 threads;
- MINT training time per epoch (CNN and MLP, all taps, on the demo audited model's cached
  activations of mint_train_members + mint_train_external), when runs/demo/audited.safetensors exists;
- total wall time and peak memory of the demo build, read from runs/demo/timing-*.json written by
  scripts/build_demo.py (those figures come from the build itself, not from this script);
- this script's own peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lfw", type=Path, default=ROOT.parent / "shared" / "data" / "lfw")
    ap.add_argument("--images", type=int, default=300, help="images for the preprocessing rate")
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "demo")
    args = ap.parse_args()

    import numpy as np
    import torch

    from mint_tui.faces import CropCache, PrepareSettings, prepare_images
    from mint_tui.train.data import read_image_list

    images = args.lfw / "images"
    paths = read_image_list(args.lfw / "splits" / "external.txt", images)[: args.images]
    with tempfile.TemporaryDirectory() as tmp:
        settings = PrepareSettings()
        t0 = time.perf_counter()
        n = sum(1 for item in prepare_images(paths, settings, workers=2, cache=CropCache(Path(tmp), settings))
                if item.faces)
        dt = time.perf_counter() - t0
    print(f"preprocessing: {len(paths)} images ({n} faces) in {dt:.1f} s = {len(paths) / dt:.1f} crops/s "
          f"(2 threads, no cache)")

    weights = args.work / "audited.safetensors"
    if weights.exists():
        from safetensors.torch import load_file

        from mint_tui.models.audited import build_audited
        from mint_tui.models.taps import tap_shapes
        from mint_tui.train.activations import extract_activations, state_digest
        from mint_tui.train.data import load_faces
        from mint_tui.train.fit import MintFitConfig, fit_mint

        info = json.loads((args.work / "audited.json").read_text())
        state = load_file(weights)
        model = build_audited(info["arch"], info["config"])
        model.load_state_dict(state)
        model.eval()
        mem = load_faces(read_image_list(args.lfw / "splits" / "mint_train_members.txt", images), PrepareSettings())
        ext = load_faces(read_image_list(args.lfw / "splits" / "mint_train_external.txt", images), PrepareSettings())
        taps = ["layer1", "layer2", "layer3", "layer4", "embedding"]
        crops = np.concatenate([mem.crops, ext.crops])
        t0 = time.perf_counter()
        acts = extract_activations(model, state_digest(state), crops, mem.shas + ext.shas, taps, info["preprocess"])
        print(f"activations of {len(crops)} faces: {time.perf_counter() - t0:.1f} s (0 when cached)")
        labels = np.r_[np.ones(len(mem)), np.zeros(len(ext))].astype(np.float32)
        shapes = tap_shapes(model, taps)
        idx = np.random.default_rng(0).permutation(len(crops))
        train, val = idx[: int(0.65 * len(idx))], idx[int(0.65 * len(idx)): int(0.8 * len(idx))]
        for kind in ("cnn", "mlp"):
            t0 = time.perf_counter()
            fit_mint(acts, shapes, labels, train, val, MintFitConfig(kind=kind, taps=tuple(taps), epochs=1),
                     log=lambda m: None)
            print(f"MINT {kind}: one epoch over {len(train)} training faces (+ validation) in "
                  f"{time.perf_counter() - t0:.1f} s")
    else:
        print(f"MINT epoch time: skipped ({weights} not found; run scripts/build_demo.py first)")
    for timing in sorted(args.work.glob("timing-*.json")):
        t = json.loads(timing.read_text())
        print(f"demo build, stage {t['stage']}: {t['wall_minutes']:.1f} min wall, peak RSS {t['peak_rss_mib']:.0f} MiB "
              f"(finished {t['finished']}, from {timing.name})")
    print(f"this script's peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
          f"(torch threads: {torch.get_num_threads()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
