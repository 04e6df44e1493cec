"""How much a pair's score moves when the face's keypoints move a little.

    .venv/bin/python bench/alignment_jitter.py [--lfw ../shared/data/lfw] [--images 40] [--draws 5]
        [--pairs demo-lfw-cnn,demo-lfw-mlp,demo-lfw-cnn-bank] [--sigmas 0.02,0.05] [--json FILE]

On a fixed sample of LFW photos (every k-th line of ``mint_test_members.txt`` and of
``mint_test_external.txt``, half each, in file order) it detects the largest face with the default
detector, scores the aligned crop with each pair, then moves every keypoint by Gaussian noise whose
standard deviation is ``sigma`` times the eye distance (``--draws`` times per photo and sigma, seeded)
and scores again. It prints, per pair and sigma, the mean and the largest absolute score change and
the share of draws whose verdict differs from the unmoved crop's.

A detector's keypoints move by a few percent of the eye distance between two framings of one photo
(padding, resizing), so this is the spread an auditor sees from framing alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sample(lfw: Path, n: int) -> list[Path]:
    out = []
    for name in ("mint_test_members.txt", "mint_test_external.txt"):
        lines = [ln.strip() for ln in (lfw / "splits" / name).read_text().splitlines() if ln.strip()]
        step = max(1, len(lines) // (n // 2))
        out += [lfw / "images" / ln for ln in lines[::step][: n // 2]]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lfw", type=Path, default=ROOT.parent / "shared" / "data" / "lfw")
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--draws", type=int, default=5)
    ap.add_argument("--pairs", default="demo-lfw-cnn,demo-lfw-mlp,demo-lfw-cnn-bank")
    ap.add_argument("--sigmas", default="0.02,0.05")
    ap.add_argument("--json", type=Path, help="also write the table here (scripts/demo_results.py reads it)")
    args = ap.parse_args()
    rows = []

    from mint_tui.faces import FaceDetector
    from mint_tui.options import DEFAULT_DETECTOR
    from mint_tui.faces.align import align_face, blazeface_to_4pt
    from mint_tui.faces.extract import to_tensor_batch
    from mint_tui.faces.image import load_image
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.pairs.manifest import verdict
    from mint_tui.paths import assets_dir

    sigmas = [float(s) for s in args.sigmas.split(",")]
    pairs = {name: load_pair(assets_dir() / "pairs" / f"{name}.mintpair") for name in args.pairs.split(",")}
    faces = []
    with FaceDetector(DEFAULT_DETECTOR) as detector:
        for path in sample(args.lfw, args.images):
            image = load_image(path)
            found = detector.detect(image)
            if found:
                faces.append((image, max(found, key=lambda f: f.box[2] * f.box[3]).keypoints))
    print(f"{len(faces)} faces, {args.draws} draws per face and sigma (sigma in eye distances)")
    print(f"{'pair':<20} {'sigma':>6} {'mean |d|':>9} {'max |d|':>8} {'verdict flips':>14}")
    for name, pair in pairs.items():
        pre = pair.manifest.audited.preprocess

        def score(image, keypoints) -> float:
            crop = align_face(image, blazeface_to_4pt(keypoints), tuple(pre.size), pre.template)
            return float(pair.score(to_tensor_batch([crop], pre.color, tuple(pre.mean), tuple(pre.std)))[0])

        for sigma in sigmas:
            rng = np.random.default_rng(0)
            deltas, flips = [], 0
            for image, kp in faces:
                base = score(image, kp)
                iod = float(np.linalg.norm(kp[0] - kp[1]))
                for _ in range(args.draws):
                    moved = score(image, kp + rng.normal(0.0, sigma * iod, kp.shape))
                    deltas.append(abs(moved - base))
                    flips += verdict(moved, pair.manifest.calibration) != verdict(base, pair.manifest.calibration)
            print(f"{name:<20} {sigma:>6.2f} {np.mean(deltas):>9.3f} {max(deltas):>8.3f} "
                  f"{flips / len(deltas):>14.1%}")
            rows.append({"pair": name, "sigma": sigma, "mean_abs_change": float(np.mean(deltas)),
                         "max_abs_change": float(max(deltas)), "verdict_changed": flips / len(deltas)})
    if args.json:
        import json

        args.json.write_text(json.dumps({"faces": len(faces), "draws": args.draws, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
