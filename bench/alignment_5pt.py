"""How far the four-point alignment (``arcface112``) lands from the five-point one (``arcface112_5pt``).

    .venv/bin/python bench/alignment_5pt.py [--lfw ../shared/data/lfw] [--images 300] [--pair demo-lfw-cnn]

On a fixed sample of LFW photos (every k-th line of ``fr_train.txt`` and of ``external.txt``, half
each, in file order) it detects the largest face with BlazeFace, runs the face mesh on it, and
aligns it both ways to 112x112. It prints:

- the pixel distance, in the 112x112 crop, between where the 4-point alignment and the 5-point
  alignment put each of the five face points (eye centres, nose tip, mouth corners from the mesh):
  per point and over all five (mean, median, 95th percentile, max over faces);
- how far each alignment leaves those points from the template's own five points (the 5-point
  alignment is the least-squares optimum of that distance; the 4-point one fits only eyes, nose and
  mouth centre);
- the cosine between the demo pair's audited-model embeddings of the two crops of each face, and
  the mean absolute difference of the pair's MINT scores on them (the pair was trained on 4-point
  crops);
- faces the mesh model declines (presence below the threshold) and the mesh's time per face.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sample(lfw: Path, n: int) -> list[Path]:
    half = []
    for split, k in (("fr_train.txt", n // 2), ("external.txt", n - n // 2)):
        lines = [s.strip() for s in (lfw / "splits" / split).read_text().splitlines() if s.strip()]
        half += [lfw / "images" / p for p in lines[:: max(1, len(lines) // k)][:k]]
    return half


def stats(values: np.ndarray, low: bool = False) -> str:
    """Mean, median and the tail that matters: p95 and max, or (``low``) p5 and min."""
    tail = (f"p5 {np.percentile(values, 5):.3f}  min {values.min():.3f}" if low else
            f"p95 {np.percentile(values, 95):.2f}  max {values.max():.2f}")
    return f"mean {values.mean():.3f}  median {np.median(values):.3f}  {tail}" if low else \
        f"mean {values.mean():.2f}  median {np.median(values):.2f}  {tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lfw", type=Path, default=ROOT.parent / "shared" / "data" / "lfw")
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--pair", default="demo-lfw-cnn", help="pair whose audited model embeds the crops")
    args = parser.parse_args()
    if not (args.lfw / "splits").is_dir():
        print(f"LFW not found at {args.lfw}", file=sys.stderr)
        return 2

    import torch

    from mint_tui.faces import FaceDetector, load_image, similarity_transform, to_tensor_batch
    from mint_tui.faces.align import align_face, blazeface_to_4pt, template_points
    from mint_tui.faces.landmarks import MIN_PRESENCE, FaceMesh, mesh_to_5pt
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.pairs.store import PairStore

    torch.set_num_threads(1)
    path = Path(args.pair) if args.pair.endswith(".mintpair") else PairStore().get(args.pair).path
    pair = load_pair(path)
    pre = pair.manifest.audited.preprocess
    size = tuple(pre.size)
    tpl4, tpl5 = template_points("arcface112", size), template_points("arcface112_5pt", size)

    photos = sample(args.lfw, args.images)
    detector, mesh = FaceDetector(), FaceMesh()
    moved, off4, off5, crops4, crops5, names = [], [], [], [], [], []
    no_face = declined = 0
    mesh_seconds = 0.0
    for photo in photos:
        image = load_image(photo)
        found = detector.detect(image)
        if not found:
            no_face += 1
            continue
        det = found[0]
        t = time.perf_counter()
        points, presence = mesh.landmarks(image, det)
        mesh_seconds += time.perf_counter() - t
        if presence < MIN_PRESENCE:
            declined += 1
            continue
        five = mesh_to_5pt(points)
        m4 = similarity_transform(blazeface_to_4pt(det.keypoints), tpl4)
        m5 = similarity_transform(five, tpl5)
        at4 = np.c_[five, np.ones(5)] @ m4.T
        at5 = np.c_[five, np.ones(5)] @ m5.T
        names.append(photo.name)
        moved.append(np.linalg.norm(at4 - at5, axis=1))
        off4.append(np.linalg.norm(at4 - tpl5, axis=1))
        off5.append(np.linalg.norm(at5 - tpl5, axis=1))
        crops4.append(align_face(image, blazeface_to_4pt(det.keypoints), size, "arcface112"))
        crops5.append(align_face(image, five, size, "arcface112_5pt"))
    detector.close()
    moved, off4, off5 = np.array(moved), np.array(off4), np.array(off5)

    scores, embeddings = [], []
    for crops in (crops4, crops5):
        s, e = [], []
        for i in range(0, len(crops), 64):
            si, ei = pair.score_with_embeddings(to_tensor_batch(crops[i:i + 64], pre.color, pre.mean, pre.std))
            s.append(si)
            e.append(ei)
        scores.append(np.concatenate(s))
        e = np.concatenate(e)
        embeddings.append(e / np.linalg.norm(e, axis=1, keepdims=True))
    cosine = (embeddings[0] * embeddings[1]).sum(axis=1)

    n = len(moved)
    print(f"{len(photos)} LFW photos ({args.images // 2} from fr_train, the rest from external); "
          f"{n} faces aligned both ways; no face {no_face}; declined by the mesh {declined}")
    print(f"face mesh: {1000 * mesh_seconds / max(1, n + declined):.1f} ms per face (1 thread)")
    print(f"\ndistance (px, {size[0]}x{size[1]} crop) between where the 4-point and the 5-point alignment "
          "put each point:")
    points = ("right eye", "left eye", "nose tip", "right mouth corner", "left mouth corner")
    for j, name in enumerate(points):
        print(f"  {name:<19} {stats(moved[:, j])}")
    print(f"  {'all five':<19} {stats(moved.mean(axis=1))}  (per face, mean of the five)")
    worst = np.argsort(moved.mean(axis=1))[::-1][:3]
    print("  farthest: " + ", ".join(f"{names[i]} {moved[i].mean():.1f}" for i in worst))
    print("\ndistance (px) of the five points from the template's five points, mean of the five per face:")
    print(f"  4-point alignment   {stats(off4.mean(axis=1))}")
    print(f"  5-point alignment   {stats(off5.mean(axis=1))}")
    print(f"\naudited model of {pair.name}: cosine between the embeddings of the two crops of a face:")
    print(f"  {stats(cosine, low=True)}")
    print("  lowest: " + ", ".join(f"{names[i]} {cosine[i]:.3f}" for i in np.argsort(cosine)[:3]))
    print(f"MINT score |4-point - 5-point|: {stats(np.abs(scores[0] - scores[1]))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
