"""The audit pipeline on real photos with a (random-weight) pair: rows, order, errors, cancel."""

from __future__ import annotations

import hashlib
import threading

import numpy as np
import pytest

from mint_tui.audit import AuditOptions, collect_images, run_audit
from mint_tui.faces.image import cv2
from mint_tui.pairs.loaded import load_pair


@pytest.fixture
def pair(tiny_pair_bundle):
    return load_pair(tiny_pair_bundle)


@pytest.fixture
def folder(lfw, tmp_path):
    """A folder with two real photos, a broken file, a face-less image and a non-image file."""
    d = tmp_path / "photos"
    (d / "sub").mkdir(parents=True)
    for i, name in enumerate(["AJ_Lamas/AJ_Lamas_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0001.jpg"]):
        (d / ("sub" if i else "") / f"face{i}.jpg").write_bytes((lfw / "images" / name).read_bytes())
    (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    cv2.imwrite(str(d / "blank.png"), np.full((100, 100, 3), 200, np.uint8))
    (d / "notes.txt").write_text("not an image, not listed")
    return d


def test_rows_for_every_file_with_reasons(pair, folder):
    rows = list(run_audit([folder], pair, AuditOptions(batch_size=4)))
    by_name = {r.path.rsplit("/", 1)[-1]: r for r in rows}
    assert sorted(by_name) == ["blank.png", "broken.jpg", "face0.jpg", "face1.jpg"]
    assert by_name["broken.jpg"].verdict == "error" and by_name["broken.jpg"].message
    assert by_name["blank.png"].verdict == "no-face" and by_name["blank.png"].score is None
    for name in ("face0.jpg", "face1.jpg"):
        row = by_name[name]
        assert row.verdict in ("member", "non-member", "inconclusive")
        assert 0.0 <= row.score <= 1.0 and row.face == 0 and row.box is not None
        assert row.sha256 == hashlib.sha256((folder / ("sub/" if name == "face1.jpg" else "") / name).read_bytes()).hexdigest()
    # Input order: the sorted walk of the folder.
    assert [r.path for r in rows] == [str(p) for p in collect_images([folder])[0]]


def test_scores_match_scoring_the_crops_directly(pair, folder):
    from mint_tui.faces import to_tensor_batch

    rows = [r for r in run_audit([folder], pair, AuditOptions(keep_crops=True)) if r.score is not None]
    pre = pair.manifest.audited.preprocess
    direct = pair.score(to_tensor_batch([r.crop for r in rows], pre.color, pre.mean, pre.std))
    np.testing.assert_allclose([r.score for r in rows], direct, rtol=1e-5, atol=1e-6)


def test_missing_path_is_an_error_row_and_the_rest_goes_on(pair, folder, tmp_path):
    rows = list(run_audit([tmp_path / "nope.jpg", folder / "face0.jpg"], pair))
    assert rows[0].verdict == "error" and rows[0].message == "does not exist (no such file or folder)"
    assert rows[1].score is not None


def test_progress_and_cancel(pair, folder):
    seen = []
    cancel = threading.Event()
    rows = []
    for row in run_audit(collect_images([folder])[0] * 3, pair, AuditOptions(batch_size=1, workers=1), progress=seen.append,
                         cancel=cancel):
        rows.append(row)
        cancel.set()
    assert 1 <= len(rows) < 12
    assert seen[0].done == 0 and seen[0].total == 12
    assert all(b.done >= a.done for a, b in zip(seen, seen[1:]))


def test_progress_advances_per_image_with_a_rate_from_the_first(pair, folder):
    seen = []
    rows = list(run_audit([folder], pair, AuditOptions(batch_size=32, workers=1), progress=seen.append))
    assert len(rows) == 4
    prepared = [p.prepared for p in seen]
    assert prepared == sorted(prepared) and {1, 2, 3, 4} <= set(prepared)  # a report per image prepared
    faces = [p for p in seen if p.prepared >= 3]
    assert faces[0].done < faces[0].prepared  # the two faces wait for their batch: prepared leads scored
    assert all(p.rate > 0 for p in seen if p.prepared)  # from the first image on
    # an ETA while images are left to prepare, and once the scoring pace is measured
    assert all(p.eta is not None for p in seen if p.prepared and (p.prepared < p.total or p.scoring))
    last = seen[-1]
    assert last.done == last.prepared == last.total == 4 and last.eta == 0 and last.fraction == 1
    assert last.faces == 2 and last.scoring > 0
    assert [p.fraction for p in seen] == sorted(p.fraction for p in seen)


def test_symlink_loop_is_cut(pair, folder):
    (folder / "sub" / "loop").symlink_to(folder, target_is_directory=True)
    files, errors = collect_images([folder])
    assert len(files) == 4 and not errors


def test_all_faces_policy(pair, lfw, tmp_path):
    a = cv2.imread(str(lfw / "images/AJ_Lamas/AJ_Lamas_0001.jpg"))
    b = cv2.imread(str(lfw / "images/Aaron_Peirsol/Aaron_Peirsol_0001.jpg"))
    cv2.imwrite(str(tmp_path / "two.jpg"), np.concatenate([a, b], axis=1))
    rows = list(run_audit([tmp_path / "two.jpg"], pair, AuditOptions(faces="all")))
    assert [r.face for r in rows] == [0, 1]


def test_options_are_validated():
    with pytest.raises(ValueError, match="faces"):
        AuditOptions(faces="biggest")
    with pytest.raises(ValueError, match="batch"):
        AuditOptions(batch_size=0)



def test_a_chunks_scores_do_not_depend_on_the_images_before_it(folder):
    """No batch spans two chunks of batch_size images, so auditing a chunk alone (as a Ray worker
    does) gives bit-identical rows: torch's results differ in the last bits with the batch."""
    from mint_tui.paths import assets_dir

    demo = load_pair(assets_dir() / "pairs" / "demo-lfw-mlp.mintpair")  # its MLP is batch-sensitive
    files = collect_images([folder, assets_dir() / "samples"])[0]  # 16 images, face-less and broken ones first
    options = AuditOptions(batch_size=5, workers=1, threads=1)
    whole = list(run_audit(files, demo, options))
    parts = [row for k in range(0, len(files), 5) for row in run_audit(files[k:k + 5], demo, options)]
    assert [(r.path, r.face, r.score, r.verdict) for r in parts] == [(r.path, r.face, r.score, r.verdict) for r in whole]
    assert sum(r.score is not None for r in whole) == 14
