"""Five alignment points (eye centres, nose tip, mouth corners) from MediaPipe's face mesh.

BlazeFace gives no mouth corners, so the five-point ArcFace template (``arcface112_5pt`` in
:mod:`mint_tui.faces.align`) takes its points from the 468-point face-mesh model
``face_landmark.tflite`` (shipped in mint_tui/assets/detector, sha256-checked). The model is run the way
MediaPipe's own face-landmark graph runs it, by the LiteRT interpreter (``ai-edge-litert``), which
reads its output tensors as they are:

* region of interest: the detection box's centre, a square of 1.5 times the box's longer side,
  rotated so that the line from BlazeFace's first eye keypoint to its second is horizontal
  (MediaPipe's ``face_detection_front_detection_to_roi``);
* that square warped to 192x192 RGB, values in [0, 1], borders replicated;
* outputs: ``conv2d_21`` (1404 = 468 x (x, y, z), x and y in pixels of the 192x192 input) and
  ``conv2d_31`` (face presence, a logit); the points are mapped back through the inverse warp.

Mesh indices (MediaPipe ``face_mesh_connections``): eye contours of 16 points each, nose tip 1,
mouth corners 61 and 291. "Right"/"left" are the subject's, so for a frontal face the subject's
right eye and right mouth corner lie on the image's left.
"""

from __future__ import annotations

import numpy as np

from mint_tui import native_log
from mint_tui.faces.detect import Detection, verified_model_file
from mint_tui.faces.image import cv2

LANDMARK_MODEL = "face_landmark.tflite"
INPUT_SIZE = 192
ROI_SCALE = 1.5
#: Faces whose presence probability (sigmoid of the model's face flag) is below this are dropped.
MIN_PRESENCE = 0.5

MESH_RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
MESH_LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
MESH_NOSE_TIP = 1
MESH_MOUTH_RIGHT = 61
MESH_MOUTH_LEFT = 291


def roi_matrix(detection: Detection) -> np.ndarray:
    """2x3 affine matrix from image pixels to the model's 192x192 input for one detection."""
    x, y, w, h = detection.box
    centre = np.array([x + w / 2, y + h / 2])
    side = ROI_SCALE * max(w, h)
    eye_line = detection.keypoints[1] - detection.keypoints[0]
    norm = np.linalg.norm(eye_line)
    u = eye_line / norm if norm > 0 else np.array([1.0, 0.0])
    v = np.array([-u[1], u[0]])  # the crop's downward axis
    top_left = centre - side / 2 * (u + v)
    src = np.float32([top_left, top_left + side * u, top_left + side * v])
    dst = np.float32([[0, 0], [INPUT_SIZE, 0], [0, INPUT_SIZE]])
    return cv2.getAffineTransform(src, dst)


def mesh_to_5pt(mesh: np.ndarray) -> np.ndarray:
    """(468, 2+) mesh points -> (5, 2): subject's right eye centre, left eye centre, nose tip,
    right mouth corner, left mouth corner (image left to right for a frontal face), the order of
    insightface's five-point template."""
    pts = np.asarray(mesh)[:, :2]
    return np.vstack([pts[list(MESH_RIGHT_EYE)].mean(axis=0), pts[list(MESH_LEFT_EYE)].mean(axis=0),
                      pts[MESH_NOSE_TIP], pts[MESH_MOUTH_RIGHT], pts[MESH_MOUTH_LEFT]])


class FaceMesh:
    """The face-mesh model on CPU. Not thread-safe: use one instance per thread."""

    def __init__(self, threads: int = 1) -> None:
        path = verified_model_file(LANDMARK_MODEL)
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:  # a broken install: make setup installs it
            raise RuntimeError("the five-point alignment needs the LiteRT interpreter (pip package "
                               f"ai-edge-litert): {exc}") from None
        native_log.install()  # LiteRT's log lines (its delegate choice) never reach the terminal
        self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self._interpreter.allocate_tensors()
        inputs = self._interpreter.get_input_details()
        if len(inputs) != 1 or tuple(inputs[0]["shape"]) != (1, INPUT_SIZE, INPUT_SIZE, 3):
            raise RuntimeError(f"{path.name}: unexpected input {[tuple(i['shape']) for i in inputs]}")
        self._input = inputs[0]["index"]
        outputs = {int(np.prod(o["shape"])): o["index"] for o in self._interpreter.get_output_details()}
        if set(outputs) != {468 * 3, 1}:
            raise RuntimeError(f"{path.name}: unexpected outputs of sizes {sorted(outputs)}")
        self._points, self._flag = outputs[468 * 3], outputs[1]

    def landmarks(self, bgr: np.ndarray, detection: Detection) -> tuple[np.ndarray, float]:
        """The 468 mesh points (x, y in image pixels; z in crop pixels) of one detected face, and the
        model's face-presence probability."""
        matrix = roi_matrix(detection)
        crop = cv2.warpAffine(bgr, matrix, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        tensor = np.ascontiguousarray(crop[None, :, :, ::-1], dtype=np.float32) / 255.0
        self._interpreter.set_tensor(self._input, tensor)
        self._interpreter.invoke()
        mesh = self._interpreter.get_tensor(self._points).reshape(468, 3).astype(np.float64)
        logit = float(self._interpreter.get_tensor(self._flag).reshape(-1)[0])
        inverse = cv2.invertAffineTransform(matrix)
        mesh[:, :2] = mesh[:, :2] @ inverse[:, :2].T + inverse[:, 2]
        return mesh, float(1.0 / (1.0 + np.exp(-np.clip(logit, -60.0, 60.0))))

    def five_points(self, bgr: np.ndarray, detection: Detection) -> np.ndarray | None:
        """(5, 2) alignment points of one detected face in image pixels (see :func:`mesh_to_5pt`),
        or None when the model says the region holds no face."""
        mesh, presence = self.landmarks(bgr, detection)
        return mesh_to_5pt(mesh) if presence >= MIN_PRESENCE else None

    def close(self) -> None:
        self._interpreter = None
