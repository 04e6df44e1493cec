"""Tests for mint_tui.pairs (manifest, bundle, store) and mint_tui.paths."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import pickle
import stat
import sys
import tomllib
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tomli_w
import torch

from mint_tui import paths
from mint_tui.pairs.bundle import inspect_bundle, read_manifest, write_bundle
from mint_tui.pairs.loaded import load_pair
from mint_tui.pairs.manifest import manifest_to_dict, manifest_to_toml, ManifestError, parse_manifest, verdict
from mint_tui.pairs.store import BuiltinPairError, PairExistsError, PairNotFoundError, PairStore
from mint_tui.pairs.verify import BundleError
from random_pair import make_random_pair
from mint_tui.pairs.manifest import Calibration

SMALL_CFG = {"width": 0.25, "embedding_size": 32}


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MINT_TUI_HOME", str(tmp_path / "home"))


# ---------------------------------------------------------------------------
# paths
# ---------------------------------------------------------------------------


def test_paths_follow_home_override(tmp_path):
    home = tmp_path / "home"
    assert paths.user_data_dir() == home / "data"
    assert paths.user_config_dir() == home / "config"
    assert paths.user_cache_dir() == home / "cache"
    assert paths.pairs_dir() == home / "data" / "pairs"
    assert not home.exists()  # nothing is created by asking


def test_assets_dir_source_and_frozen(monkeypatch, tmp_path):
    assert paths.assets_dir() == Path(paths.__file__).resolve().parent / "assets"
    assert (paths.detector_dir() / "SHA256SUMS").is_file()
    assert paths.builtin_pairs_dir() == paths.assets_dir() / "pairs"
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.assets_dir() == tmp_path / "mint_tui" / "assets"
    assert paths.detector_dir() == tmp_path / "mint_tui" / "assets" / "detector"


# ---------------------------------------------------------------------------
# manifest
# ---------------------------------------------------------------------------

VALID = """
schema_version = 1

[pair]
name = "demo-pair"
title = "Demo pair"
description = "A pair for tests."

[audited]
arch = "mobilefacenet"
weights = "audited.safetensors"
sha256 = "%s"

[audited.config]
embedding_size = 32
width = 0.25

[audited.preprocess]
size = [112, 112]
color = "RGB"
mean = [0.5, 0.5, 0.5]
std = [0.5, 0.5, 0.5]
template = "arcface112"

[mint]
kind = "mlp"
taps = ["layer1", "embedding"]
weights = "mint.safetensors"
sha256 = "%s"

[mint.config]

[calibration]
threshold = 0.5
inconclusive = [0.4, 0.6]
on = "held-out calibration split"

[[metrics]]
name = "accuracy"
value = 0.75
data = "test split"
n = 200

[[metrics]]
name = "roc_auc"
value = 0.8
data = "test split"

[provenance]
training_data = "synthetic"
created = "2024-05-01T12:00:00Z"
tool_version = "mint-tui 0.1.0"
notes = "none"
license = "MIT"

[provenance.splits]
members = "ids 0-99"
non_members = "ids 100-199"
""" % ("a" * 64, "b" * 64)


def _doc() -> dict:
    return tomllib.loads(VALID)


def _errors_for(mutate) -> list[str]:
    doc = _doc()
    mutate(doc)
    with pytest.raises(ManifestError) as info:
        parse_manifest(tomli_w.dumps(doc))
    assert str(info.value)
    return info.value.errors


def test_manifest_round_trip():
    m = parse_manifest(VALID)
    assert m.pair.name == "demo-pair"
    assert m.audited.arch == "mobilefacenet"
    assert m.audited.config == {"embedding_size": 32, "width": 0.25}
    assert m.audited.preprocess.size == (112, 112)
    assert m.mint.taps == ("layer1", "embedding")
    assert m.calibration.inconclusive == (0.4, 0.6)
    assert [x.name for x in m.metrics] == ["accuracy", "roc_auc"]
    assert m.metrics[0].n == 200 and m.metrics[1].n is None
    assert m.provenance.splits == {"members": "ids 0-99", "non_members": "ids 100-199"}
    again = parse_manifest(manifest_to_toml(m))
    assert again == m
    doc = manifest_to_dict(m)
    assert json.loads(json.dumps(doc)) == doc
    assert parse_manifest(tomli_w.dumps(doc)) == m


def test_manifest_optional_parts_default():
    doc = _doc()
    del doc["metrics"], doc["calibration"]["inconclusive"], doc["mint"]["config"]
    del doc["provenance"]["notes"], doc["provenance"]["splits"], doc["provenance"]["license"]
    m = parse_manifest(tomli_w.dumps(doc))
    assert m.metrics == ()
    assert m.calibration.inconclusive == (0.5, 0.5)
    assert m.mint.config == {}
    assert m.mint.mirror is False  # pairs made before the mirror average score the crop alone
    assert m.provenance.notes is None and m.provenance.splits == {}
    assert parse_manifest(manifest_to_toml(m)) == m


def _set(section, key, value):
    def mutate(doc):
        target = doc
        for part in section:
            target = target[part]
        target[key] = value

    return mutate


def _delete(section, key):
    def mutate(doc):
        target = doc
        for part in section:
            target = target[part]
        del target[key]

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        # wrong types
        (_set(["pair"], "title", 5), "pair.title: expected a string, got integer"),
        (_set(["calibration"], "threshold", True), "calibration.threshold: expected a number, got boolean"),
        (_set(["metrics", 0], "n", True), "metrics[0].n: expected an integer, got boolean"),
        (_set(["metrics", 0], "n", 2.0), "metrics[0].n: expected an integer, got float"),
        (_set(["audited"], "config", "x"), "audited.config: expected a table, got string"),
        (_set(["audited", "config"], "depth", 3), "audited.config.depth: unknown key for architecture"),
        (_set(["audited", "preprocess"], "mean", [0.5, 0.5]), "audited.preprocess.mean: expected 3 numbers, got 2"),
        (_set(["audited", "preprocess"], "mean", [0.5, "a", 0.5]), "audited.preprocess.mean[1]: expected a number"),
        (_set(["audited", "preprocess"], "std", [0.5, 0.0, 0.5]), "audited.preprocess.std[1]: expected a number > 0"),
        (_set(["audited", "preprocess"], "size", [112, 96]), "audited.preprocess.size"),
        (_set(["audited", "preprocess"], "color", "RGBA"), "audited.preprocess.color: expected one of RGB, BGR"),
        (_set(["audited", "preprocess"], "template", "x"), "audited.preprocess.template"),
        (_set(["provenance"], "created", "yesterday"), "provenance.created: expected an RFC 3339"),
        (_set(["provenance", "splits"], "members", 3), "provenance.splits.members: expected a string"),
        (_set(["audited"], "weights", "../x.safetensors"), "audited.weights: expected a plain file name"),
        (_set(["mint"], "mirror", "yes"), "mint.mirror: expected true or false, got string"),
        # missing keys / tables
        (_delete(["mint"], "kind"), "mint.kind: missing key"),
        (_delete(["audited"], "preprocess"), "audited.preprocess: missing table"),
        (_delete([], "provenance"), "provenance: missing table"),
        (_delete(["calibration"], "on"), "calibration.on: missing key"),
        # unknown keys
        (_set([], "extra", 1), "extra: unknown key"),
        (_set(["audited"], "extra", 1), "audited.extra: unknown key"),
        (_set(["metrics", 1], "foo", "bar"), "metrics[1].foo: unknown key"),
        # values
        (_set(["pair"], "name", "Bad Name"), "pair.name: expected a slug"),
        (_set(["pair"], "name", "-x"), "pair.name: expected a slug"),
        (_set(["audited"], "sha256", "abc"), "audited.sha256: expected 64 hexadecimal digits"),
        (_set(["mint"], "sha256", "g" * 64), "mint.sha256: expected 64 hexadecimal digits"),
        (_set(["audited"], "arch", "resnet9000"), "audited.arch: unknown architecture 'resnet9000'"),
        (_set(["mint"], "kind", "svm"), "mint.kind: expected one of"),
        (_set(["mint"], "taps", ["layer1", "fc7"]), "mint.taps[1]: architecture 'mobilefacenet' has no tap 'fc7'"),
        (_set(["mint"], "taps", ["layer1", "layer1"]), "mint.taps[1]: duplicate tap 'layer1'"),
        (_set(["mint"], "taps", []), "mint.taps: must name at least one tap"),
        (_set(["calibration"], "threshold", 1.5), "calibration.threshold: expected a probability in [0, 1]"),
        (_set(["calibration"], "inconclusive", [0.6, 0.7]), "calibration.inconclusive: band [0.6, 0.7] must contain"),
        (_set(["calibration"], "inconclusive", [0.7, 0.3]), "calibration.inconclusive: low 0.7 is above high 0.3"),
        (_set(["calibration"], "inconclusive", [-0.1, 0.6]), "calibration.inconclusive: expected probabilities"),
        (_set([], "schema_version", 2), "schema_version: unsupported version 2"),
        (_set([], "schema_version", "1"), "schema_version: expected an integer, got string"),
        (_delete([], "schema_version"), "schema_version: missing key"),
    ],
)
def test_manifest_defects_name_the_field(mutate, expected):
    errors = _errors_for(mutate)
    assert any(expected in e for e in errors), errors


def test_manifest_collects_every_defect():
    def mutate(doc):
        doc["pair"]["name"] = "NO"
        doc["audited"]["preprocess"]["mean"] = [1, 2]
        doc["mint"]["taps"] = ["nope"]
        doc["provenance"]["bogus"] = 1
        del doc["calibration"]["threshold"]

    errors = _errors_for(mutate)
    for field in ("pair.name", "audited.preprocess.mean", "mint.taps[0]", "provenance.bogus",
                  "calibration.threshold"):
        assert any(e.startswith(field + ":") for e in errors), (field, errors)


def test_manifest_native_toml_datetime_is_rejected():
    text = VALID.replace('created = "2024-05-01T12:00:00Z"', "created = 2024-05-01T12:00:00Z")
    with pytest.raises(ManifestError, match="provenance.created: expected a string"):
        parse_manifest(text)


def test_manifest_bad_toml():
    with pytest.raises(ManifestError, match="not valid TOML"):
        parse_manifest("schema_version = = 1")


def test_verdict_band_and_plain_threshold():
    band = Calibration(threshold=0.5, inconclusive=(0.4, 0.6), on="x")
    assert verdict(0.6, band) == "member"
    assert verdict(0.95, band) == "member"
    assert verdict(0.59, band) == "inconclusive"
    assert verdict(0.4, band) == "inconclusive"
    assert verdict(0.39, band) == "non-member"
    assert verdict(float("nan"), band) == "inconclusive"
    plain = Calibration(threshold=0.5, inconclusive=(0.5, 0.5), on="x")
    assert verdict(0.5, plain) == "member"
    assert verdict(0.4999, plain) == "non-member"


# ---------------------------------------------------------------------------
# bundle
# ---------------------------------------------------------------------------


def _entries(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _write_zip(dest: Path, entries) -> Path:
    """Write ``entries`` (list of (name, bytes)) as a plain zip."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        with zipfile.ZipFile(dest, "w") as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return dest


def _with_manifest_edit(entries: dict[str, bytes], edit) -> dict[str, bytes]:
    doc = tomllib.loads(entries["pair.toml"].decode())
    edit(doc)
    out = dict(entries)
    out["pair.toml"] = tomli_w.dumps(doc).encode()
    return out


@pytest.mark.slow
def test_bundle_round_trip_scores_match_in_memory(tmp_path):
    from mint_tui.models.audited import build_audited
    from mint_tui.models.mint import build_mint, mint_config_defaults
    from mint_tui.models.taps import TapExtractor, tap_shapes

    torch.manual_seed(1)
    taps = ("layer2", "embedding")
    audited = build_audited("mobilefacenet", SMALL_CFG).eval()
    shapes = tap_shapes(audited, list(taps), (112, 112))
    mint = build_mint("mlp", shapes, {}).eval()
    # Non-trivial BN statistics so that eval mode matters.
    with torch.no_grad():
        for mod in audited.modules():
            if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.5, 1.5)

    template = parse_manifest(VALID)
    manifest = dataclasses.replace(
        template,
        mint=dataclasses.replace(template.mint, taps=taps, config=mint_config_defaults("mlp")),
        audited=dataclasses.replace(template.audited, config=dict(SMALL_CFG)),
    )
    path = write_bundle(tmp_path / "rt.mintpair", manifest, audited.state_dict(), mint.state_dict())
    assert sorted(_entries(path)) == ["audited.safetensors", "mint.safetensors", "pair.toml"]
    assert [p.name for p in tmp_path.iterdir()] == ["rt.mintpair"]  # no temp file left

    inspected = inspect_bundle(path)
    assert inspected.mint.taps == taps
    assert inspected.audited.sha256 == hashlib.sha256(_entries(path)["audited.safetensors"]).hexdigest()
    assert read_manifest(path) == inspected

    pair = load_pair(path)
    assert pair.manifest == inspected
    assert pair.taps == taps
    assert pair.bundle_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not pair.audited.training and not pair.mint.training

    x = torch.randn(3, 3, 112, 112)
    probs, emb = pair.score_with_embeddings(x)
    assert probs.shape == (3,) and probs.dtype == np.float32
    assert np.all((probs >= 0) & (probs <= 1))
    assert emb.shape == (3, 32)
    with torch.inference_mode():
        feats = TapExtractor(audited, list(taps))(x)
        expected = torch.sigmoid(mint(feats)).numpy()
        expected_emb = audited(x).numpy()
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(emb, expected_emb, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(pair.score(x), probs)

    with pytest.raises(ValueError, match="expected a batch of shape"):
        pair.score(torch.randn(1, 3, 64, 64))


def test_random_pair_is_labelled_and_deterministic(tmp_path, tiny_pair_bundle):
    m = inspect_bundle(tiny_pair_bundle)
    assert m.pair.name == "tiny-test"
    assert "random weights, for tests only" in m.pair.title
    assert "random weights, for tests only" in m.pair.description
    other = make_random_pair(tmp_path / "again.mintpair", audited_config=SMALL_CFG)
    a, b = _entries(tiny_pair_bundle), _entries(other)
    assert a["audited.safetensors"] == b["audited.safetensors"]
    assert a["mint.safetensors"] == b["mint.safetensors"]


def test_tampered_weights_refused(tmp_path, tiny_pair_bundle):
    entries = _entries(tiny_pair_bundle)
    data = bytearray(entries["audited.safetensors"])
    data[-1] ^= 0xFF
    entries["audited.safetensors"] = bytes(data)
    bad = _write_zip(tmp_path / "bad.mintpair", entries.items())
    with pytest.raises(BundleError, match=r"SHA-256 mismatch for 'audited.safetensors'"):
        inspect_bundle(bad)
    with pytest.raises(BundleError, match="SHA-256 mismatch"):
        load_pair(bad)


def test_flipped_byte_in_archive_refused(tmp_path, tiny_pair_bundle):
    raw = bytearray(tiny_pair_bundle.read_bytes())
    entries = _entries(tiny_pair_bundle)
    pos = raw.find(entries["mint.safetensors"][-64:])
    assert pos > 0
    raw[pos + 10] ^= 0x01
    bad = tmp_path / "flipped.mintpair"
    bad.write_bytes(bytes(raw))
    with pytest.raises(BundleError, match=r"'mint.safetensors' is corrupt: Bad CRC-32"):
        inspect_bundle(bad)


def test_wrong_sha_in_manifest_refused(tmp_path, tiny_pair_bundle):
    entries = _with_manifest_edit(
        _entries(tiny_pair_bundle), lambda d: d["mint"].__setitem__("sha256", "0" * 64)
    )
    bad = _write_zip(tmp_path / "bad.mintpair", entries.items())
    with pytest.raises(BundleError, match=r"SHA-256 mismatch for 'mint.safetensors'"):
        inspect_bundle(bad)

    entries = _with_manifest_edit(_entries(tiny_pair_bundle), lambda d: d["mint"].__setitem__("sha256", "xyz"))
    bad = _write_zip(tmp_path / "bad2.mintpair", entries.items())
    with pytest.raises(BundleError, match=r"mint.sha256: expected 64 hexadecimal digits"):
        inspect_bundle(bad)


def test_missing_files_refused(tmp_path, tiny_pair_bundle):
    with pytest.raises(BundleError, match="no such file"):
        inspect_bundle(tmp_path / "nope.mintpair")
    entries = _entries(tiny_pair_bundle)
    no_mint = {k: v for k, v in entries.items() if k != "mint.safetensors"}
    with pytest.raises(BundleError, match=r"missing mint weights file 'mint.safetensors'"):
        inspect_bundle(_write_zip(tmp_path / "a.mintpair", no_mint.items()))
    no_manifest = {k: v for k, v in entries.items() if k != "pair.toml"}
    with pytest.raises(BundleError, match=r"missing pair.toml"):
        inspect_bundle(_write_zip(tmp_path / "b.mintpair", no_manifest.items()))


def test_not_a_zip_refused(tmp_path):
    junk = tmp_path / "junk.mintpair"
    junk.write_bytes(b"hello, I am not a zip" * 10)
    with pytest.raises(BundleError, match="not a zip archive"):
        inspect_bundle(junk)
    with pytest.raises(BundleError, match="is a directory"):
        inspect_bundle(tmp_path)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.txt", r"escapes the bundle"),
        ("a/../../evil.txt", r"escapes the bundle"),
        ("/etc/evil", r"absolute path"),
        ("a\\b.txt", r"backslash"),
        ("C:evil.txt", r"drive letter"),
    ],
)
def test_unsafe_entry_names_refused(tmp_path, tiny_pair_bundle, name, why):
    entries = list(_entries(tiny_pair_bundle).items()) + [(name, b"x")]
    bad = _write_zip(tmp_path / "bad.mintpair", entries)
    with pytest.raises(BundleError, match=why):
        inspect_bundle(bad)


def test_symlink_entry_refused(tmp_path, tiny_pair_bundle):
    entries = _entries(tiny_pair_bundle)
    bad = tmp_path / "link.mintpair"
    with zipfile.ZipFile(bad, "w") as zf:
        for name, data in entries.items():
            if name == "mint.safetensors":
                info = zipfile.ZipInfo(name)
                info.create_system = 3
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(info, b"/etc/passwd")
            else:
                zf.writestr(name, data)
    with pytest.raises(BundleError, match="symbolic link"):
        inspect_bundle(bad)


def test_duplicate_and_unexpected_entries_refused(tmp_path, tiny_pair_bundle):
    entries = _entries(tiny_pair_bundle)
    dup = list(entries.items()) + [("pair.toml", entries["pair.toml"])]
    with pytest.raises(BundleError, match=r"duplicate entry 'pair.toml'"):
        inspect_bundle(_write_zip(tmp_path / "dup.mintpair", dup))
    extra = list(entries.items()) + [("README.txt", b"hi")]
    with pytest.raises(BundleError, match=r"unexpected entries in bundle: 'README.txt'"):
        inspect_bundle(_write_zip(tmp_path / "extra.mintpair", extra))
    with pytest.raises(BundleError, match="directory entry"):
        inspect_bundle(_write_zip(tmp_path / "dir.mintpair", list(entries.items()) + [("sub/", b"")]))


def test_compression_bomb_refused(tmp_path, tiny_pair_bundle):
    entries = _entries(tiny_pair_bundle)
    bad = tmp_path / "bomb.mintpair"
    with zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            if name == "mint.safetensors":
                data = bytes(4 * 1024 * 1024)
            zf.writestr(name, data)
    with pytest.raises(BundleError, match="compression ratio"):
        inspect_bundle(bad)


@pytest.fixture
def no_weight_loading(monkeypatch):
    """Make any attempt to deserialise weights fail loudly."""
    import safetensors.torch

    def boom(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("weights were loaded")

    monkeypatch.setattr(safetensors.torch, "load", boom)
    monkeypatch.setattr(safetensors.torch, "load_file", boom)
    monkeypatch.setattr(torch, "load", boom)
    monkeypatch.setattr(pickle, "loads", boom)
    monkeypatch.setattr(pickle, "load", boom)


@pytest.mark.parametrize("payload_kind", ["pickle", "torchscript-zip", "garbage", "empty"])
def test_non_safetensors_weights_refused_before_loading(tmp_path, tiny_pair_bundle, payload_kind,
                                                        no_weight_loading):
    if payload_kind == "pickle":
        payload = pickle.dumps({"weight": [1.0, 2.0, 3.0]})
    elif payload_kind == "torchscript-zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("archive/data.pkl", pickle.dumps({"a": 1}))
        payload = buf.getvalue()
    elif payload_kind == "garbage":
        payload = b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all"
    else:
        payload = b""
    sha = hashlib.sha256(payload).hexdigest()
    entries = _with_manifest_edit(_entries(tiny_pair_bundle), lambda d: d["mint"].__setitem__("sha256", sha))
    entries["mint.safetensors"] = payload
    bad = _write_zip(tmp_path / "pickle.mintpair", entries.items())
    with pytest.raises(BundleError, match=r"'mint.safetensors' \(mint weights\) is not a safetensors file"):
        inspect_bundle(bad)
    with pytest.raises(BundleError, match="is not a safetensors file"):
        load_pair(bad)


def test_shape_mismatch_refused_naming_key(tmp_path, tiny_pair_bundle, no_weight_loading):
    from mint_tui.models.audited import build_audited

    m = read_manifest(tiny_pair_bundle)
    state = build_audited("mobilefacenet", dict(m.audited.config)).state_dict()
    mint_entries = _entries(tiny_pair_bundle)
    key = "fc.weight"
    assert key in state
    state[key] = state[key][:-1].clone()
    dropped = next(k for k in state if k.endswith("running_var"))
    del state[dropped]
    from safetensors.torch import save

    audited_bytes = save({k: v.contiguous() for k, v in state.items()})
    entries = _with_manifest_edit(
        mint_entries,
        lambda d: d["audited"].__setitem__("sha256", hashlib.sha256(audited_bytes).hexdigest()),
    )
    entries["audited.safetensors"] = audited_bytes
    bad = _write_zip(tmp_path / "shape.mintpair", entries.items())
    with pytest.raises(BundleError, match="do not match the declared architecture") as info:
        inspect_bundle(bad)
    assert f"shape mismatch for '{key}'" in str(info.value)
    assert f"missing tensors '{dropped}'" in str(info.value)


def test_mint_shape_mismatch_via_write_bundle(tmp_path, tiny_pair_bundle):
    pair = load_pair(tiny_pair_bundle)
    mint_state = {k: v.clone() for k, v in pair.mint.state_dict().items()}
    first = next(iter(mint_state))
    mint_state[first] = torch.zeros(*[d + 1 for d in mint_state[first].shape])
    with pytest.raises(BundleError, match=rf"MINT \(mlp\) weights do not match.*'{first}'"):
        write_bundle(tmp_path / "w.mintpair", pair.manifest, pair.audited.state_dict(), mint_state)
    assert list(tmp_path.iterdir()) == [tiny_pair_bundle]  # nothing left behind
    # verify=False writes it anyway (for crafting test inputs); inspection refuses it.
    out = write_bundle(tmp_path / "w.mintpair", pair.manifest, pair.audited.state_dict(), mint_state,
                       verify=False)
    with pytest.raises(BundleError, match=first):
        inspect_bundle(out)


def test_manifest_errors_reported_by_bundle(tmp_path, tiny_pair_bundle):
    entries = _with_manifest_edit(_entries(tiny_pair_bundle), lambda d: d["mint"].__setitem__("taps", ["bogus"]))
    bad = _write_zip(tmp_path / "m.mintpair", entries.items())
    with pytest.raises(BundleError, match=r"mint.taps\[0\]: architecture 'mobilefacenet' has no tap 'bogus'"):
        inspect_bundle(bad)


# ---------------------------------------------------------------------------
# store
# ---------------------------------------------------------------------------


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())} if directory.exists() else {}


@pytest.fixture
def store(tmp_path) -> PairStore:
    return PairStore(builtin_dir=tmp_path / "no-builtins")


def test_store_lifecycle(tmp_path, store, tiny_pair_bundle):
    assert store.root == tmp_path / "home" / "data" / "pairs"
    assert store.list() == [] and store.default_pair_name() is None

    entry = store.install(tiny_pair_bundle)
    assert entry.name == "tiny-test" and not entry.builtin
    assert entry.path == store.root / "tiny-test.mintpair"
    assert entry.path.read_bytes() == tiny_pair_bundle.read_bytes()

    listed = store.list()
    assert [(e.name, e.builtin, e.error) for e in listed] == [("tiny-test", False, None)]
    assert listed[0].manifest.pair.title.startswith("tiny-test")
    assert store.get("tiny-test").path == entry.path
    assert store.default_pair_name() == "tiny-test"
    assert store.verify("tiny-test").pair.name == "tiny-test"

    out = store.export("tiny-test", tmp_path / "exported")
    assert out == tmp_path / "exported"
    assert out.read_bytes() == tiny_pair_bundle.read_bytes()
    with pytest.raises(FileExistsError):
        store.export("tiny-test", out)
    (tmp_path / "outdir").mkdir()
    assert store.export("tiny-test", tmp_path / "outdir") == tmp_path / "outdir" / "tiny-test.mintpair"

    with pytest.raises(PairNotFoundError, match=r"no pair named 'other' \(known pairs: tiny-test\)"):
        store.get("other")
    store.remove("tiny-test")
    assert store.list() == []
    with pytest.raises(PairNotFoundError):
        store.remove("tiny-test")
    with pytest.raises(PairNotFoundError):
        store.remove("../x")


@pytest.mark.slow
def test_store_install_without_replace_keeps_old(tmp_path, store, tiny_pair_bundle):
    store.install(tiny_pair_bundle)
    before = _snapshot(store.root)
    other = make_random_pair(tmp_path / "other.mintpair", seed=5, audited_config=SMALL_CFG)
    with pytest.raises(PairExistsError, match="already installed"):
        store.install(other)
    assert _snapshot(store.root) == before
    entry = store.install(other, replace=True)
    assert entry.path.read_bytes() == other.read_bytes()


def test_store_failed_install_leaves_store_unchanged(tmp_path, store, tiny_pair_bundle):
    store.install(tiny_pair_bundle)
    before = _snapshot(store.root)
    entries = _entries(tiny_pair_bundle)
    data = bytearray(entries["audited.safetensors"])
    data[100] ^= 0xFF
    entries["audited.safetensors"] = bytes(data)
    entries = _with_manifest_edit(entries, lambda d: d["pair"].__setitem__("name", "corrupt"))
    bad = _write_zip(tmp_path / "corrupt.mintpair", entries.items())
    with pytest.raises(BundleError, match="SHA-256 mismatch"):
        store.install(bad)
    junk = tmp_path / "junk.mintpair"
    junk.write_bytes(b"junk")
    with pytest.raises(BundleError):
        store.install(junk)
    assert _snapshot(store.root) == before
    assert [e.name for e in store.list()] == ["tiny-test"]


def test_store_lists_corrupt_file_with_error(store, tiny_pair_bundle):
    store.install(tiny_pair_bundle)
    (store.root / "broken.mintpair").write_bytes(b"not a zip")
    entries = {e.name: e for e in store.list()}
    assert entries["broken"].error and "not a zip" in entries["broken"].error
    assert entries["broken"].manifest is None
    assert entries["tiny-test"].error is None
    assert store.get("broken").error


def test_store_builtins(tmp_path, tiny_pair_bundle):
    builtin_dir = tmp_path / "builtins"
    builtin_dir.mkdir()
    make_random_pair(builtin_dir / "demo-x.mintpair", name="demo-x", audited_config=SMALL_CFG)
    (builtin_dir / "zzz.mintpair").write_bytes(b"corrupt built-in")
    store = PairStore(builtin_dir=builtin_dir)
    store.install(tiny_pair_bundle)
    listed = store.list()
    assert [(e.name, e.builtin) for e in listed] == [("demo-x", True), ("zzz", True), ("tiny-test", False)]
    assert listed[1].error and listed[0].error is None
    assert store.default_pair_name() == "demo-x"
    with pytest.raises(BuiltinPairError):
        store.remove("demo-x")
    with pytest.raises(BuiltinPairError):
        store.install(builtin_dir / "demo-x.mintpair", replace=True)
    assert not (store.root / "demo-x.mintpair").exists()
