"""Building pairs: metrics against brute force, splits, calibration, and a small end-to-end train."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mint_tui.train.fit import split_three
from mint_tui.metrics import (best_threshold, binary_metrics, inconclusive_band, roc_auc, roc_curve,
                                    tpr_at_fpr)


def _brute_auc(labels, scores):
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_auc_matches_brute_force_with_ties():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300) * 0.5 + labels * 0.2, 2)  # many ties
    assert roc_auc(labels, scores) == pytest.approx(_brute_auc(labels, scores), abs=1e-12)


def test_roc_and_tpr_at_fpr():
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.2, 0.75, 0.3, 0.1, 0.05])
    fpr, tpr, thr = roc_curve(labels, scores)
    assert fpr[0] == 0 and tpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1
    assert tpr_at_fpr(labels, scores, 0.0) == 0.5  # 0.9, 0.8 before the first negative (0.75)
    assert tpr_at_fpr(labels, scores, 0.25) == 0.75
    m = binary_metrics(labels, scores, 0.5)
    assert m["accuracy"] == pytest.approx(6 / 8) and m["balanced_accuracy"] == pytest.approx(0.75)


def test_best_threshold_separates_separable_data():
    labels = np.r_[np.ones(50), np.zeros(50)]
    scores = np.r_[np.linspace(0.6, 0.9, 50), np.linspace(0.1, 0.4, 50)]
    t = best_threshold(labels, scores)
    assert 0.4 < t <= 0.6
    assert binary_metrics(labels, scores, t)["accuracy"] == 1.0
    low, high = inconclusive_band(labels, scores, t)
    assert low <= t <= high and high <= 0.6 and low >= 0.4


def test_inconclusive_band_widens_where_classes_overlap():
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(500), np.zeros(500)]
    scores = np.r_[rng.normal(0.6, 0.15, 500), rng.normal(0.4, 0.15, 500)].clip(0, 1)
    t = best_threshold(labels, scores)
    low, high = inconclusive_band(labels, scores, t)
    assert low < t - 0.1 and high > t + 0.1
    above = scores >= high
    assert labels[above].mean() >= 0.95  # the promise of the band, on the data it was fitted on
    below = scores < low
    assert (1 - labels[below]).mean() >= 0.95


def test_split_three_keeps_groups_together():
    groups = [f"id{i // 3}" for i in range(300)]
    tr, va, ca = split_three(300, groups, 0.15, 0.2, seed=0)
    assert sorted(np.r_[tr, va, ca].tolist()) == list(range(300))
    parts = [{groups[i] for i in p} for p in (tr, va, ca)]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert abs(len(ca) - 60) <= 3 and abs(len(va) - 45) <= 3


def _lines(path, n):
    return [ln for ln in path.read_text().splitlines() if ln.strip()][:n]


@pytest.mark.slow
def test_train_end_to_end_gives_an_installable_bundle(lfw, tmp_path, monkeypatch):
    """A tiny MINT pair from 40 + 40 LFW images; evaluation data never reaches calibration."""
    import torch

    from mint_tui.models.audited import build_audited
    from mint_tui.pairs.bundle import inspect_bundle
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.pairs.store import PairStore
    from mint_tui.train import build as build_mod
    from mint_tui.train.build import PairRequest, build_pair
    from mint_tui.train.fit import MintFitConfig

    images = lfw / "images"
    members = [images / p for p in _lines(lfw / "splits" / "mint_train_members.txt", 40)]
    external = [images / p for p in _lines(lfw / "splits" / "mint_train_external.txt", 40)]
    test_m = [images / p for p in _lines(lfw / "splits" / "mint_test_members.txt", 10)]
    test_e = [images / p for p in _lines(lfw / "splits" / "mint_test_external.txt", 10)]
    torch.manual_seed(0)
    cfg = {"embedding_size": 32, "width": 0.25}
    state = build_audited("mobilefacenet", cfg).state_dict()

    # Record every image list that the calibration step's predictions come from.
    seen_by_fit = []
    real_load_faces = build_mod.load_faces
    monkeypatch.setattr(build_mod, "load_faces", lambda paths, *a, **k: seen_by_fit.append(list(paths))
                        or real_load_faces(paths, *a, **k))

    def request(out, with_eval, mint_config=None):
        return PairRequest(name="small", arch="mobilefacenet", arch_config=cfg, audited_state=state,
                           members=members, external=external, out=out,
                           fit=MintFitConfig(kind="cnn", taps=("layer1", "embedding"), epochs=2, seed=0,
                                             mint_config=mint_config or {}),
                           eval_members=test_m if with_eval else None, eval_external=test_e if with_eval else None,
                           eval_data="first 10 + 10 test images")

    path, report = build_pair(request(tmp_path / "small.mintpair", True), log=lambda m: None)
    manifest = inspect_bundle(path)
    assert manifest.mint.kind == "cnn" and manifest.mint.taps == ("layer1", "embedding")
    # Complete configurations are recorded: the bundle does not depend on library defaults.
    from mint_tui.models.mint import mint_config_defaults

    assert set(manifest.mint.config) == set(mint_config_defaults("cnn"))
    assert set(manifest.audited.config) == {"embedding_size", "dropout", "width"}
    low, high = manifest.calibration.inconclusive
    assert 0 <= low <= manifest.calibration.threshold <= high <= 1
    assert {m.data for m in manifest.metrics} == {"first 10 + 10 test images",
                                                  "calibration split of the MINT training data"}
    assert set(map(tuple, seen_by_fit)) == {tuple(members), tuple(external)}  # test images never fitted on
    # Same threshold without the evaluation data: calibration does not read it.
    path2, _ = build_pair(request(tmp_path / "small2.mintpair", False), log=lambda m: None)
    assert inspect_bundle(path2).calibration == manifest.calibration
    # Installable and usable.
    entry = PairStore().install(path)
    pair = load_pair(entry.path)
    assert pair.manifest.pair.name == "small"
    assert report["evaluation"]["counts"]["members_scored"] == 10
    # Bank-free by default: no member-derived tensor, and the manifest says so.
    assert manifest.member_data.kind == "none"
    assert not any("prototype" in k for k in pair.mint.state_dict())
    # Asked for, a bank is declared, with the same model's figures without it on both data sets.
    from mint_tui.pairs.card import model_card

    banked, _ = build_pair(request(tmp_path / "banked.mintpair", True, {"prototypes": 8}), log=lambda m: None)
    md = inspect_bundle(banked).member_data
    assert (md.kind, md.count, md.taps) == ("embeddings", 8, ("embedding",))
    same = "; the same MINT model, data and seed without the bank"
    assert {m.data for m in md.without} == {"first 10 + 10 test images" + same,
                                            "calibration split of the MINT training data" + same}
    assert "Without the bank: accuracy" in model_card(inspect_bundle(banked))


def test_calibration_scores_are_the_scores_an_audit_gives(lfw, tmp_path):
    """The default mirror average: the calibration scores stored in the bundle are what the loaded pair
    gives those faces (the mean over the crop and its mirror image), and `--no-mirror` pairs score the
    crop alone. Measured: they agree within 5e-6 while a mirror image moves a score by 4e-3 here."""
    import dataclasses

    import torch

    from mint_tui.faces import PrepareSettings
    from mint_tui.faces.extract import to_tensor_batch
    from mint_tui.models.audited import build_audited
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.train.build import PairRequest, build_pair
    from mint_tui.train.data import identity_of, load_faces
    from mint_tui.train.fit import MintFitConfig, split_three

    images = lfw / "images"
    members = [images / p for p in _lines(lfw / "splits" / "mint_train_members.txt", 40)]
    external = [images / p for p in _lines(lfw / "splits" / "mint_train_external.txt", 40)]
    torch.manual_seed(0)
    cfg = {"embedding_size": 32, "width": 0.25}
    state = build_audited("mobilefacenet", cfg).state_dict()
    fit = MintFitConfig(kind="cnn", taps=("layer1", "embedding"), epochs=2, seed=0)
    req = PairRequest(name="mirror", arch="mobilefacenet", arch_config=cfg, audited_state=state,
                      members=members, external=external, out=tmp_path / "mirror.mintpair", fit=fit)
    pairs = {mirror: load_pair(build_pair(dataclasses.replace(
        req, out=tmp_path / f"m{mirror}.mintpair", fit=dataclasses.replace(fit, mirror=mirror)),
        log=lambda m: None)[0]) for mirror in (True, False)}
    assert pairs[True].manifest.mint.mirror and not pairs[False].manifest.mint.mirror
    pre = pairs[True].manifest.audited.preprocess
    settings = PrepareSettings("largest", "short", tuple(pre.size), pre.template)
    mem, ext = load_faces(members, settings, 1), load_faces(external, settings, 1)
    cal = {"member": (mem, split_three(len(mem), None, fit.val_fraction, fit.cal_fraction, fit.seed)[2]),
           "external": (ext, split_three(len(ext), [identity_of(p) for p in ext.paths], fit.val_fraction,
                                         fit.cal_fraction, fit.seed)[2])}
    for mirror, pair in pairs.items():
        for cls, (faces, idx) in cal.items():
            crops = list(faces.crops[np.sort(idx)])
            got = pair.score(to_tensor_batch(crops, pre.color, tuple(pre.mean), tuple(pre.std)))
            np.testing.assert_allclose(got, pair.calibration_scores[cls], atol=1e-4, err_msg=f"{mirror} {cls}")
    # The mirror pair's score is the mean of the plain pair's on the crop and on its mirror image.
    crops = list(mem.crops[:6])
    plain = [pairs[False].score(to_tensor_batch(c, pre.color, tuple(pre.mean), tuple(pre.std)))
             for c in (crops, [np.ascontiguousarray(x[:, ::-1]) for x in crops])]
    both = pairs[True].score(to_tensor_batch(crops, pre.color, tuple(pre.mean), tuple(pre.std)))
    np.testing.assert_allclose(both, (plain[0] + plain[1]) / 2, atol=1e-6)
    assert np.abs(plain[0] - plain[1]).max() > 1e-3  # the mirror image does score differently (> 10x atol)


def test_calibration_scores_round_trip(tiny_pair_bundle, tmp_path):
    """Calibration scores stored in a bundle come back from load_pair, and tampering is caught."""
    import zipfile

    from mint_tui.pairs.bundle import inspect_bundle, write_bundle
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.pairs.verify import BundleError

    pair = load_pair(tiny_pair_bundle)
    scores = {"member": np.array([0.9, 0.8], np.float32), "member_identity": np.array([0, 1]),
              "external": np.array([0.1, 0.2, 0.3], np.float32), "external_identity": np.array([2, 2, 3])}
    out = write_bundle(tmp_path / "with-scores.mintpair", pair.manifest, pair.audited.state_dict(),
                       pair.mint.state_dict(), calibration_scores=scores)
    assert inspect_bundle(out).calibration.scores == "calibration.safetensors"
    back = load_pair(out).calibration_scores
    assert np.allclose(back["external"], scores["external"]) and back["external_identity"].tolist() == [2, 2, 3]
    bad = tmp_path / "bad.mintpair"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = bytearray(src.read(info))
            if info.filename == "calibration.safetensors":
                data[-1] ^= 1
            dst.writestr(info.filename, bytes(data))
    with pytest.raises(BundleError, match="calibration scores"):
        inspect_bundle(bad)
