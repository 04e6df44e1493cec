"""Extract MediaPipe's face models into mint_tui/assets/detector/.

The BlazeFace face-detection models, and the face-mesh landmark model (468 points) behind the
five-point alignment template ``arcface112_5pt`` (mint_tui/faces/landmarks.py).
Recent mediapipe wheels ship no model files and mint-tui never downloads at run time, so the
three .tflite files are taken once from the mediapipe 0.10.21 wheel on PyPI (Apache-2.0) and
committed with their sha256. Run once (needs network access to PyPI):

    python scripts/extract_detector_models.py

It downloads the wheel with pip (no install), extracts the files and writes SHA256SUMS.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "mediapipe==0.10.21"
MEMBERS = {
    "mediapipe/modules/face_detection/face_detection_short_range.tflite": "face_detection_short_range.tflite",
    "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite": "face_detection_full_range_sparse.tflite",
    "mediapipe/modules/face_landmark/face_landmark.tflite": "face_landmark.tflite",
}
DEST = Path(__file__).resolve().parent.parent / "mint_tui" / "assets" / "detector"


def main() -> int:
    DEST.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64", "-d", tmp, WHEEL],
            check=True,
        )
        wheel = next(Path(tmp).glob("mediapipe-*.whl"))
        lines = []
        with zipfile.ZipFile(wheel) as zf:
            for member, name in MEMBERS.items():
                data = zf.read(member)
                (DEST / name).write_bytes(data)
                lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
                print(f"{name}: {len(data)} bytes")
    (DEST / "SHA256SUMS").write_text("".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
