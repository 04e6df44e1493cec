"""One audit against several pairs (issue 16): shared preparation, rows per (image, face, pair),
and the identity test adjusted across the pairs (Holm).

The pair built here audits the demo pairs' own face-recognition model, but its MINT model was
trained with a different set of people as members (three LFW people the demo model never saw),
so a person can be a member of it and of no demo pair, and the other way round."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mint_tui.session import AuditRequest, Exports, open_audit, run

#: Members of the pair built here: LFW people of the external (non-member) test split, none a member
#: of the demo pairs, none in the external data the pair is trained against.
OTHER_MEMBERS = ("Zhu_Rongji", "Jimmy_Carter", "George_Clooney")
DEMO = "demo-lfw-cnn-bank"
#: A member of the demo pairs' audited model (fr_train), photos from the MINT test half.
DEMO_MEMBER = "Silvio_Berlusconi"


def _split(lfw: Path, name: str) -> list[str]:
    return [ln for ln in (lfw / "splits" / f"{name}.txt").read_text().splitlines() if ln.strip()]


def _photos(lfw: Path, split: str, person: str, n: int | None = None) -> list[Path]:
    return [lfw / "images" / p for p in _split(lfw, split) if p.split("/")[0] == person][:n]


@pytest.fixture(scope="module")
def other_pair(lfw, tmp_path_factory) -> Path:
    """A pair on the demo audited model whose MINT members are OTHER_MEMBERS (trained on all their
    test-split photos) against the demo pairs' own external training data (about 1,100 people)."""
    from safetensors.torch import load as st_load

    from mint_tui.pairs.bundle import verify_bundle
    from mint_tui.paths import builtin_pairs_dir
    from mint_tui.train.build import PairRequest, build_pair
    from mint_tui.train.fit import MintFitConfig

    demo = verify_bundle(builtin_pairs_dir() / f"{DEMO}.mintpair", full=True, keep_weights=True)
    members = [p for person in OTHER_MEMBERS for p in _photos(lfw, "mint_test_external", person)]
    external = [lfw / "images" / p for p in _split(lfw, "mint_train_external")]
    out = tmp_path_factory.mktemp("other") / "other-people.mintpair"
    request = PairRequest(name="other-people", arch=demo.manifest.audited.arch,
                          arch_config=dict(demo.manifest.audited.config),
                          audited_state=st_load(demo.weights["audited"]), members=members, external=external,
                          out=out, fit=MintFitConfig(kind="mlp", taps=("layer4", "embedding"), seed=0),
                          training_data=f"LFW photos of {', '.join(OTHER_MEMBERS)}")
    path, _ = build_pair(request, log=lambda m: None)
    return path


@pytest.mark.slow
def test_a_member_of_one_pair_is_named_for_that_pair_only(lfw, other_pair, tmp_path):
    """Two pairs: a demo pair (the one with a member bank, the strongest evidence) and one whose
    members are other people. A person the demo model was trained on is named for the demo pair
    only; a member of the other pair for it only."""
    people = {DEMO_MEMBER: _photos(lfw, "mint_test_members", DEMO_MEMBER, 8),
              OTHER_MEMBERS[0]: _photos(lfw, "mint_test_external", OTHER_MEMBERS[0])}
    marks = [(str(p), name) for name, photos in people.items() for p in photos]
    request = AuditRequest([m[0] for m in marks], [DEMO, str(other_pair)], people=marks)
    audit = open_audit(request)
    assert [p.name for p in audit.pairs] == [DEMO, "other-people"]
    outcome = run(audit, Exports({"json": str(tmp_path / "out.json")}))
    verdicts = {(r.name, r.pair): r.verdict for r in outcome.identities}
    assert verdicts == {(DEMO_MEMBER, DEMO): "member", (DEMO_MEMBER, "other-people"): "not-shown",
                        (OTHER_MEMBERS[0], DEMO): "not-shown",
                        (OTHER_MEMBERS[0], "other-people"): "member"}
    assert all(r.tested_pairs == 2 and r.p_adjusted >= r.p_conditional for r in outcome.identities)
    doc = json.loads((tmp_path / "out.json").read_text())
    assert [p["name"] for p in doc["pairs"]] == [DEMO, "other-people"]
    assert "pair" not in doc  # several pairs: no one pair stands for the audit
    assert {(d["name"], d["pair"]): d["verdict"] for d in doc["identities"]} == verdicts
    assert all({"p_value", "p_adjusted"} <= set(d) for d in doc["identities"])
    # one row per (image, face, pair), each naming its pair and bundle
    assert len(doc["results"]) == 2 * len(marks)
    sha = {p["name"]: p["bundle_sha256"] for p in doc["pairs"]}
    assert all(r["pair_sha256"] == sha[r["pair"]] for r in doc["results"])


# ---------------------------------------------------------------- several pairs, small and fast
@pytest.fixture
def three_pairs(tmp_path, tiny_pair_bundle) -> list[Path]:
    """Two working pairs (random weights, distinct) and, between them, a bundle cut in half."""
    from conftest import TINY_AUDITED_CONFIG
    from random_pair import make_random_pair

    other = make_random_pair(tmp_path / "tiny-other.mintpair", name="tiny-other", seed=1,
                             audited_config=TINY_AUDITED_CONFIG)
    broken = tmp_path / "broken.mintpair"
    data = tiny_pair_bundle.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    return [tiny_pair_bundle, broken, other]


def test_one_broken_pair_among_three_leaves_the_other_two_audited(three_pairs, tmp_path, capsys):
    from mint_tui.cli import main
    from mint_tui.paths import samples_dir

    photos = sorted(str(p) for p in samples_dir().glob("Hugo_Chavez/*.jpg"))[:2]
    out = tmp_path / "out.json"
    rc = main(["audit", *photos, "--pair", ",".join(map(str, three_pairs)), "--device", "cpu", "--json", str(out)])
    err = capsys.readouterr().err
    assert rc == 0
    left_out = [ln for ln in err.splitlines() if "left out" in ln]
    assert len(left_out) == 1 and "broken.mintpair" in left_out[0]
    doc = json.loads(out.read_text())
    assert [p["name"] for p in doc["pairs"]] == ["tiny-test", "tiny-other"]
    assert doc["pairs_failed"][0]["pair"].endswith("broken.mintpair")
    assert [(r["path"], r["pair"]) for r in doc["results"]] == [(p, n) for p in photos for n in ("tiny-test", "tiny-other")]
    # two pairs' scores of the same face differ: each pair really scored it
    assert doc["results"][0]["score"] != doc["results"][1]["score"]


def test_csv_and_json_lines_rows_name_their_pair(three_pairs, tmp_path, capsys):
    import csv

    from mint_tui.cli import main
    from mint_tui.fileio import file_sha256
    from mint_tui.paths import samples_dir
    from mint_tui.results import read_results

    good = [three_pairs[0], three_pairs[2]]
    shas = {"tiny-test": file_sha256(good[0]), "tiny-other": file_sha256(good[1])}
    photos = [str(p) for p in sorted(samples_dir().glob("*/*_0001.jpg"))]
    broken_image = tmp_path / "broken.jpg"
    broken_image.write_bytes(b"not an image")
    out_csv, out_jsonl = tmp_path / "r.csv", tmp_path / "r.jsonl"
    rc = main(["audit", *photos, str(broken_image), "--pair", ",".join(map(str, good)), "--device", "cpu",
               "--csv", str(out_csv), "--jsonl", str(out_jsonl)])
    assert rc == 0
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 2 * (len(photos) + 1)
    assert {r["pair"] for r in rows} == {"tiny-test", "tiny-other"}
    assert all(r["pair_sha256"] == shas[r["pair"]] for r in rows)
    assert [r["verdict"] for r in rows[-2:]] == ["error", "error"]  # a broken image: one row per pair
    lines = [json.loads(ln) for ln in out_jsonl.read_text().splitlines()]
    assert [p["name"] for p in lines[0]["pairs"]] == ["tiny-test", "tiny-other"]
    assert [(r["path"], r["pair"]) for r in lines[1:-1]] == [(r["path"], r["pair"]) for r in rows]
    header, back = read_results(out_jsonl)
    assert [r.pair_sha256 for r in back] == [r["pair_sha256"] for r in rows]


def test_pairs_with_the_same_preprocessing_share_one_preparation(three_pairs, monkeypatch):
    """Each image is read, decoded, detected and aligned once for two pairs of the same preprocessing."""
    from mint_tui.audit import run_audit
    from mint_tui.faces import prepare
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.paths import samples_dir

    calls = []
    real = prepare.ImagePreparer.__call__
    monkeypatch.setattr(prepare.ImagePreparer, "__call__",
                        lambda self, path, *args: calls.append(path) or real(self, path, *args))
    photos = sorted(samples_dir().glob("*/*.jpg"))[:3]
    pairs = [load_pair(three_pairs[0]), load_pair(three_pairs[2])]
    rows = list(run_audit(photos, pairs))
    assert sorted(calls) == sorted(photos)
    assert [(r.path, r.pair) for r in rows] == [(str(p), n) for p in photos for n in ("tiny-test", "tiny-other")]


@pytest.mark.slow
def test_report_of_several_pairs_opens_with_the_matrix_then_one_section_per_pair(tmp_path, capsys):
    import re

    from mint_tui.cli import main
    from mint_tui.paths import samples_dir

    out, html_path = tmp_path / "samples.json", tmp_path / "report.html"
    pairs = "demo-lfw-cnn-bank,demo-lfw-cnn"
    assert main(["audit", str(samples_dir()), "--pair", pairs, "--group-by", "folder", "--device", "cpu",
                 "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    cell = {(d["name"], d["pair"]): d for d in doc["identities"]}
    assert main(["report", str(out), "--html", str(html_path)]) == 0
    page = html_path.read_text()
    summary = page[page.index('<section id="summary">'):page.index('id="pair-part-1"')]
    for (person, pair), d in cell.items():  # every (person, pair) cell with its adjusted p-value
        row = summary[summary.index(f"<td>{person}</td>"):]
        row = row[:row.index("</tr>")]
        assert f"p<sub>adj</sub> {d['p_adjusted']:.4f}" in row
    assert cell[("Hugo_Chavez", "demo-lfw-cnn-bank")]["verdict"] == "member"
    # one section per pair, in order, each with its card summary and member-data line
    starts = [page.index(f'id="pair-part-{k}"') for k in (1, 2)]
    assert starts[0] < starts[1] < page.index('id="provenance"')
    for k, entry in enumerate(doc["pairs"], start=1):
        section = page[starts[k - 1]:(starts + [page.index('id="provenance"')])[k]]
        assert f"[{entry['name']}]" in section and entry["bundle_sha256"] in section
        assert "<dt>member data</dt>" in section and "<dt>audited model</dt>" in section
        stored = "face embeddings of members" in section[:section.index('id="identities')]
        assert stored == (entry["name"] == "demo-lfw-cnn-bank")  # the bank pair says so in its section
        assert f'id="faces-{k}"' in section and f'id="identities-{k}"' in section
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
