"""Member-derived data: a pair trained by default stores none and says so; a member bank is declared
in the manifest and shown wherever the pair is (pairs info, pairs install, the card); provenance
names split files relative to the data set, with their sha256, never the build machine's paths."""

from __future__ import annotations

import tomllib

import pytest
import tomli_w

from tests.conftest import TINY_AUDITED_CONFIG


def _mint_keys(path):
    """Every tensor name in the bundle's MINT weights."""
    import zipfile

    from safetensors.torch import load

    with zipfile.ZipFile(path) as zf:
        return set(load(zf.read("mint.safetensors")))


def test_bank_free_pair_declares_none_and_holds_no_member_tensor(tiny_pair_bundle, capsys):
    from mint_tui.cli import main
    from mint_tui.pairs.bundle import inspect_bundle
    from mint_tui.pairs.card import model_card

    manifest = inspect_bundle(tiny_pair_bundle)
    assert manifest.member_data.kind == "none" and manifest.member_data.count == 0
    assert not any("prototype" in k for k in _mint_keys(tiny_pair_bundle))
    assert "Member data     none" in model_card(manifest)
    assert main(["pairs", "install", str(tiny_pair_bundle)]) == 0
    assert "member data: none" in capsys.readouterr().out


def test_member_bank_is_declared_in_manifest_card_info_and_install(tmp_path, capsys):
    from mint_tui.cli import main
    from mint_tui.pairs.bundle import inspect_bundle
    from random_pair import make_random_pair

    path = make_random_pair(tmp_path / "banked.mintpair", name="banked", audited_config=TINY_AUDITED_CONFIG,
                            mint_config={"prototypes": 16})
    assert "prototype_branches.embedding.prototypes" in _mint_keys(path)
    manifest = inspect_bundle(path)
    assert (manifest.member_data.kind, manifest.member_data.count, manifest.member_data.taps) == (
        "embeddings", 16, ("embedding",))
    assert main(["pairs", "install", str(path)]) == 0
    out = capsys.readouterr().out
    assert "16 face embeddings of members" in out and "biometric" in out
    assert main(["pairs", "info", "banked"]) == 0
    out = capsys.readouterr().out
    assert "Member data     this file holds 16 face embeddings" in out and "can extract them" in out
    assert main(["pairs", "info", "banked", "--json"]) == 0
    assert '"kind": "embeddings"' in capsys.readouterr().out


def _doc(path):
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return tomllib.loads(zf.read("pair.toml").decode())


def test_declaration_must_match_what_the_mint_config_stores(tiny_pair_bundle):
    from mint_tui.pairs.manifest import ManifestError, parse_manifest

    doc = _doc(tiny_pair_bundle)
    assert doc["member_data"] == {"kind": "none", "count": 0, "taps": []}
    hidden = dict(doc, mint=dict(doc["mint"], config=dict(doc["mint"]["config"], prototypes=16)))
    with pytest.raises(ManifestError, match="member_data: declares none"):
        parse_manifest(tomli_w.dumps(hidden))  # a bank the declaration hides is refused
    declared = dict(hidden, member_data={"kind": "embeddings", "count": 16, "taps": ["embedding"]})
    assert parse_manifest(tomli_w.dumps(declared)).member_data.stored
    older = {k: v for k, v in hidden.items() if k != "member_data"}  # written before the declaration existed
    assert parse_manifest(tomli_w.dumps(older)).member_data.count == 16
    with pytest.raises(ManifestError, match="member_data.kind"):
        parse_manifest(tomli_w.dumps(dict(doc, member_data={"kind": "faces", "count": 0, "taps": []})))


def test_metric_intervals_and_unresolved_figures_round_trip(tiny_pair_bundle):
    from mint_tui.figures import metric_figure
    from mint_tui.pairs.manifest import ManifestError, parse_manifest

    doc = _doc(tiny_pair_bundle)
    doc["metrics"] = [{"name": "roc_auc", "value": 0.9, "low": 0.85, "high": 0.94, "data": "cal", "n": 700},
                      {"name": "tpr@0.1%fpr", "needs": 1000, "data": "cal", "n": 700}]
    metrics = parse_manifest(tomli_w.dumps(doc)).metrics
    assert [metric_figure(m) for m in metrics] == ["0.900 (95 % CI 0.850-0.940)", "n/a (needs >= 1000 non-members)"]
    doc["metrics"] = [{"name": "roc_auc", "value": 0.9, "needs": 10, "data": "cal"}]
    with pytest.raises(ManifestError, match="not both"):
        parse_manifest(tomli_w.dumps(doc))


def test_split_provenance_is_relative_to_the_data_set(tmp_path):
    import hashlib

    from mint_tui.train.data import split_provenance

    data = tmp_path / "lfw"
    (data / "splits").mkdir(parents=True)
    (data / "images").mkdir()
    members = data / "splits" / "m.txt"
    members.write_text("a/a_0001.jpg\n")
    prov = split_provenance({"members": members, "external": data / "images"}, data / "images")
    assert prov == {"members": "splits/m.txt", "members_sha256": hashlib.sha256(members.read_bytes()).hexdigest(),
                    "external": "images"}
    assert str(tmp_path) not in repr(prov)
