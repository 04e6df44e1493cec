"""The command line end to end, in a subprocess-free way (main(argv)) and once as a real process."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from mint_tui import __version__
from mint_tui.cli import main

PHOTOS = ["AJ_Lamas/AJ_Lamas_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0002.jpg"]


def test_version_as_a_real_process():
    out = subprocess.run([sys.executable, "-m", "mint_tui", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"mint-tui {__version__}"


def test_audit_json_and_csv(lfw, tiny_pair_bundle, tmp_path, capsys):
    photos = [str(lfw / "images" / p) for p in PHOTOS]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"<html>not a png</html>")
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    rc = main(["audit", *photos, str(broken), "--pair", str(tiny_pair_bundle), "--device", "cpu",
               "--json", str(out_json), "--csv", str(out_csv)])
    assert rc == 0
    doc = json.loads(out_json.read_text())
    assert doc["format"] == "mint-tui/audit" and doc["tool_version"] == __version__
    assert doc["pair"]["name"] == "tiny-test" and len(doc["pair"]["bundle_sha256"]) == 64
    assert doc["device"] == "cpu"
    assert [r["path"] for r in doc["results"]] == [*photos, str(broken)]
    assert doc["results"][-1]["verdict"] == "error"
    assert all(0 <= r["score"] <= 1 for r in doc["results"][:3])
    assert doc["summary"]["error"] == 1
    rows = list(csv.DictReader(out_csv.open()))
    assert [r["path"] for r in rows] == [*photos, str(broken)]
    assert float(rows[0]["score"]) == pytest.approx(doc["results"][0]["score"])


def test_audit_table_and_results_round_trip(lfw, tiny_pair_bundle, tmp_path, capsys):
    from mint_tui.results import read_results

    rc = main(["audit", str(lfw / "images" / PHOTOS[0]), "--pair", str(tiny_pair_bundle)])
    out = capsys.readouterr().out
    assert rc == 0 and "tiny-test" in out and PHOTOS[0] in out
    main(["audit", str(lfw / "images" / PHOTOS[0]), "--pair", str(tiny_pair_bundle), "--json", str(tmp_path / "a.json")])
    header, rows = read_results(tmp_path / "a.json")
    assert header["pair"]["name"] == "tiny-test" and len(rows) == 1 and rows[0].score is not None


def test_exit_status(tiny_pair_bundle, tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"")
    assert main(["audit", str(bad), "--pair", str(tiny_pair_bundle)]) == 1  # nothing could be audited
    assert main(["audit", str(bad), "--pair", str(tiny_pair_bundle), "--batch-size", "0"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["audit", str(bad), "--faces", "biggest"])
    assert exc.value.code == 2
    assert main(["audit", str(bad), "--pair", "no-such-pair"]) == 2


def test_pairs_commands(tiny_pair_bundle, tmp_path, capsys):
    assert main(["pairs", "install", str(tiny_pair_bundle)]) == 0
    capsys.readouterr()
    assert main(["pairs", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert any(p["name"] == "tiny-test" and not p["builtin"] for p in listed)
    assert main(["pairs", "info", "tiny-test"]) == 0
    assert "random weights" in capsys.readouterr().out
    assert main(["pairs", "verify", "tiny-test"]) == 0
    assert main(["pairs", "export", "tiny-test", str(tmp_path / "copy.mintpair")]) == 0
    assert (tmp_path / "copy.mintpair").read_bytes() == tiny_pair_bundle.read_bytes()
    assert main(["pairs", "install", str(tiny_pair_bundle)]) == 1  # exists already
    assert "already" in capsys.readouterr().err
    assert main(["pairs", "remove", "tiny-test"]) == 0
    assert main(["pairs", "info", "tiny-test"]) == 1


def test_tampered_bundle_is_refused(tiny_pair_bundle, tmp_path, capsys):
    import zipfile

    bad = tmp_path / "tampered.mintpair"
    with zipfile.ZipFile(tiny_pair_bundle) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = bytearray(src.read(info))
            if info.filename == "mint.safetensors":
                data[-1] ^= 0x01  # one bit of one weight
            dst.writestr(info.filename, bytes(data))
    assert main(["pairs", "install", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "mint-tui: error:" in err and "sha-256 mismatch" in err.lower() and "tampered.mintpair" in err
    assert main(["audit", str(bad), "--pair", str(bad)]) == 1


def test_cli_start_up_does_not_import_torch():
    """`--version`, `--help` and the TUI's start must not pay for torch/mediapipe/cv2 imports."""
    code = ("import sys; from mint_tui.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'mediapipe', 'cv2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
