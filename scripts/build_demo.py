"""Build the demo pairs shipped in assets/pairs from the fixed LFW splits, end to end.

    python scripts/build_demo.py [--lfw ../shared/data/lfw] [--work runs/demo] [--stage all|audited|mint]

Stages run in order (`--stage all`, the default); each can be run alone.
Stage "audited": trains the demo audited model (MobileFaceNet, width 0.5, CosFace) on
fr_train.txt only, through the same MediaPipe alignment as audits; reports identification
accuracy on fr_heldout.txt. Stage "mint": trains the CNN and MLP MINT pairs with
`mint-tui train` on mint_train_* and evaluates them with `mint-tui eval` on mint_test_* (and on fr_heldout, the same people's
unseen photos, as the harder case). Stage "install" copies the two bundles to assets/pairs/.
Stage "layers": the per-layer table (each tap alone, then all, for both MINT kinds).
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


DESCRIPTION = (
    "Demo pair: a small face-recognition model (MobileFaceNet, width 0.5, CosFace) trained by mint-tui on "
    "3,517 LFW photos of 158 public figures (fr_train.txt), and a {kind} MINT model that reads its "
    "activations. Members are those training photos; photos of anyone else should come out non-member."
)
NOTES = (
    "Honest limits: the audited model is small and was trained on 158 identities only, so this pair "
    "demonstrates the method; it says nothing about any other model. MINT here largely learns whether a "
    "face belongs to one of the 158 training identities: unseen photos of those same people "
    "(fr_heldout.txt) also score high, so a 'member' verdict means 'this photo or this person was likely "
    "in the training data'. Scores are calibrated on LFW news photos; other kinds of photos may shift them.\n"
    "Data: Labeled Faces in the Wild (LFW), Huang, Ramesh, Berg and Learned-Miller, University of "
    "Massachusetts Amherst, 2007; research use. Audited model identification top-1 on fr_heldout.txt: {acc}."
)


def run_cli(argv: list[str]) -> None:
    from mint_tui.cli import main as cli_main

    log("mint-tui " + " ".join(argv))
    rc = cli_main(argv)
    if rc != 0:
        raise SystemExit(f"command failed ({rc}): mint-tui {' '.join(argv)}")


def stage_mint(lfw: Path, work: Path, seed: int, kinds=("cnn", "mlp")) -> None:
    """The shipped pairs: CNN and MLP MINT over all taps, trained on mint_train_*, tested on mint_test_*."""
    info = json.loads((work / "audited.json").read_text())
    splits, images = lfw / "splits", lfw / "images"
    acc = f"{info['identification_top1']['fr_heldout']:.3f}"
    common = ["--arch", AUDITED_ARCH, "--arch-config", json.dumps(AUDITED_CONFIG),
              "--weights", str(work / "audited.safetensors"),
              "--members", str(splits / "mint_train_members.txt"), "--external", str(splits / "mint_train_external.txt"),
              "--root", str(images), "--seed", str(seed),
              "--eval-members", str(splits / "mint_test_members.txt"),
              "--eval-external", str(splits / "mint_test_external.txt"),
              "--training-data", "LFW fr_train.txt: 3,517 photos of 158 identities (members)",
              "--license", "research use (LFW images); model weights CC BY 4.0 by the mint-tui authors",
              "--notes", NOTES.format(acc=acc)]
    for kind in kinds:
        bundle = work / f"demo-lfw-{kind}.mintpair"
        run_cli(["train", *common, "--kind", kind, "--name", f"demo-lfw-{kind}",
                 "--title", f"Demo: LFW MobileFaceNet + {kind.upper()} MINT",
                 "--description", DESCRIPTION.format(kind=kind.upper()),
                 "--out", str(bundle), "--report", str(work / f"train-{kind}.json")])
        for name, members, external in (("test", "mint_test_members", "mint_test_external"),
                                         ("heldout", "mint_test_members", "fr_heldout")):
            run_cli(["eval", "--pair", str(bundle), "--members", str(splits / f"{members}.txt"),
                     "--external", str(splits / f"{external}.txt"), "--root", str(images),
                     "--reference-members", str(splits / "mint_train_members.txt"),
                     "--json", str(work / f"eval-{kind}-{name}.json"),
                     "--plot", str(work / f"eval-{kind}-{name}.png"), "--device", "cpu"])


def stage_layers(lfw: Path, work: Path, seed: int, epochs: int = 20) -> None:
    """The per-layer table: each tap alone, then all of them, for both MINT kinds (test splits)."""
    from mint_tui.cli import main as cli_main  # noqa: F401  (same code path as the CLI)

    splits, images = lfw / "splits", lfw / "images"
    rows = []
    out = work / "layers.json"
    done = {(r["kind"], r["taps"]) for r in json.loads(out.read_text())} if out.exists() else set()
    rows = json.loads(out.read_text()) if out.exists() else []
    for kind in ("mlp", "cnn"):
        for taps in ("layer1", "layer2", "layer3", "layer4", "embedding", "layer1,layer2,layer3,layer4,embedding"):
            if (kind, taps) in done:
                continue
            bundle = work / "layers" / f"{kind}-{taps.replace(',', '+')}.mintpair"
            report = bundle.with_suffix(".json")
            run_cli(["train", "--arch", AUDITED_ARCH, "--arch-config", json.dumps(AUDITED_CONFIG),
                     "--weights", str(work / "audited.safetensors"),
                     "--members", str(splits / "mint_train_members.txt"),
                     "--external", str(splits / "mint_train_external.txt"), "--root", str(images),
                     "--eval-members", str(splits / "mint_test_members.txt"),
                     "--eval-external", str(splits / "mint_test_external.txt"),
                     "--kind", kind, "--taps", taps, "--epochs", str(epochs), "--seed", str(seed),
                     "--name", f"layers-{kind}", "--out", str(bundle), "--report", str(report)])
            ev = json.loads(report.read_text())["evaluation"]["metrics"]["mint"]
            rows.append({"kind": kind, "taps": taps, **{k: ev[k] for k in
                                                         ("accuracy", "balanced_accuracy", "roc_auc", "tpr@1%fpr")}})
            out.write_text(json.dumps(rows, indent=2))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lfw", type=Path, default=ROOT.parent / "shared" / "data" / "lfw")
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "demo")
    ap.add_argument("--stage", choices=("all", "audited", "mint", "layers", "install"), default="all")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.stage in ("all", "audited"):
        stage_audited(args.lfw, args.work, args.epochs, args.seed)
    if args.stage in ("all", "mint"):
        stage_mint(args.lfw, args.work, args.seed)
    if args.stage in ("all", "install"):
        dest = ROOT / "assets" / "pairs"
        dest.mkdir(parents=True, exist_ok=True)
        for kind in ("cnn", "mlp"):
            src = args.work / f"demo-lfw-{kind}.mintpair"
            (dest / src.name).write_bytes(src.read_bytes())
            log(f"shipped {dest / src.name}")
    if args.stage in ("all", "layers"):
        stage_layers(args.lfw, args.work, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
