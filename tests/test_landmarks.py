"""Five-point alignment (arcface112_5pt): the real face-mesh model on real LFW photos, its sha256
check, and the template end to end through an audit."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from mint_tui.faces import FaceDetector, extract_faces, load_image, similarity_transform
from mint_tui.faces import detect as detect_module
from mint_tui.faces.align import TEMPLATES, template_names, template_points
from mint_tui.faces.landmarks import LANDMARK_MODEL, FaceMesh, mesh_to_5pt
from mint_tui.faces.prepare import PrepareSettings

# Fixed LFW photos (members and external, several people, some with a turned head or a tilt).
PHOTOS = [
    "AJ_Lamas/AJ_Lamas_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0003.jpg",
    "Alvaro_Uribe/Alvaro_Uribe_0001.jpg", "Alvaro_Uribe/Alvaro_Uribe_0010.jpg", "Colin_Powell/Colin_Powell_0005.jpg",
    "George_W_Bush/George_W_Bush_0010.jpg", "Serena_Williams/Serena_Williams_0003.jpg",
    "Tony_Blair/Tony_Blair_0020.jpg", "Winona_Ryder/Winona_Ryder_0001.jpg",
]


@pytest.fixture(scope="module")
def detector():
    with FaceDetector() as det:
        yield det


@pytest.fixture(scope="module")
def mesh():
    return FaceMesh()


@pytest.fixture(scope="module")
def faces(lfw, detector, mesh):
    """(image, detection, mesh points, presence) for each photo's largest face."""
    out = []
    for name in PHOTOS:
        image = load_image(lfw / "images" / name)
        det = detector.detect(image)[0]
        points, presence = mesh.landmarks(image, det)
        out.append((name, image, det, points, presence))
    return out


def test_the_five_points_land_on_the_face_in_order(faces):
    for name, _image, det, points, presence in faces:
        assert points.shape == (468, 3) and presence > 0.9, name
        five = mesh_to_5pt(points)
        x, y, w, h = det.box
        assert ((five[:, 0] > x) & (five[:, 0] < x + w) & (five[:, 1] > y) & (five[:, 1] < y + h)).all(), name
        r_eye, l_eye, nose, r_mouth, l_mouth = five
        # Frontal-ish LFW faces: the subject's right side is on the image's left.
        assert r_eye[0] < l_eye[0] and r_mouth[0] < l_mouth[0], name
        assert max(r_eye[1], l_eye[1]) < nose[1] < min(r_mouth[1], l_mouth[1]), name
        # The eye centres agree with BlazeFace's own eye keypoints (BlazeFace order: right, left eye).
        assert np.linalg.norm(five[:2] - det.keypoints[:2], axis=1).max() < 0.12 * w, name
        # Mouth corners straddle BlazeFace's mouth centre.
        assert r_mouth[0] < det.keypoints[3][0] < l_mouth[0], name


def test_the_five_point_alignment_puts_the_points_on_the_template(faces):
    tpl = template_points("arcface112_5pt", (112, 112))
    for name, _image, _det, points, _presence in faces:
        five = mesh_to_5pt(points)
        m = similarity_transform(five, tpl)
        residual = np.linalg.norm(np.c_[five, np.ones(5)] @ m.T - tpl, axis=1)
        # A face is not the template (a wide smile moves the mouth corners), but it is close to it.
        assert residual.mean() < 6 and residual.max() < 10, (name, residual)


def test_extract_faces_with_the_template(lfw, detector, mesh, faces):
    name, image = faces[0][0], faces[0][1]
    five = extract_faces(image, detector, "largest", template="arcface112_5pt", mesh=mesh)
    four = extract_faces(image, detector, "largest")
    assert len(five) == 1 and five[0].crop.shape == (112, 112, 3)
    assert np.abs(five[0].crop.astype(int) - four[0].crop.astype(int)).mean() > 1  # another alignment
    with pytest.raises(ValueError, match="needs a FaceMesh"):
        extract_faces(image, detector, "largest", template="arcface112_5pt")


def test_the_template_is_registered_and_in_the_crop_cache_key():
    assert "arcface112_5pt" in template_names()
    assert len(TEMPLATES["arcface112_5pt"].points) == 5 and len(TEMPLATES["arcface112"].points) == 4
    assert PrepareSettings(template="arcface112_5pt").key != PrepareSettings().key
    assert "arcface112_5pt" in PrepareSettings(template="arcface112_5pt").key
    with pytest.raises(ValueError, match="unknown alignment template"):
        PrepareSettings(template="nope")


@pytest.fixture
def tampered_assets(tmp_path, monkeypatch):
    """A copy of the shipped model folder; tests alter it, and the library reads it instead."""
    folder = tmp_path / "detector"
    shutil.copytree(detect_module.detector_dir(), folder)
    monkeypatch.setattr(detect_module, "detector_dir", lambda: folder)
    detect_module.verified_model_file.cache_clear()
    yield folder
    detect_module.verified_model_file.cache_clear()


def test_the_shipped_model_passes_its_check():
    detect_module.verified_model_file.cache_clear()
    assert detect_module.verified_model_file(LANDMARK_MODEL).name == LANDMARK_MODEL


def test_a_tampered_model_is_refused(tampered_assets):
    model = tampered_assets / LANDMARK_MODEL
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="does not match its sha256"):
        FaceMesh()


def test_a_missing_or_unlisted_model_is_refused(tampered_assets):
    (tampered_assets / LANDMARK_MODEL).unlink()
    with pytest.raises(RuntimeError, match="missing"):
        FaceMesh()
    sums = tampered_assets / "SHA256SUMS"
    sums.write_text("".join(line + "\n" for line in sums.read_text().splitlines() if LANDMARK_MODEL not in line))
    detect_module.verified_model_file.cache_clear()
    with pytest.raises(RuntimeError, match="not listed"):
        FaceMesh()


def _redeclare(bundle, dest, template):
    """The same pair (same weights) with another alignment template in its manifest."""
    from mint_tui.pairs.bundle import write_bundle
    from mint_tui.pairs.loaded import load_pair

    pair = load_pair(bundle)
    m = pair.manifest
    pre = dataclasses.replace(m.audited.preprocess, template=template)
    manifest = dataclasses.replace(m, audited=dataclasses.replace(m.audited, preprocess=pre))
    return write_bundle(dest, manifest, pair.audited.state_dict(), pair.mint.state_dict())


def test_a_pair_declaring_the_template_audits_with_it(lfw, tiny_pair_bundle, tmp_path, detector, mesh):
    from mint_tui.audit import AuditOptions, run_audit
    from mint_tui.pairs.loaded import load_pair

    photos = tmp_path / "photos"
    photos.mkdir()
    for i, name in enumerate(PHOTOS[:3]):
        (photos / f"{i}.jpg").write_bytes((lfw / "images" / name).read_bytes())
    five_pair = load_pair(_redeclare(tiny_pair_bundle, tmp_path / "five.mintpair", "arcface112_5pt"))
    assert five_pair.manifest.audited.preprocess.template == "arcface112_5pt"
    four_pair = load_pair(tiny_pair_bundle)
    rows5 = list(run_audit([photos], five_pair, AuditOptions(keep_crops=True)))
    rows4 = list(run_audit([photos], four_pair, AuditOptions(keep_crops=True)))
    assert [r.verdict for r in rows5] != ["no-face"] * 3 and all(r.score is not None for r in rows5)
    for r5, r4 in zip(rows5, rows4):
        image = load_image(r5.path)
        expected = extract_faces(image, detector, "largest", template="arcface112_5pt", mesh=mesh)[0].crop
        np.testing.assert_array_equal(r5.crop, expected)  # the audit aligned with the pair's template
        assert r5.score != r4.score
