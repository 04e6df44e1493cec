"""The bad-output catalogue: no output may destroy an input, a bad destination is refused before any
work starts, and what reaches a terminal or a spreadsheet cannot act on it (issue 18, items 1-6)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mint_tui.cli import main
from mint_tui.results import partial_path, read_results

PHOTOS = ["AJ_Lamas/AJ_Lamas_0001.jpg", "Colin_Powell/Colin_Powell_0001.jpg"]


@pytest.fixture
def photos(lfw, tmp_path) -> list[Path]:
    out = []
    for i, name in enumerate(PHOTOS):
        dest = tmp_path / f"me{i}.jpg"
        dest.write_bytes((lfw / "images" / name).read_bytes())
        out.append(dest)
    return out


def _audit(photos, bundle, *extra) -> list[str]:
    return ["audit", *map(str, photos), "--pair", str(bundle), "--device", "cpu", *extra]


# ---------------------------------------------------------------- 2: an output may not be an input
@pytest.mark.parametrize("option", ["--json", "--jsonl", "--csv"])
@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "relative"])
def test_audit_output_that_is_an_input_is_refused(photos, tiny_pair_bundle, tmp_path, capsys, monkeypatch, option,
                                                  how):
    before = photos[0].read_bytes()
    dest = {"same": photos[0], "symlink": tmp_path / "link.json", "hardlink": tmp_path / "hard.json",
            "relative": Path("me0.jpg")}[how]
    if how == "symlink":
        dest.symlink_to(photos[0])
    elif how == "hardlink":
        os.link(photos[0], dest)
    monkeypatch.chdir(tmp_path)
    assert main(_audit(photos, tiny_pair_bundle, option, str(dest))) == 2
    err = capsys.readouterr().err
    assert "is one of the inputs" in err and option in err
    assert photos[0].read_bytes() == before and not partial_path(dest).exists()


def test_audit_output_onto_the_pair_or_an_image_in_an_input_folder_is_refused(photos, tiny_pair_bundle, capsys):
    assert main(_audit(photos, tiny_pair_bundle, "--json", str(tiny_pair_bundle))) == 2
    assert main(["audit", str(photos[0].parent), "--pair", str(tiny_pair_bundle), "--csv", str(photos[1])]) == 2
    assert capsys.readouterr().err.count("would destroy it") == 2


def test_train_out_and_report_must_differ_and_not_be_inputs(photos, tiny_pair_bundle, tmp_path, capsys):
    base = ["train", "--audited-from", str(tiny_pair_bundle), "--members", str(photos[0].parent),
            "--external", str(photos[0].parent), "--name", "x"]
    out = tmp_path / "x.mintpair"
    assert main([*base, "--out", str(out), "--report", str(out)]) == 2
    assert "name the same file" in capsys.readouterr().err and not out.exists()
    before = tiny_pair_bundle.read_bytes()
    assert main([*base, "--out", str(tiny_pair_bundle)]) == 2
    assert "is one of the inputs" in capsys.readouterr().err and tiny_pair_bundle.read_bytes() == before


def test_report_html_onto_its_results_file_is_refused(photos, tiny_pair_bundle, tmp_path, capsys):
    results = tmp_path / "r.json"
    assert main(_audit(photos[:1], tiny_pair_bundle, "--json", str(results))) == 0
    before = results.read_bytes()
    assert main(["report", str(results), "--html", str(results)]) == 2
    assert "is one of the inputs" in capsys.readouterr().err and results.read_bytes() == before


# ---------------------------------------------------------------- 3: bad destinations, before any work
BAD_DESTINATIONS = [("folder", "is a folder"), ("empty", "the file name is empty"),
                    ("proc", "is in /proc"), ("device", "is a device"),
                    ("file-as-folder", "is not a folder")]


def _bad(kind: str, tmp_path: Path) -> str:
    (tmp_path / "folder").mkdir(exist_ok=True)
    (tmp_path / "plain").write_text("x")
    return {"folder": str(tmp_path / "folder"), "empty": "", "proc": "/proc/x.json", "device": "/dev/null",
            "file-as-folder": str(tmp_path / "plain" / "out.json")}[kind]


@pytest.mark.parametrize(("kind", "message"), BAD_DESTINATIONS, ids=[b[0] for b in BAD_DESTINATIONS])
@pytest.mark.parametrize("option", ["--json", "--jsonl", "--csv"])
def test_audit_refuses_a_bad_destination_before_auditing(photos, tiny_pair_bundle, tmp_path, capsys, monkeypatch,
                                                         kind, message, option):
    import mint_tui.audit

    def never(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("the audit started")

    monkeypatch.setattr(mint_tui.audit, "run_audit", never)
    assert main(_audit(photos, tiny_pair_bundle, option, _bad(kind, tmp_path))) == 2
    err = capsys.readouterr().err
    assert message in err and option in err


@pytest.mark.parametrize(("kind", "message"), BAD_DESTINATIONS, ids=[b[0] for b in BAD_DESTINATIONS])
def test_eval_refuses_a_bad_destination_before_evaluating(photos, tiny_pair_bundle, tmp_path, capsys, monkeypatch,
                                                          kind, message):
    import mint_tui.train.evaluate

    def never(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("the evaluation started")

    monkeypatch.setattr(mint_tui.train.evaluate, "evaluate_pair", never)
    folder = str(photos[0].parent)
    assert main(["eval", "--pair", str(tiny_pair_bundle), "--members", folder, "--external", folder,
                 "--json", _bad(kind, tmp_path)]) == 2
    assert message in capsys.readouterr().err


# ---------------------------------------------------------------- 4: links are written through, never replaced
def test_json_through_a_symlink_writes_the_target_and_keeps_the_link(photos, tiny_pair_bundle, tmp_path):
    link, target = tmp_path / "out.json", tmp_path / "store" / "target.json"
    target.parent.mkdir()
    target.write_text("old")
    link.symlink_to(target)
    assert main(_audit(photos[:1], tiny_pair_bundle, "--json", str(link))) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert len(read_results(target)[1]) == 1


@pytest.mark.parametrize("target", ["/proc/self/fd/1", "/dev/null", "fifo"])
def test_symlink_to_a_stream_or_device_is_refused_and_kept(photos, tiny_pair_bundle, tmp_path, capsys, target):
    if target == "fifo":
        os.mkfifo(tmp_path / "fifo")
        target = str(tmp_path / "fifo")
    link = tmp_path / "out.json"
    link.symlink_to(target)
    assert main(_audit(photos[:1], tiny_pair_bundle, "--json", str(link))) == 2
    assert "regular file" in capsys.readouterr().err
    assert link.is_symlink() and os.readlink(link) == target


# ---------------------------------------------------------------- 1: rows survive a native abort
ABORTING = textwrap.dedent("""
    import os, sys
    from mint_tui.faces import detect
    real = detect.FaceDetector.detect
    calls = []
    def detect_or_abort(self, bgr):
        calls.append(1)
        if len(calls) == int(os.environ["ABORT_AT"]):
            os.abort()  # what OpenCV's assertion inside MediaPipe does
        return real(self, bgr)
    detect.FaceDetector.detect = detect_or_abort
    from mint_tui.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def test_rows_scored_before_a_native_abort_are_on_disk_in_every_output(lfw, tiny_pair_bundle, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(12):
        (folder / f"{i:02d}.jpg").write_bytes((lfw / "images" / PHOTOS[i % 2]).read_bytes())
    out = {k: tmp_path / f"out.{k}" for k in ("json", "jsonl", "csv")}
    args = [sys.executable, "-c", ABORTING, "audit", str(folder), "--pair", str(tiny_pair_bundle), "--device", "cpu",
            "--batch-size", "1", "--workers", "1", *(a for k, p in out.items() for a in (f"--{k}", str(p)))]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300, env={**os.environ, "ABORT_AT": "10"})
    assert proc.returncode < 0, proc.stderr  # killed by SIGABRT
    for kind, path in out.items():
        assert not path.exists()
        _, rows = read_results(partial_path(path))
        assert 3 <= len(rows) < 12, (kind, len(rows))
        assert all(r.verdict in ("member", "non-member", "inconclusive") for r in rows)


def test_image_with_a_side_over_32766_px_is_one_error_row_not_an_abort(photos, tiny_pair_bundle, tmp_path):
    """A 1080x33000 screenshot (under the pixel limit) made MediaPipe's OpenCV remap abort the process."""
    import cv2

    tall = tmp_path / "tall.png"
    cv2.imwrite(str(tall), np.zeros((33000, 1080, 3), np.uint8))
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-m", "mint_tui", *_audit([photos[0], tall, photos[1]], tiny_pair_bundle,
                                                                     "--json", str(out))],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["results"]
    assert [Path(r["path"]).name for r in rows] == ["me0.jpg", "tall.png", "me1.jpg"]
    assert rows[1]["verdict"] == "error" and "image too long: 1080x33000 pixels" in rows[1]["message"]
    assert rows[0]["score"] is not None and rows[2]["score"] is not None


# ---------------------------------------------------------------- 5: control characters never reach a terminal
SPOOF = "x\r\x1b[2Kmember     0.998    0  photos_of_bob\u202e.jpg"


def test_table_escapes_control_characters_in_file_names(photos, tiny_pair_bundle, tmp_path, capsys):
    spoof = tmp_path / SPOOF
    spoof.write_bytes(photos[0].read_bytes())
    missing = tmp_path / "gone\x1b[31m.jpg"
    assert main(_audit([spoof, missing], tiny_pair_bundle)) == 0
    out = capsys.readouterr().out
    assert "\r" not in out and "\x1b" not in out and "\u202e" not in out
    assert "x\\r\\x1b[2Kmember" in out and "photos_of_bob\\u202e.jpg" in out and "gone\\x1b[31m.jpg" in out


def test_pairs_list_info_and_errors_escape_bundle_titles(tiny_pair_bundle, tmp_path, capsys):
    import tomli_w

    with zipfile.ZipFile(tiny_pair_bundle) as zf:
        entries = {i.filename: zf.read(i) for i in zf.infolist()}
    doc = tomllib.loads(entries["pair.toml"].decode())
    doc["pair"]["title"] = "Nice\r\x1b[2KOK verified\x07"
    doc["pair"]["description"] = "line one\nline two\x1b]0;owned\x07"
    entries["pair.toml"] = tomli_w.dumps(doc).encode()
    hostile = tmp_path / "hostile.mintpair"
    with zipfile.ZipFile(hostile, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    assert main(["pairs", "install", str(hostile)]) == 0
    assert main(["pairs", "list"]) == 0
    assert main(["pairs", "info", "tiny-test"]) == 0
    assert main(["audit", "x.jpg", "--pair", "no-such\x1b[2J"]) == 2
    captured = capsys.readouterr()
    for text in (captured.out, captured.err):
        assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert "Nice\\r\\x1b[2KOK verified\\x07" in captured.out
    assert "line one\nline two\\x1b]0;owned\\x07" in captured.out  # the description keeps its line breaks
    assert "no-such\\x1b[2J" in captured.err


# ---------------------------------------------------------------- 6: CSV formula injection
@pytest.mark.parametrize("name", ["=HYPERLINK(\"x\";\"y\").jpg", "+1+2.jpg", "-2+3.jpg", "@SUM(A1).jpg",
                                  "'quoted.jpg"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(photos, tiny_pair_bundle, tmp_path, monkeypatch,
                                                                name):
    (tmp_path / name).write_bytes(photos[0].read_bytes())
    monkeypatch.chdir(tmp_path)  # the path cell is the name as given: it starts with the formula character
    out = tmp_path / "out.csv"
    assert main(["audit", "--pair", str(tiny_pair_bundle), "--device", "cpu", "--csv", str(out), "--", name]) == 0
    cell = next(csv.DictReader(out.open(newline="")))["path"]
    assert cell == "'" + name  # shown as text by Excel, LibreOffice and Google Sheets
    assert read_results(out)[1][0].path == name  # and read back as it was
