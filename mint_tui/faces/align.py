"""Template alignment: a similarity transform from face points onto a reference template.

A template is named (a pair's ``audited.preprocess.template``) and says where its points come from:

* ``arcface112`` (the default): BlazeFace gives eyes, nose tip, mouth centre and ear tragions; the
  ArcFace template has eyes, nose tip and two mouth corners. We fit eyes + nose + mouth centre (the
  midpoint of the template's mouth corners) by least squares (Umeyama, no reflection) and warp.
* ``arcface112_5pt``: insightface's own five points (eye centres, nose tip, mouth corners), taken
  from MediaPipe's face mesh (:mod:`mint_tui.faces.landmarks`), fitted the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mint_tui.faces.image import cv2

#: insightface's 5-point ArcFace template for 112x112 crops: eye, eye, nose, mouth corner x2
#: (image left to right).
ARCFACE_112_5PT = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]
)



@dataclass(frozen=True)
class Template:
    """Reference points (image left to right) in a ``ref`` x ``ref`` square, and where a face's
    matching points come from: ``"blazeface"`` (the detector's keypoints, see :func:`blazeface_to_4pt`)
    or ``"mesh"`` (the face-mesh model, see :func:`mint_tui.faces.landmarks.mesh_to_5pt`)."""

    points: np.ndarray
    ref: int
    source: str
    description: str


#: Alignment templates by name; a pair names one in ``audited.preprocess.template``.
TEMPLATES: dict[str, Template] = {
    "arcface112": Template(
        np.vstack([ARCFACE_112_5PT[:3], ARCFACE_112_5PT[3:].mean(axis=0, keepdims=True)]), 112, "blazeface",
        "ArcFace 112x112, 4 points from the detector (eyes, nose tip, mouth centre)"),
    "arcface112_5pt": Template(
        ARCFACE_112_5PT, 112, "mesh",
        "ArcFace 112x112, insightface's 5 points (eye centres, nose tip, mouth corners) from the face mesh"),
}


def get_template(name: str) -> Template:
    """A point template by name (box templates: :data:`BOX_TEMPLATES`)."""
    if name not in TEMPLATES:
        raise ValueError(f"unknown point template {name!r}; known: {sorted(TEMPLATES)}")
    return TEMPLATES[name]


#: Box templates by name: no keypoints, the detector's box made square around its centre, widened by
#: ``margin`` pixels of a ``size``-pixel output (facenet-pytorch's MTCNN crop: ``margin`` is added in
#: output pixels, so the box grows by size / (size - margin)), then scaled to the output.
BOX_TEMPLATES: dict[str, tuple[float, int]] = {
    "facenet160": (20.0, 160),
}


def template_names() -> tuple[str, ...]:
    """Every alignment template a pair can declare."""
    return (*TEMPLATES, *BOX_TEMPLATES)


def box_crop_matrix(box: tuple[float, float, float, float], template: str, size: tuple[int, int]) -> np.ndarray:
    """2x3 matrix taking the square, margin-widened detector box (x, y, w, h) onto a (height, width) crop."""
    margin, ref = BOX_TEMPLATES[template]
    x, y, w, h = (float(v) for v in box)
    side = max(w, h) * ref / (ref - margin)
    cx, cy = x + w / 2, y + h / 2
    out_h, out_w = size
    sx, sy = out_w / side, out_h / side
    return np.array([[sx, 0.0, -(cx - side / 2) * sx], [0.0, sy, -(cy - side / 2) * sy]])


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 matrix of the similarity (rotation, uniform scale, translation) mapping src onto dst
    in the least-squares sense (Umeyama 1991, reflection excluded)."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sigma, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rot = u @ sign @ vt
    var_s = (s**2).sum() / len(src)
    scale = (sigma * np.diag(sign)).sum() / var_s if var_s > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rot
    matrix[:, 2] = mu_d - scale * rot @ mu_s
    return matrix


def template_points(template: str, size: tuple[int, int]) -> np.ndarray:
    """The template's points scaled to an output of (height, width)."""
    tpl = get_template(template)
    h, w = size
    return tpl.points * np.array([w / tpl.ref, h / tpl.ref])


def blazeface_to_4pt(keypoints: np.ndarray) -> np.ndarray:
    """BlazeFace keypoints (6, 2) -> (eye left-of-image, eye right-of-image, nose, mouth)."""
    eyes = keypoints[:2]
    eyes = eyes[np.argsort(eyes[:, 0])]
    return np.vstack([eyes, keypoints[2:4]])


def align_face(image: np.ndarray, points: np.ndarray | None, size: tuple[int, int] = (112, 112),
               template: str = "arcface112", box: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """Warp the face whose points (in the point template's order and number) are given onto the
    template, or, for a box template, crop its detector ``box``; returns an (H, W, 3) crop."""
    if template in BOX_TEMPLATES:
        if box is None:
            raise ValueError(f"template {template!r} crops the detector's box, and no box was given")
        matrix = box_crop_matrix(box, template, size)
    else:
        matrix = similarity_transform(points, template_points(template, size))
    h, w = size
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
