"""Caches with a budget: pooled features, on-the-fly activations, LRU eviction, `mint-tui cache`."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
import torch

from mint_tui import cache
from mint_tui.cli import main
from mint_tui.models.audited import build_audited
from mint_tui.models.mint import build_mint
from mint_tui.models.taps import tap_shapes
from mint_tui.train.activations import (LiveActivations, activation_source, choose_mode, extract_activations,
                                        state_digest)
from mint_tui.train.data import Rows

PRE = {"color": "RGB", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "size": [112, 112],
       "template": "arcface112"}
TAPS = ["layer1", "layer3", "embedding"]


@pytest.fixture(scope="module")
def audited():
    torch.manual_seed(0)
    model = build_audited("mobilefacenet", {"width": 0.25, "embedding_size": 32}).eval()
    return model, state_digest(model.state_dict())


def _crops(n, seed):
    return np.random.default_rng(seed).integers(0, 256, (n, 112, 112, 3), dtype=np.uint8)


def _shas(n, seed):
    return [f"{seed:04d}{i:060d}" for i in range(n)]


def test_pooled_features_are_what_mlp_mint_reads_and_far_smaller(audited):
    model, digest = audited
    crops = _crops(12, 1)
    maps = extract_activations(model, digest, crops, _shas(12, 1), TAPS, PRE, batch_size=5, label="mobilefacenet")
    pooled = extract_activations(model, digest, crops, _shas(12, 1), TAPS, PRE, batch_size=5, form="pooled",
                                 label="mobilefacenet")
    c = maps["layer1"].shape[1]
    assert pooled["layer1"].shape == (12, c, 1, 1) and pooled["embedding"].shape == maps["embedding"].shape
    size = {form: sum(a.nbytes for a in arrays.values()) for form, arrays in (("maps", maps), ("pooled", pooled))}
    assert size["pooled"] * 20 < size["maps"]
    # MLP MINT gives the same scores from the pooled features as from the full float32 maps.
    torch.manual_seed(1)
    mlp = build_mint("mlp", tap_shapes(model, TAPS), {"prototypes": 0}).eval()
    with torch.no_grad():
        from mint_tui.faces import to_tensor_batch
        from mint_tui.models.taps import TapExtractor

        with TapExtractor(model, TAPS) as extract:
            full = extract(to_tensor_batch(list(crops), PRE["color"], tuple(PRE["mean"]), tuple(PRE["std"])))
        want = mlp(full)
        got = mlp({t: torch.from_numpy(np.array(a)) for t, a in pooled.items()})
    assert torch.allclose(got, want, atol=1e-5)


def test_live_activations_match_the_cached_maps(audited):
    model, digest = audited
    crops = _crops(9, 2)
    maps = extract_activations(model, digest, crops, _shas(9, 2), TAPS, PRE)
    live = activation_source("live", model, digest, crops, _shas(9, 2), TAPS, PRE)
    assert isinstance(live, LiveActivations)
    idx = np.array([7, 1, 4])
    got = live.batch(idx)
    for t in TAPS:  # cached maps are float16: equal to rounding
        want = np.asarray(maps[t][np.sort(idx)], dtype=np.float32)
        np.testing.assert_allclose(got[t].numpy(), want, rtol=2e-3, atol=2e-3)
    assert len(list((cache.cache_root() / "activations").glob("*.npy"))) == len(TAPS)  # live stored nothing


def test_choose_mode_says_what_it_chose():
    assert choose_mode("mlp", "cpu")[0] == "pooled" and choose_mode("mlp", "cuda")[0] == "pooled"
    assert choose_mode("cnn", "cpu")[0] == "maps" and choose_mode("cnn", "cuda:1")[0] == "live"
    assert choose_mode("cnn", "cuda", "cache")[0] == "maps" and choose_mode("cnn", "cpu", "live")[0] == "live"
    assert "auto on the CPU" in choose_mode("cnn", "cpu")[1]
    with pytest.raises(ValueError):
        choose_mode("cnn", "cpu", "sometimes")


def test_rows_reads_several_arrays_as_one():
    a, b = np.arange(12).reshape(6, 2), np.arange(100, 108).reshape(4, 2)
    rows = Rows(a, b)
    both = np.concatenate([a, b])
    assert len(rows) == 10
    for key in (np.array([9, 0, 6, 5, 2]), slice(3, 8), np.array([], dtype=int)):
        np.testing.assert_array_equal(rows[key], both[key])


def _backdate(entry_files, seconds_ago):
    t = time.time() - seconds_ago
    for p in entry_files:
        os.utime(p, (t, t))


def test_lru_eviction_keeps_the_budget_and_recent_entries(audited):
    model, digest = audited
    acts = []  # the entries of seeds 10, 11, 12, in that order
    for seed in (10, 11, 12):
        extract_activations(model, digest, _crops(6, seed), _shas(6, seed), ["layer1"], PRE, label="tiny")
        acts += [e for e in cache.scan() if e.kind == "activations" and e.files[0].name not in
                 {a.files[0].name for a in acts}]
    assert len(acts) == 3 and all(e.faces == 6 and e.group.startswith("tiny (weights ") for e in acts)
    one = acts[0].size
    # Two entries from earlier runs (a day and an hour ago), one used now.
    _backdate(acts[0].files, 86400)
    _backdate(acts[1].files, 3600)
    ev = cache.enforce_limit(2 * one + 10)
    assert ev.removed == 1 and ev.total <= 2 * one + 10
    left = {e.files[0].name for e in cache.scan() if e.kind == "activations"}
    assert acts[0].files[0].name not in left and acts[1].files[0].name in left
    # A hit renews an entry: the hour-old one is used again, so the next eviction takes nothing
    # of this run (both are protected), even over the budget.
    extract_activations(model, digest, _crops(6, 11), _shas(6, 11), ["layer1"], PRE, label="tiny")
    ev = cache.enforce_limit(one // 2)
    assert ev.removed == 0 and ev.total > one // 2


def test_cache_cli_info_limit_and_clear(audited, capsys):
    model, digest = audited
    extract_activations(model, digest, _crops(4, 20), _shas(4, 20), ["layer1", "embedding"], PRE, form="pooled",
                        label="mobilefacenet")
    assert main(["cache", "limit"]) == 0
    assert "cache limit 20.0 GB" in capsys.readouterr().out
    assert main(["cache", "limit", "1.5GiB"]) == 0
    assert cache.cache_limit() == int(1.5 * 1024**3)
    assert "limit = 1610612736" in cache.settings_path().read_text()
    assert main(["cache", "limit", "lots"]) == 2
    capsys.readouterr()
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert str(cache.cache_root()) in out and "of limit 1.6 GB" in out
    assert "pooled of 4 faces in 1 set(s), model mobilefacenet (weights " in out and "taps embedding,layer1" in out
    assert main(["cache", "info", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total"] > 0 and doc["groups"][0]["kind"] == "activations"
    assert main(["cache", "clear", "activations"]) == 0
    assert "removed 1 cache entries" in capsys.readouterr().out
    assert not any(e.kind == "activations" for e in cache.scan())


def test_size_parsing():
    assert cache.parse_size("20GB") == 20 * 1000**3 and cache.parse_size("500 MiB") == 500 * 1024**2
    assert cache.parse_size("none") is None and cache.parse_size("0") == 0
    for bad in ("", "-1GB", "12 parsecs"):
        with pytest.raises(ValueError):
            cache.parse_size(bad)
    assert cache.format_size(1_500_000) == "1.5 MB" and cache.format_size(None) == "unlimited"
