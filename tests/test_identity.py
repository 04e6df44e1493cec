"""The identity-level test: validity (false-positive rate <= alpha) under correlated photos, power."""

from __future__ import annotations

import numpy as np
import pytest

from mint_tui.identity import IdentityTest, combine_scores, identity_test, null_statistics


def _population(rng, n_ids, photos, shift=0.0, between=0.12, within=0.08):
    """Scores of identities with a per-person effect (photos of one person are correlated)."""
    ids, scores = [], []
    for g in range(n_ids):
        effect = rng.normal(0.3 + shift, between)
        n = photos if np.isscalar(photos) else rng.integers(*photos)
        scores += list(np.clip(effect + rng.normal(0, within, n), 0, 1))
        ids += [g] * n
    return np.array(scores), np.array(ids)


def test_false_positive_rate_stays_under_alpha_with_correlated_photos():
    rng = np.random.default_rng(0)
    ext, ext_id = _population(rng, 300, (1, 12))
    test = IdentityTest({"external": ext, "external_identity": ext_id}, alpha=0.05)
    alpha = 0.05
    for k in (1, 4, 8):
        rejections = [test("x", _population(rng, 1, k)[0]).verdict == "member" for _ in range(600)]
        assert np.mean(rejections) <= alpha + 0.025, k  # binomial slack for 600 draws


def test_pooling_single_photos_would_be_too_optimistic():
    """The reason for an identity-level null: a photo-level null rejects far too often."""
    rng = np.random.default_rng(1)
    ext, ext_id = _population(rng, 300, (4, 12))
    photo_null = ext
    fp = 0
    for _ in range(400):
        t = _population(rng, 1, 8)[0].mean()
        # photo-level null for a mean of 8 iid photos: mean +- sd/sqrt(8)
        z = (t - photo_null.mean()) / (photo_null.std() / np.sqrt(8))
        fp += z > 1.645
    assert fp / 400 > 0.15  # an iid null is badly miscalibrated here ...
    test = IdentityTest({"external": ext, "external_identity": ext_id}, alpha=0.05)
    ours = np.mean([test("x", _population(rng, 1, 8)[0]).verdict == "member" for _ in range(400)])
    assert ours <= 0.075  # ... while the identity-level null is not


def test_power_grows_with_more_photos():
    rng = np.random.default_rng(2)
    ext, ext_id = _population(rng, 300, (1, 12), within=0.15)
    test = IdentityTest({"external": ext, "external_identity": ext_id})
    tpr = {k: np.mean([test("m", _population(rng, 1, k, shift=0.4, within=0.15)[0]).verdict == "member"
                       for _ in range(200)]) for k in (1, 8)}
    assert tpr[8] > tpr[1] + 0.1 and tpr[8] > 0.8


def test_null_statistics_uses_min_k_photos_per_identity():
    ext = np.array([0.1, 0.2, 0.3, 0.9])
    ids = np.array([0, 0, 0, 1])
    t = null_statistics(ext, ids, k=2)
    assert len(t) == 2 and t[1] == pytest.approx(0.9)
    assert t[0] in [pytest.approx(combine_scores(pair)) for pair in ([0.1, 0.2], [0.1, 0.3], [0.2, 0.3])]


def test_combine_scores_averages_log_odds():
    assert combine_scores([0.9]) == pytest.approx(0.9)
    assert combine_scores([0.2, 0.8]) == pytest.approx(0.5)  # logits -1.386 and +1.386
    # one high photo among low ones does not dominate as it does in the plain mean
    assert combine_scores([0.001, 0.999 - 1e-12]) == pytest.approx(0.5, abs=1e-3)
    assert combine_scores([0.01, 0.01, 0.99]) < 0.6 * np.mean([0.01, 0.01, 0.99])
    assert 0 < combine_scores([0.0, 0.0]) < 1e-5 and 1 - 1e-5 < combine_scores([1.0]) < 1  # clipped, finite


def test_correlated_photos_against_single_photo_calibration_keep_alpha():
    # Worst case for the null: every calibration identity has one photo, while test people have
    # k photos whose log-odds share a person effect (a non-member who resembles a member scores
    # high on all photos). Scores skewed as MINT gives them (most near 0).
    rng = np.random.default_rng(5)

    def person(k):
        return 1 / (1 + np.exp(-(-6 + rng.normal(0, 1.5) + rng.normal(0, 2.0, k))))

    ext = np.concatenate([person(1) for _ in range(400)])
    test = IdentityTest({"external": ext, "external_identity": np.arange(400)}, alpha=0.05)
    for k in (2, 4, 8):
        fpr = np.mean([test("x", person(k)).verdict == "member" for _ in range(2000)])
        assert fpr <= 0.05 + 0.015, (k, fpr)


def test_rejection_level_is_calibration_conditional():
    from math import comb

    from mint_tui.identity import rejection_level

    assert rejection_level(20, 0.05) == 0.0  # too few identities to reject at 5 % with 95 % confidence
    for g in (100, 226, 1000):
        level = rejection_level(g, 0.05)
        j = round(level * (g + 1))
        assert 0 < level < 0.05

        def p_fpr_above_alpha(j):  # P(Beta(j, g + 1 - j) > alpha) = P(Binomial(g, alpha) <= j - 1)
            return sum(comb(g, i) * 0.05 ** i * 0.95 ** (g - i) for i in range(j))

        assert p_fpr_above_alpha(j) <= 0.05 < p_fpr_above_alpha(j + 1)  # the largest cut-off that qualifies
    # Conditional on one calibration sample the false-positive rate of the verdict is at most alpha in
    # (at least) 95 % of calibration samples; simulate it with uniform null values.
    rng = np.random.default_rng(3)
    g, level = 226, rejection_level(226, 0.05)
    j = round(level * (g + 1))
    fprs = np.array([1 - np.sort(rng.random(g))[g - j] for _ in range(4000)])  # P(T > j-th largest null)
    assert np.mean(fprs > 0.05) <= 0.05 + 0.01


def test_edge_cases():
    cal = {"external": np.array([0.1, 0.2]), "external_identity": np.array([0, 1])}
    r = identity_test("nobody", [], cal)
    assert r.verdict == "no-faces"
    r = identity_test("p", [0.99, 0.98], cal, alpha=0.05)
    assert r.p_value == pytest.approx(1 / 3) and r.verdict == "not-shown" and "cannot reject" in r.explanation
    assert r.level == 0.0
    with pytest.raises(ValueError, match="calibration scores"):
        identity_test("p", [0.5], None)


@pytest.mark.slow
def test_cli_identity_flags(lfw, tiny_pair_bundle, tmp_path, capsys):
    import json

    from mint_tui.cli import main
    from mint_tui.pairs.bundle import write_bundle
    from mint_tui.pairs.loaded import load_pair

    photos = [str(lfw / "images" / f"Aaron_Peirsol/Aaron_Peirsol_000{i}.jpg") for i in (1, 2, 3)]
    assert main(["audit", *photos, "--pair", str(tiny_pair_bundle), "--identity", "Aaron"]) == 2
    assert "calibration scores" in capsys.readouterr().err
    pair = load_pair(tiny_pair_bundle)
    cal = {"member": np.array([0.9], np.float32), "member_identity": np.array([0]),
           "external": np.linspace(0, 1, 40, dtype=np.float32), "external_identity": np.arange(40) // 2}
    with_scores = write_bundle(tmp_path / "scored.mintpair", pair.manifest, pair.audited.state_dict(),
                               pair.mint.state_dict(), calibration_scores=cal)
    out = tmp_path / "r.json"
    assert main(["audit", *photos, "--pair", str(with_scores), "--identity", "Aaron", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    (ident,) = doc["identities"]
    assert ident["name"] == "Aaron" and ident["faces"] == 3 and ident["null_identities"] == 20
    scores = [r["score"] for r in doc["results"]]
    assert ident["statistic"] == pytest.approx(combine_scores(scores))
    assert main(["audit", str(lfw / "images" / "Aaron_Peirsol"), str(lfw / "images" / "AJ_Lamas"),
                 "--pair", str(with_scores), "--group-by", "folder"]) == 0
    text = capsys.readouterr().out
    assert "identity test  Aaron_Peirsol:" in text and "identity test  AJ_Lamas:" in text
