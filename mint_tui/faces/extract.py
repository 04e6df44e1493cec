"""From a decoded image to aligned face crops, by a face policy.

This is the one code path used both to audit and to train, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mint_tui.faces.align import TEMPLATES, align_face, blazeface_to_4pt, template_names
from mint_tui.faces.detect import Detection, FaceDetector
from mint_tui.faces.image import cv2
from mint_tui.faces.landmarks import FaceMesh
from mint_tui.options import FACE_POLICIES


@dataclass(frozen=True)
class Face:
    index: int
    box: tuple[float, float, float, float] | None  # x, y, w, h in the source image
    detection_score: float | None
    crop: np.ndarray  # aligned BGR uint8, (H, W, 3)


def needs_mesh(template: str) -> bool:
    """Whether aligning to this template runs the face-mesh model (see :mod:`mint_tui.faces.landmarks`);
    an unknown template is refused."""
    if template not in template_names():
        raise ValueError(f"unknown alignment template {template!r}; known: {', '.join(template_names())}")
    return template in TEMPLATES and TEMPLATES[template].source == "mesh"


def template_source_points(image: np.ndarray, detection: Detection, template: str,
                           mesh: FaceMesh | None) -> np.ndarray | None:
    """A detected face's points in the template's order (box templates ignore them); None when the
    mesh model finds no face."""
    if not needs_mesh(template):
        return blazeface_to_4pt(detection.keypoints)
    if mesh is None:
        raise ValueError(f"alignment template {template!r} needs a FaceMesh")
    return mesh.five_points(image, detection)


def extract_faces(image: np.ndarray, detector: FaceDetector | None, policy: str = "largest",
                  size: tuple[int, int] = (112, 112), template: str = "arcface112",
                  mesh: FaceMesh | None = None) -> list[Face]:
    """Aligned faces of one image; an empty list means no face was found. Templates whose points
    come from the face mesh need ``mesh``; a detection in which it finds no face is dropped."""
    if policy not in FACE_POLICIES:
        raise ValueError(f"unknown face policy {policy!r}; choose one of {', '.join(FACE_POLICIES)}")
    if policy == "aligned":
        h, w = size
        crop = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        return [Face(0, None, None, crop)]
    if detector is None:
        raise ValueError("a face detector is needed unless the policy is 'aligned'")
    detections = detector.detect(image)
    if policy == "largest":
        detections = detections[:1]
    faces = []
    for d in detections:
        points = template_source_points(image, d, template, mesh)
        if points is not None:
            faces.append(Face(len(faces), d.box, d.score, align_face(image, points, size, template, d.box)))
    return faces


def to_tensor_batch(crops: list[np.ndarray], color: str, mean: tuple[float, float, float],
                    std: tuple[float, float, float]):
    """Stack BGR uint8 crops into a float tensor (N, 3, H, W) with the model's colour order and
    normalisation: ((pixel / 255) - mean) / std, per channel in the model's colour order."""
    import torch

    batch = np.stack(crops).astype(np.float32) / 255.0
    if color == "RGB":
        batch = batch[..., ::-1]
    elif color != "BGR":
        raise ValueError(f"unknown colour order {color!r}")
    batch = (batch - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2)))
