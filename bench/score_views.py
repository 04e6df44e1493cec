"""ROC AUC of a pair when each face is scored over several views of its crop (test-time averaging).

    .venv/bin/python bench/score_views.py [--lfw ../shared/data/lfw] [--split calibration|test]
        [--pairs demo-lfw-cnn,demo-lfw-mlp] [--json FILE]

Views: ``plain`` (the crop), ``mirror`` (the mean over the crop and its mirror image), ``shift5``
(the crop and four copies moved by 2 px, edges repeated), ``mirror+shift5`` (those five and their
mirror images). Each pair's MINT model scores every view as it is, crop alone (the mean is taken
here), so a pair built with the mirror average is read plainly too.

``--split calibration`` (the default, and what chose the mirror average): the calibration part of
mint_train_members / mint_train_external, split exactly as ``mint-tui train`` splits it (seed 0);
``--split test``: mint_test_members vs mint_test_external.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def shifted(x, dx: int, dy: int, pad: int = 2):
    import torch.nn.functional as F

    h, w = x.shape[-2:]
    y = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    return y[..., pad + dy:pad + dy + h, pad + dx:pad + dx + w]


SHIFTS = [(0, 0), (2, 0), (-2, 0), (0, 2), (0, -2)]
VIEWS = {"plain": [(False, 0, 0)], "mirror": [(False, 0, 0), (True, 0, 0)],
         "shift5": [(False, dx, dy) for dx, dy in SHIFTS],
         "mirror+shift5": [(f, dx, dy) for f in (False, True) for dx, dy in SHIFTS]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lfw", type=Path, default=ROOT.parent / "shared" / "data" / "lfw")
    ap.add_argument("--split", choices=("calibration", "test"), default="calibration")
    ap.add_argument("--pairs", default="demo-lfw-cnn,demo-lfw-mlp")
    ap.add_argument("--json", type=Path, help="also write the table here (scripts/demo_results.py reads it)")
    args = ap.parse_args()
    rows = []

    from mint_tui.faces import PrepareSettings
    from mint_tui.faces.extract import to_tensor_batch
    from mint_tui.metrics import roc_auc
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.paths import assets_dir
    from mint_tui.train.build import split_parts
    from mint_tui.train.data import load_faces, read_image_list
    from mint_tui.train.fit import MintFitConfig

    splits, images = args.lfw / "splits", args.lfw / "images"
    fit = MintFitConfig()
    print(f"{'pair':<16} {'members':>8} {'external':>9} " + " ".join(f"{v:>14}" for v in VIEWS))
    for name in args.pairs.split(","):
        pair = load_pair(assets_dir() / "pairs" / f"{name}.mintpair")
        pair.manifest = dataclasses.replace(  # every view is scored alone; the means are taken below
            pair.manifest, mint=dataclasses.replace(pair.manifest.mint, mirror=False))
        pre = pair.manifest.audited.preprocess
        settings = PrepareSettings("largest", "short", tuple(pre.size), pre.template)
        if args.split == "calibration":
            mem = load_faces(read_image_list(splits / "mint_train_members.txt", images), settings, 2)
            ext = load_faces(read_image_list(splits / "mint_train_external.txt", images), settings, 2)
            (_, _, m_idx), (_, _, e_idx) = split_parts(len(mem), ext.paths, fit)
            m_idx, e_idx = np.sort(m_idx), np.sort(e_idx)
        else:
            mem = load_faces(read_image_list(splits / "mint_test_members.txt", images), settings, 2)
            ext = load_faces(read_image_list(splits / "mint_test_external.txt", images), settings, 2)
            m_idx, e_idx = np.arange(len(mem)), np.arange(len(ext))
        crops = list(mem.crops[m_idx]) + list(ext.crops[e_idx])
        labels = np.r_[np.ones(len(m_idx)), np.zeros(len(e_idx))]
        x = to_tensor_batch(crops, pre.color, tuple(pre.mean), tuple(pre.std))
        scores = {}
        for view in VIEWS["mirror+shift5"]:
            mirror, dx, dy = view
            v = x.flip(-1) if mirror else x
            v = shifted(v, dx, dy) if (dx or dy) else v
            scores[view] = np.concatenate([pair.score(v[i:i + 128]) for i in range(0, len(v), 128)])
        aucs = [roc_auc(labels, np.mean([scores[v] for v in views], axis=0)) for views in VIEWS.values()]
        print(f"{name:<16} {len(m_idx):>8} {len(e_idx):>9} " + " ".join(f"{a:>14.4f}" for a in aucs), flush=True)
        rows.append({"pair": name, "members": len(m_idx), "external": len(e_idx),
                     "roc_auc": dict(zip(VIEWS, aucs))})
    if args.json:
        import json

        args.json.write_text(json.dumps({"split": args.split, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
