"""Face detection with MediaPipe's Tasks API (BlazeFace), from model files shipped in mint_tui/assets/detector."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from mint_tui.paths import detector_dir

#: Detector models shipped in mint_tui/assets/detector (see its README): name -> file.
DETECTOR_MODELS = {
    "short": "face_detection_short_range.tflite",
    "full": "face_detection_full_range_sparse.tflite",
}
DEFAULT_DETECTOR = "short"


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


_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence the native library's INFO lines (LiteRT logs straight to fd 2 and has no switch),
    which would otherwise litter the CLI's output and garble the TUI."""
    with _STDERR_LOCK:
        fd = 2  # the native library writes to fd 2 whatever sys.stderr is (a TUI replaces sys.stderr)
        try:
            os.fstat(fd)
        except OSError:
            yield
            return
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):
            pass
        saved = os.dup(fd)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            os.close(devnull)


def verify_detector_model(model: str = DEFAULT_DETECTOR) -> Path:
    """Path of a shipped detector model, checked (every call) against its SHA256SUMS (paths.detector_dir())."""
    if model not in DETECTOR_MODELS:
        raise ValueError(f"unknown detector model {model!r}; choose one of {sorted(DETECTOR_MODELS)}")
    folder = detector_dir()
    path = folder / DETECTOR_MODELS[model]
    sums = dict(
        reversed(line.split()) for line in (folder / "SHA256SUMS").read_text().splitlines() if line.strip()
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if sums.get(path.name) != digest:
        raise RuntimeError(f"detector model {path} does not match its sha256 in SHA256SUMS")
    return path


#: The same, checked once per process (what the detector uses).
detector_model_path = cache(verify_detector_model)


class FaceDetector:
    """BlazeFace on CPU. Not thread-safe: use one instance per thread."""

    def __init__(self, model: str = DEFAULT_DETECTOR, min_confidence: float = 0.5) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")  # quieten the native library's INFO lines
        from mediapipe.tasks.python.core.base_options import BaseOptions
        from mediapipe.tasks.python.vision import FaceDetector as _MPFaceDetector
        from mediapipe.tasks.python.vision import FaceDetectorOptions

        options = FaceDetectorOptions(
            base_options=BaseOptions(model_asset_path=str(detector_model_path(model))),
            min_detection_confidence=min_confidence,
        )
        self.model = model
        self._warmed_up = False
        with _quiet_native_stderr():
            self._detector = _MPFaceDetector.create_from_options(options)

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        """All faces in a BGR uint8 image, largest first."""
        import mediapipe as mp

        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(bgr[:, :, ::-1]))
        if self._warmed_up:
            result = self._detector.detect(image)
        else:  # a detector's first inference logs a memory-alignment warning to fd 2
            with _quiet_native_stderr():
                result = self._detector.detect(image)
            self._warmed_up = True
        h, w = bgr.shape[:2]
        faces = []
        for det in result.detections:
            bb = det.bounding_box
            keypoints = np.array([[k.x * w, k.y * h] for k in det.keypoints], dtype=np.float64)
            if keypoints.shape != (6, 2):
                continue
            score = float(det.categories[0].score) if det.categories else 0.0
            faces.append(Detection((float(bb.origin_x), float(bb.origin_y), float(bb.width), float(bb.height)), keypoints, score))
        faces.sort(key=lambda d: d.area, reverse=True)
        return faces

    def close(self) -> None:
        if self._detector is not None:
            with _quiet_native_stderr():
                self._detector.close()
            self._detector = None

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
