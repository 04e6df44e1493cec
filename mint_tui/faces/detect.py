"""Face detection with MediaPipe's Tasks API (BlazeFace), from model files shipped in mint_tui/assets/detector
(sha256-checked).

Choices (``--detector``): ``short`` (BlazeFace short-range, 128x128 input: faces that fill a good part
of the photo), ``full`` (full-range, 192x192 input: small and far faces), and ``auto``, the default,
which makes a face's crop independent of how much background the photo has. BlazeFace sees the
whole image shrunk to its input size, so a face that is a small part of a large photo gets few
input pixels: the short-range model then misses it or places its keypoints loosely, and the aligned
crop, hence the verdict, changes with the padding (measured by ``bench/detector_range.py``; see the
README). ``auto`` runs the short-range model; when it finds no face, or the largest face is narrower
than :data:`SMALL_FACE` of the image's shorter side, it asks the full-range model instead; and every
face that small is looked at again, in a square crop of :data:`ZOOM` times its size around it (about
the framing of an LFW photo), where the short-range model places the keypoints as it does on a
close-up (twice: the second crop framed on the short-range model's own box). Faces at least that large (LFW photos, portraits) are detected exactly as by ``short``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from mint_tui import native_log
from mint_tui.options import DEFAULT_DETECTOR, DETECTOR_CHOICES
from mint_tui.paths import detector_dir

#: Detector models shipped in mint_tui/assets/detector (see its README): name -> file.
DETECTOR_MODELS = {
    "short": "face_detection_short_range.tflite",
    "full": "face_detection_full_range_sparse.tflite",
}
#: ``auto``: a face narrower than this share of the image's shorter side is a small face. Measured
#: (bench/detector_range.py): on LFW photos (faces 0.42 of the side) padded so that the face is 0.26
#: of the side, the short-range model already moves the keypoints enough to change 6 of 20 verdicts.
SMALL_FACE = 0.35
#: ``auto``: side of the crop a small face is looked at again in, in face-box widths.
ZOOM = 2.5


@dataclass(frozen=True)
class Detection:
    """One detected face, in pixel coordinates of the image it was found in.

    ``keypoints`` is a (6, 2) array in BlazeFace order: right eye, left eye (the subject's),
    nose tip, mouth centre, right ear tragion, left ear tragion.
    """

    box: tuple[float, float, float, float]  # x, y, width, height
    keypoints: np.ndarray
    score: float

    @property
    def area(self) -> float:
        return self.box[2] * self.box[3]

    def moved(self, dx: float, dy: float) -> Detection:
        x, y, w, h = self.box
        return Detection((x + dx, y + dy, w, h), self.keypoints + (dx, dy), self.score)


def verify_model_file(name: str) -> Path:
    """Path of a model file shipped in paths.detector_dir(), checked (every call) against that folder's
    SHA256SUMS (a missing, altered or unlisted file is refused)."""
    folder = detector_dir()
    path = folder / name
    sums = dict(
        reversed(line.split()) for line in (folder / "SHA256SUMS").read_text().splitlines() if line.strip()
    )
    if name not in sums:
        raise RuntimeError(f"model file {name} is not listed in {folder / 'SHA256SUMS'}")
    if not path.is_file():
        raise RuntimeError(f"model file {path} is missing")
    if hashlib.sha256(path.read_bytes()).hexdigest() != sums[name]:
        raise RuntimeError(f"model file {path} does not match its sha256 in SHA256SUMS (altered or damaged)")
    return path


#: The same, checked once per process (what the detector and the face mesh use).
verified_model_file = cache(verify_model_file)


def verify_detector_model(model: str = "short") -> Path:
    """Path of a shipped detector model, checked (every call) against its SHA256SUMS (paths.detector_dir())."""
    if model not in DETECTOR_MODELS:
        raise ValueError(f"unknown detector model {model!r}; choose one of {sorted(DETECTOR_MODELS)}")
    return verify_model_file(DETECTOR_MODELS[model])


#: The same, checked once per process (what the detector uses).
detector_model_path = cache(verify_detector_model)


class FaceDetector:
    """BlazeFace on CPU, one of :data:`DETECTOR_CHOICES`. Not thread-safe: use one instance per thread."""

    def __init__(self, model: str = DEFAULT_DETECTOR, min_confidence: float = 0.5) -> None:
        if model not in DETECTOR_CHOICES:
            raise ValueError(f"unknown detector {model!r}; choose one of {', '.join(DETECTOR_CHOICES)}")
        native_log.install()  # MediaPipe/LiteRT log lines never reach the terminal (see mint_tui.native_log)
        self.model = model
        self.min_confidence = min_confidence
        self._models: dict[str, object] = {}
        self._model("full" if model == "full" else "short")  # (the full-range one of auto: when first needed)

    def _model(self, name: str):
        det = self._models.get(name)
        if det is None:
            from mediapipe.tasks.python.core.base_options import BaseOptions
            from mediapipe.tasks.python.vision import FaceDetector as _MPFaceDetector
            from mediapipe.tasks.python.vision import FaceDetectorOptions

            options = FaceDetectorOptions(
                base_options=BaseOptions(model_asset_path=str(detector_model_path(name))),
                min_detection_confidence=self.min_confidence,
            )
            det = self._models[name] = _MPFaceDetector.create_from_options(options)
        return det

    def _run(self, name: str, bgr: np.ndarray) -> list[Detection]:
        import mediapipe as mp

        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(bgr[:, :, ::-1]))
        result = self._model(name).detect(image)
        h, w = bgr.shape[:2]
        faces = []
        for det in result.detections:
            bb = det.bounding_box
            keypoints = np.array([[k.x * w, k.y * h] for k in det.keypoints], dtype=np.float64)
            if keypoints.shape != (6, 2):
                continue
            score = float(det.categories[0].score) if det.categories else 0.0
            faces.append(Detection((float(bb.origin_x), float(bb.origin_y), float(bb.width), float(bb.height)),
                                   keypoints, score))
        faces.sort(key=lambda d: d.area, reverse=True)
        return faces

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        """All faces in a BGR uint8 image, largest first."""
        if self.model != "auto":
            return self._run(self.model, bgr)
        small = SMALL_FACE * min(bgr.shape[:2])
        faces = self._run("short", bgr)
        if not faces or faces[0].box[2] < small:
            faces = self._run("full", bgr) or faces
        faces = [self._closer(bgr, f) if f.box[2] < small else f for f in faces]
        faces.sort(key=lambda d: d.area, reverse=True)
        return faces

    def _closer(self, bgr: np.ndarray, face: Detection, passes: int = 2) -> Detection:
        """The face found again by the short-range model in a square crop of ZOOM face widths
        around it (black beyond the image's edges), twice: the second crop is framed on the
        short-range model's own box (the full-range model's boxes are sized differently). The
        detection as it was if none is found there."""
        for _ in range(passes):
            closer = self._zoom(bgr, face)
            if closer is None:
                break
            face = closer
        return face

    def _zoom(self, bgr: np.ndarray, face: Detection) -> Detection | None:
        from mint_tui.faces.image import cv2

        x, y, w, h = face.box
        side = max(8, math.ceil(ZOOM * max(w, h)))
        x0, y0 = round(x + w / 2 - side / 2), round(y + h / 2 - side / 2)
        crop = cv2.warpAffine(bgr, np.float32([[1, 0, -x0], [0, 1, -y0]]), (side, side),
                              flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        found = self._run("short", crop)
        if not found:
            return None
        centre = np.array([side / 2, side / 2])
        best = min(found, key=lambda d: float(np.linalg.norm(d.keypoints[2] - centre)))
        return best.moved(x0, y0)

    def close(self) -> None:
        for det in self._models.values():
            det.close()
        self._models.clear()

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
