"""Faces: loading, MediaPipe detection and template alignment, on real photos and known geometry."""

from __future__ import annotations

import numpy as np
import pytest

from mint_tui.faces import FaceDetector, ImageError, decode_image, extract_faces, load_image, similarity_transform
from mint_tui.faces.align import blazeface_to_4pt, template_points
from mint_tui.faces.image import cv2
from mint_tui.faces.prepare import CropCache, PrepareSettings, prepare_images

PHOTO = "AJ_Lamas/AJ_Lamas_0001.jpg"


@pytest.fixture(scope="module")
def detector():
    with FaceDetector() as det:
        yield det


def test_similarity_transform_recovers_a_known_transform():
    src = np.array([[10.0, 20.0], [50.0, 22.0], [30.0, 40.0], [31.0, 60.0]])
    angle, scale, shift = np.deg2rad(17), 1.7, np.array([5.0, -3.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = scale * src @ rot.T + shift
    m = similarity_transform(src, dst)
    np.testing.assert_allclose(m[:, :2], scale * rot, atol=1e-9)
    np.testing.assert_allclose(m[:, 2], shift, atol=1e-9)


def test_alignment_puts_keypoints_on_the_template():
    # A face whose keypoints are the template, rotated by 30 degrees, scaled 2x and shifted.
    tpl = template_points("arcface112", (112, 112))
    angle = np.deg2rad(30)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pts = 2.0 * tpl @ rot.T + np.array([100.0, 40.0])
    # BlazeFace order: right eye (image right after rotation is irrelevant: we sort by x), left eye, nose, mouth, ears
    keypoints = np.vstack([pts[1], pts[0], pts[2], pts[3], [0, 0], [0, 0]])
    m = similarity_transform(blazeface_to_4pt(keypoints), tpl)
    mapped = np.c_[pts, np.ones(4)] @ m.T
    np.testing.assert_allclose(mapped, tpl, atol=1e-6)


def test_detects_and_aligns_a_real_face(lfw, detector):
    image = load_image(lfw / "images" / PHOTO)
    assert image.shape == (250, 250, 3) and image.dtype == np.uint8
    faces = detector.detect(image)
    assert len(faces) == 1
    face = faces[0]
    assert face.score > 0.8
    x, y, w, h = face.box
    assert 40 < x + w / 2 < 210 and 40 < y + h / 2 < 210  # LFW faces are centred
    # Warped keypoints land within a few pixels of the template.
    tpl = template_points("arcface112", (112, 112))
    m = similarity_transform(blazeface_to_4pt(face.keypoints), tpl)
    mapped = np.c_[blazeface_to_4pt(face.keypoints), np.ones(4)] @ m.T
    assert np.abs(mapped - tpl).max() < 8
    crops = extract_faces(image, detector, "largest")
    assert len(crops) == 1 and crops[0].crop.shape == (112, 112, 3)


@pytest.mark.parametrize("kind", ["grey", "noise", "black"])
def test_no_face_images_give_no_face(detector, kind):
    rng = np.random.default_rng(0)
    image = {"grey": np.full((200, 300, 3), 128, np.uint8),
             "noise": rng.integers(0, 256, (240, 240, 3), dtype=np.uint8),
             "black": np.zeros((64, 64, 3), np.uint8)}[kind]
    assert extract_faces(image, detector, "largest") == []


def test_all_policy_finds_two_faces(lfw, detector):
    a = load_image(lfw / "images" / PHOTO)
    b = load_image(lfw / "images" / "Aaron_Peirsol/Aaron_Peirsol_0001.jpg")
    both = np.concatenate([a, b], axis=1)
    assert len(extract_faces(both, detector, "all")) == 2
    assert len(extract_faces(both, detector, "largest")) == 1


def test_aligned_policy_skips_detection():
    image = np.full((120, 100, 3), 7, np.uint8)
    faces = extract_faces(image, None, "aligned")
    assert len(faces) == 1 and faces[0].crop.shape == (112, 112, 3) and faces[0].box is None


def _encode(ext, image, params=()):
    ok, buf = cv2.imencode(ext, image, list(params))
    assert ok
    return buf.tobytes()


def test_decodes_greyscale_rgba_and_16bit():
    grey = np.tile(np.arange(64, dtype=np.uint8), (32, 1))
    out = decode_image(_encode(".png", grey))
    assert out.shape == (32, 64, 3) and (out[..., 0] == grey).all()
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[..., 2] = 200
    rgba[..., 3] = 255
    assert decode_image(_encode(".png", rgba)).shape == (10, 12, 3)
    deep = np.full((8, 8, 3), 65535, np.uint16)
    out = decode_image(_encode(".png", deep))
    assert out.dtype == np.uint8 and out.max() == 255


def test_exif_orientation_is_applied(tmp_path):
    from PIL import Image

    # A 40x20 landscape image stored with EXIF orientation 6 (rotate 90 CW to display): shows 20x40.
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    img.save(path, exif=exif)
    assert load_image(path).shape[:2] == (40, 20)


@pytest.mark.parametrize("data,reason", [(b"", "empty"), (b"hello, not an image", "not a decodable image"),
                                          (b"<html><body>hi</body></html>", "not a decodable image")])
def test_bad_bytes_raise_image_error(data, reason):
    with pytest.raises(ImageError, match=reason):
        decode_image(data)


def test_missing_file_is_an_image_error(tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        load_image(tmp_path / "gone.jpg")


def test_prepare_images_keeps_order_reports_errors_and_caches(lfw, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    paths = [lfw / "images" / PHOTO, bad, lfw / "images" / "Aaron_Peirsol/Aaron_Peirsol_0002.jpg"]
    settings = PrepareSettings()
    cache = CropCache(tmp_path / "cache", settings)
    first = list(prepare_images(paths, settings, workers=2, cache=cache))
    assert [p.path for p in first] == paths
    assert first[1].error and not first[1].faces
    assert len(first[0].faces) == 1 and len(first[2].faces) == 1
    cached = cache.get(first[0].sha256)
    assert cached is not None and np.array_equal(cached[0].crop, first[0].faces[0].crop)
    again = list(prepare_images(paths, settings, workers=1, cache=cache))
    assert np.array_equal(again[2].faces[0].crop, first[2].faces[0].crop)


def test_detector_works_when_sys_stderr_has_no_file_descriptor(lfw, monkeypatch):
    """Inside a Textual app sys.stderr.fileno() is -1; detection must still work."""
    import io

    class TextualLikeStderr(io.StringIO):
        def fileno(self):
            return -1

    monkeypatch.setattr("sys.stderr", TextualLikeStderr())
    image = load_image(lfw / "images" / PHOTO)
    with FaceDetector() as det:
        assert len(det.detect(image)) == 1
