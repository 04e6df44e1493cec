"""Build the demo pairs shipped in assets/pairs from the fixed LFW splits, end to end.

    python scripts/build_demo.py [--lfw ../shared/data/lfw] [--work runs/demo] [--stage all|audited|mint]

Stage "audited": trains the demo audited model (MobileFaceNet, width 0.5, CosFace) on
fr_train.txt only, through the same MediaPipe alignment as audits; reports identification
accuracy on fr_heldout.txt. Stage "mint": trains the CNN and MLP MINT pairs with
`mint-tui train` on mint_train_* and evaluates them with `mint-tui eval` on mint_test_*.
Everything is seeded; the split files used are recorded in the bundles.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AUDITED_ARCH = "mobilefacenet"
AUDITED_CONFIG = {"embedding_size": 256, "width": 0.5}
PREPROCESS = {"size": [112, 112], "color": "RGB", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5],
              "template": "arcface112"}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def stage_audited(lfw: Path, work: Path, epochs: int, seed: int) -> None:
    import numpy as np
    import torch
    from safetensors.torch import save_file

    from mint_tui.faces import PrepareSettings
    from mint_tui.models.audited import build_audited
    from mint_tui.train.data import identity_of, load_faces, read_image_list
    from mint_tui.train.recognition import RecognitionConfig, identification_accuracy, train_recognition

    torch.set_num_threads(2)
    images = lfw / "images"
    settings = PrepareSettings(size=tuple(PREPROCESS["size"]), template=PREPROCESS["template"])
    t0 = time.perf_counter()
    train = load_faces(read_image_list(lfw / "splits" / "fr_train.txt", images), settings)
    held = load_faces(read_image_list(lfw / "splits" / "fr_heldout.txt", images), settings)
    log(f"faces: fr_train {len(train)} (no face {len(train.no_face)}), fr_heldout {len(held)} "
        f"(no face {len(held.no_face)}) in {time.perf_counter() - t0:.0f}s")
    classes = sorted({identity_of(p) for p in train.paths})
    index = {c: i for i, c in enumerate(classes)}
    y_train = np.array([index[identity_of(p)] for p in train.paths])
    y_held = np.array([index[identity_of(p)] for p in held.paths])
    torch.manual_seed(seed)
    model = build_audited(AUDITED_ARCH, AUDITED_CONFIG)
    cfg = RecognitionConfig(epochs=epochs, seed=seed)
    t1 = time.perf_counter()
    head = train_recognition(model, train.crops, y_train, len(classes), AUDITED_CONFIG["embedding_size"],
                             PREPROCESS, cfg, log=log)
    train_time = time.perf_counter() - t1
    acc_train = identification_accuracy(model, head, train.crops, y_train, PREPROCESS)
    acc_held = identification_accuracy(model, head, held.crops, y_held, PREPROCESS)
    log(f"identification top-1: fr_train {acc_train:.4f}, fr_heldout {acc_held:.4f}; trained in {train_time / 60:.1f} min")
    work.mkdir(parents=True, exist_ok=True)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, work / "audited.safetensors")
    save_file({"weight": head.weight.detach().contiguous()}, work / "audited_head.safetensors")
    (work / "audited.json").write_text(json.dumps({
        "arch": AUDITED_ARCH, "config": AUDITED_CONFIG, "preprocess": PREPROCESS, "classes": classes,
        "recognition": {"head": cfg.head, "scale": cfg.scale, "margin": cfg.margin, "epochs": cfg.epochs,
                        "batch_size": cfg.batch_size, "lr": cfg.lr, "seed": seed},
        "identification_top1": {"fr_train": acc_train, "fr_heldout": acc_held},
        "n": {"fr_train": len(train), "fr_heldout": len(held), "no_face_train": len(train.no_face),
              "no_face_heldout": len(held.no_face)},
        "train_minutes": train_time / 60,
    }, indent=2))
    log(f"wrote {work / 'audited.safetensors'}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lfw", type=Path, default=ROOT.parent / "shared" / "data" / "lfw")
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "demo")
    ap.add_argument("--stage", choices=("all", "audited", "mint"), default="all")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.stage in ("all", "audited"):
        stage_audited(args.lfw, args.work, args.epochs, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
