"""Regression test of the shipped demo pairs on a fixed sample of the LFW test splits.

The sample: the first 60 lines of mint_test_members.txt and of mint_test_external.txt (files never
used to train or calibrate the pairs). The floors sit below the accuracy measured on this sample
when the pairs were built (see docs/RESULTS.md for the full-split figures); a pair that degrades
below them fails here.
"""

from __future__ import annotations

import pytest

from mint_tui.paths import assets_dir

SAMPLE = 60
#: Accuracy at the pair's calibrated threshold on the fixed sample must stay at or above this.
#: Measured on this sample when the pairs were built (2026-12-02): CNN 0.992, MLP 1.000.
FLOORS = {"demo-lfw-cnn": 0.93, "demo-lfw-mlp": 0.93}


def _lines(path, n):
    return [ln for ln in path.read_text().splitlines() if ln.strip()][:n]


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_demo_pair_accuracy_on_fixed_test_sample(lfw, name):
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.train.evaluate import evaluate_pair

    bundle = assets_dir() / "pairs" / f"{name}.mintpair"
    assert bundle.exists(), f"the demo pair {bundle} is not shipped"
    pair = load_pair(bundle)
    images = lfw / "images"
    members = [images / p for p in _lines(lfw / "splits" / "mint_test_members.txt", SAMPLE)]
    external = [images / p for p in _lines(lfw / "splits" / "mint_test_external.txt", SAMPLE)]
    ev = evaluate_pair(pair, members, external)
    assert ev.counts["members_scored"] + ev.counts["external_scored"] >= 2 * SAMPLE - 2
    assert ev.metrics["mint"]["accuracy"] >= FLOORS[name], ev.metrics["mint"]


def test_demo_pairs_are_the_default_and_carry_their_provenance():
    from mint_tui.pairs.store import PairStore

    store = PairStore()
    assert store.default_pair_name() == "demo-lfw-cnn"
    for name in FLOORS:
        entry = store.get(name)
        m = entry.manifest
        assert entry.builtin and m.calibration.scores is not None
        assert "mint_train_members.txt" in m.provenance.splits["members"]
        assert "mint_test_members.txt" in m.provenance.splits["eval_members"]
        assert "LFW" in (m.provenance.notes or "") and any("mint_test" in x.data for x in m.metrics)
