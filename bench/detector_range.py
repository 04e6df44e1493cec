"""How small a face (relative to the image) each face-detection choice handles, and whether a
photo's verdict survives more background around it.

LFW photos (250x250, the face about 100 px wide) of members of the demo pair are placed, unscaled,
at the centre of larger black canvases (series "padded": the face's share of the image shrinks as
the canvas grows), and scaled down inside a 1000x1000 canvas (series "scaled": fewer face pixels).
For each detector choice and canvas, it prints: the share of photos whose face is found, the median
error of the eye/nose/mouth keypoints (in interocular distances, against the keypoints found on the
original photo), the mean change of the demo pair's score, and how many verdicts differ from the
original photo's.

    .venv/bin/python bench/detector_range.py [--images 40] [--pair demo-lfw-cnn]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from mint_tui.faces.align import align_face, blazeface_to_4pt
from mint_tui.faces.detect import DETECTOR_CHOICES, FaceDetector
from mint_tui.faces.extract import to_tensor_batch
from mint_tui.faces.image import cv2, load_image

LFW = Path(__file__).resolve().parents[2] / "shared" / "data" / "lfw"


def place(photo: np.ndarray, canvas: int, scale: float) -> tuple[np.ndarray, float, np.ndarray]:
    """The photo scaled by ``scale`` at the centre of a black canvas: (image, scale, offset)."""
    small = photo if scale == 1 else cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = small.shape[:2]
    out = np.zeros((canvas, canvas, 3), np.uint8)
    y0, x0 = (canvas - h) // 2, (canvas - w) // 2
    out[y0:y0 + h, x0:x0 + w] = small
    return out, scale, np.array([x0, y0], np.float64)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=30)
    ap.add_argument("--pair", default="demo-lfw-cnn")
    args = ap.parse_args()

    import torch

    from mint_tui.cli import resolve_pair_path
    from mint_tui.pairs.loaded import load_pair

    torch.set_num_threads(1)  # one face at a time: more threads only wait on each other

    pair = load_pair(resolve_pair_path(args.pair))
    pre = pair.manifest.audited.preprocess
    cal = pair.manifest.calibration
    from mint_tui.pairs.manifest import verdict

    lines = [ln.strip() for ln in (LFW / "splits" / "mint_test_members.txt").read_text().splitlines() if ln.strip()]
    step = max(1, len(lines) // args.images)
    photos = [load_image(LFW / "images" / ln) for ln in lines[::step][:args.images]]

    def score(image: np.ndarray, keypoints: np.ndarray) -> float:
        crop = align_face(image, blazeface_to_4pt(keypoints), tuple(pre.size), pre.template)
        return float(pair.score(to_tensor_batch([crop], pre.color, tuple(pre.mean), tuple(pre.std)))[0])

    detectors = {name: FaceDetector(name) for name in DETECTOR_CHOICES}
    reference = []
    ref_det = FaceDetector("short")
    for photo in photos:
        (d, *_) = ref_det.detect(photo) or (None,)
        reference.append(None if d is None else (d, score(photo, d.keypoints)))
    kept = [i for i, r in enumerate(reference) if r is not None]
    widths = [reference[i][0].box[2] for i in kept]
    print(f"{len(kept)} LFW member photos (mint_test_members, every {step}th) with a face on the original; face "
          f"box width {np.median(widths):.0f} px (median) of 250; pair {args.pair}")
    settings = [("padded", c, 1.0) for c in (250, 400, 600, 1000, 1600, 2500)]
    settings += [("scaled", 1000, s) for s in (1.0, 0.5, 0.3, 0.2)]
    header = f"{'series':7} {'canvas':>6} {'face px':>7} {'face/side':>9}"
    for name in detectors:
        header += f" | {name + ' found':>11} {'kp err':>6} {'|dscore|':>8} {'flips':>5}"
    print(header)
    timing = {name: 0.0 for name in detectors}
    for series, canvas, scale in settings:
        face_px = np.median(widths) * scale
        line = f"{series:7} {canvas:6d} {face_px:7.0f} {face_px / canvas:9.3f}"
        for name, det in detectors.items():
            found, errors, dscore, flips = 0, [], [], 0
            for i in kept:
                ref, ref_score = reference[i]
                image, s, off = place(photos[i], canvas, scale)
                t = time.perf_counter()
                faces = det.detect(image)
                timing[name] += time.perf_counter() - t
                want = ref.keypoints * s + off
                iod = np.linalg.norm(want[0] - want[1])
                match = [f for f in faces if np.linalg.norm(f.keypoints[2] - want[2]) < iod]
                if not match:
                    flips += verdict(ref_score, cal) != "no-face"
                    continue
                found += 1
                f = match[0]
                errors.append(float(np.mean(np.linalg.norm(f.keypoints[:4] - want[:4], axis=1)) / iod))
                sc = score(image, f.keypoints)
                dscore.append(abs(sc - ref_score))
                flips += verdict(sc, cal) != verdict(ref_score, cal)
            n = len(kept)
            err = f"{np.median(errors):6.3f}" if errors else "     -"
            ds = f"{np.mean(dscore):8.3f}" if dscore else "       -"
            line += f" | {found / n:11.2f} {err} {ds} {flips:5d}"
        print(line, flush=True)
    for det in (*detectors.values(), ref_det):
        det.close()
    calls = len(kept) * len(settings)
    print("detection time per image (ms): " + ", ".join(f"{k} {1000 * v / calls:.1f}" for k, v in timing.items()))


if __name__ == "__main__":
    main()
