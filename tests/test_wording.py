"""What an auditor reads (issue 15): the CLI's words and exit statuses, the model card's metric names,
and what a `member` verdict says it means, from the pair's own manifest."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from mint_tui.cli import main

PHOTO = "AJ_Lamas/AJ_Lamas_0001.jpg"


# ------------------------------------------------------------------ 13: the command line
def test_one_result_is_singular_and_a_missing_path_does_not_exist(lfw, tiny_pair_bundle, tmp_path, capsys):
    rc = main(["audit", str(lfw / "images" / PHOTO), "--pair", str(tiny_pair_bundle)])
    out = capsys.readouterr().out
    assert rc == 0 and "\n1 result: " in out and "1 results" not in out
    rc = main(["audit", str(tmp_path / "nope"), "--pair", str(tiny_pair_bundle)])
    out = capsys.readouterr().out
    assert rc == 1 and "does not exist" in out and "moved or deleted" not in out


def test_no_face_scored_has_its_own_exit_status(tiny_pair_bundle, tmp_path, capsys):
    from mint_tui.faces.image import cv2

    cv2.imwrite(str(tmp_path / "blank.png"), np.full((100, 100, 3), 200, np.uint8))
    rc = main(["audit", str(tmp_path), "--pair", str(tiny_pair_bundle)])
    captured = capsys.readouterr()
    assert rc == 3 and "no face was found" in captured.err and "1 result: 1 no-face" in captured.out


def test_report_without_html_writes_beside_the_results(lfw, tiny_pair_bundle, tmp_path, capsys):
    out_json = tmp_path / "out.json"
    assert main(["audit", str(lfw / "images" / PHOTO), "--pair", str(tiny_pair_bundle), "--json", str(out_json)]) == 0
    capsys.readouterr()
    assert main(["report", str(out_json), "--pair", str(tiny_pair_bundle)]) == 0
    assert (tmp_path / "out.html").is_file()
    assert str(tmp_path / "out.html") in capsys.readouterr().err
    assert main(["report", "-"]) == 2
    assert "needs --html FILE, e.g." in capsys.readouterr().err


def test_an_unknown_command_lists_the_commands(capsys):
    assert main(["nope"]) == 2
    err = capsys.readouterr().err
    assert "'nope' is not a command" in err
    for command in ("audit", "pairs", "train", "eval", "report", "tui"):
        assert f"\n  {command} " in err


# ------------------------------------------------------------------ 12: the model card
def test_model_card_names_metrics_in_words_with_one_line_per_data_set():
    from mint_tui.pairs.card import model_card
    from mint_tui.pairs.store import PairStore

    entry = PairStore().get("demo-lfw-mlp")
    card = model_card(entry.manifest, entry.path, entry.builtin)
    assert "balanced accuracy" in card and "balanced_accuracy" not in card and "TPR at 1% FPR" in card
    data = {m.data for m in entry.manifest.metrics}
    for d in data:
        assert card.count(d) == 1  # one line per data set, not one per metric
    assert "MINT model      an MLP over taps" in card


# ------------------------------------------------------------------ 3: what member means
def test_member_claim_follows_what_the_manifest_says_about_its_non_members():
    from mint_tui.pairs.card import IDENTITY_CLAIM, member_claim
    from mint_tui.pairs.store import PairStore

    m = PairStore().get("demo-lfw-cnn").manifest
    claim, caveat = member_claim(m)
    assert claim == IDENTITY_CLAIM and "photos of this person" in claim and "unseen photos" in caveat
    photo_only = dataclasses.replace(m, calibration=dataclasses.replace(m.calibration, on="held-out photos of the "
                                                                         "same people"))
    assert member_claim(photo_only) == ("this photo was likely in the training data", "")
    assert member_claim(None)[0] == IDENTITY_CLAIM  # pair unknown here: the broader reading


def test_audit_table_says_what_member_means(lfw, tiny_pair_bundle, capsys):
    from mint_tui.pairs.card import IDENTITY_CAVEAT, IDENTITY_CLAIM

    assert main(["audit", str(lfw / "images" / PHOTO), "--pair", "demo-lfw-mlp"]) == 0
    assert f"member: {IDENTITY_CLAIM}. {IDENTITY_CAVEAT}\n" in capsys.readouterr().out
    # the tiny test pair's calibration data is not described as other people: the photo alone
    assert main(["audit", str(lfw / "images" / PHOTO), "--pair", str(tiny_pair_bundle)]) == 0
    assert "member: this photo was likely in the training data.\n" in capsys.readouterr().out


def test_report_top_has_the_identity_conclusions_and_faces_a_person_column(lfw, tiny_pair_bundle, tmp_path,
                                                                           capsys):
    from mint_tui.pairs.card import IDENTITY_CAVEAT, IDENTITY_CLAIM

    people = tmp_path / "people"
    for person in ("AJ_Lamas", "Aaron_Peirsol"):
        (people / person).mkdir(parents=True)
        src = lfw / "images" / person / f"{person}_0001.jpg"
        (people / person / src.name).write_bytes(src.read_bytes())
    out_json = tmp_path / "out.json"
    rc = main(["audit", str(people), "--pair", "demo-lfw-mlp", "--group-by", "folder", "--json", str(out_json)])
    assert rc == 0
    assert [d["name"] for d in json.loads(out_json.read_text())["identities"]] == ["AJ_Lamas", "Aaron_Peirsol"]
    assert main(["report", str(out_json)]) == 0
    html = (tmp_path / "out.html").read_text()
    summary = html[html.index('id="summary"'):html.index('id="identities"')]
    assert "Conclusions: " in summary and " of 2 people shown in the training data" in summary
    assert summary.index("AJ_Lamas") < summary.index("Verdicts:")
    assert IDENTITY_CLAIM in summary and IDENTITY_CAVEAT.split(": ")[-1] in summary
    faces = html[html.index('id="faces"'):html.index('id="other"')]
    assert "<th>person</th>" in faces
    assert faces.count('<td class="person">AJ_Lamas</td>') == 1
    assert faces.count('<td class="person">Aaron_Peirsol</td>') == 1
