"""The HTML audit report (mint_tui/report.py): contents, safety, pair checks, and a real browser.

One audit (a tiny random-weights pair with calibration scores, a few LFW photos copied into tmp,
a hostile file name, a text file, a face-less image) is made once per module; each test writes
its own report from it. Nothing here is committed: photos, crops and reports live in tmp.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import TINY_AUDITED_CONFIG

CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = '<script>alert("x") <img src=x onerror=alert(1)> \u202egpj.exe.jpg'  # markup, a bidi override


@pytest.fixture(scope="module")
def audit(tmp_path_factory, lfw):
    """(results.json, scored bundle, unscored bundle, photo folder): an audit of 3 LFW photos, a
    copy under a hostile name, a text file and a blank image; the third photo is changed after it."""
    import cv2

    from mint_tui.cli import main
    from mint_tui.pairs.bundle import write_bundle
    from mint_tui.pairs.loaded import load_pair
    from random_pair import make_random_pair

    root = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MINT_TUI_HOME", str(root / "home"))
        plain = make_random_pair(root / "tiny-test.mintpair", audited_config=TINY_AUDITED_CONFIG)
        pair = load_pair(plain)
        rng = np.random.default_rng(0)
        cal = {"member": rng.beta(4, 2, 60).astype(np.float32), "member_identity": np.arange(60) // 3,
               "external": rng.beta(2, 4, 80).astype(np.float32), "external_identity": np.arange(80) // 2}
        scored = write_bundle(root / "scored" / "tiny-test.mintpair", pair.manifest, pair.audited.state_dict(),
                              pair.mint.state_dict(), calibration_scores=cal)
        photos = root / "photos" / "Aaron"
        photos.mkdir(parents=True)
        for i in (1, 2, 3):
            shutil.copy(lfw / "images" / "Aaron_Peirsol" / f"Aaron_Peirsol_000{i}.jpg", photos)
        shutil.copy(photos / "Aaron_Peirsol_0001.jpg", photos / HOSTILE)
        (photos / "notes.jpg").write_text("not an image\n")
        cv2.imwrite(str(photos / "blank.png"), np.full((120, 120, 3), 200, np.uint8))
        out = root / "results.json"
        assert main(["audit", str(photos), "--pair", str(scored), "--identity", "Aaron <b>P</b>", "--workers", "1",
                     "--device", "cpu", "--json", str(out)]) == 0
        with open(photos / "Aaron_Peirsol_0003.jpg", "ab") as fh:  # changed since the audit
            fh.write(b"\0")
    return out, scored, plain, photos


def _faces(doc: dict) -> list[dict]:
    return [r for r in doc["results"] if r["face"] is not None]


def _assert_self_contained(text: str) -> None:
    assert "<script" not in text.lower()
    bare = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(r"https?:|ftp:|//[a-z0-9]", bare, re.I), "a URL in a self-contained report"
    for url in re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', text):
        assert url.startswith(("data:image/png;base64,", "#")), url
    assert "default-src 'none'" in text


def test_report_contents(audit, tmp_path):
    from mint_tui.faces.image import cv2
    from mint_tui.report import write_report

    results, scored, _, photos = audit
    doc = json.loads(results.read_text())
    html_path = write_report(results, tmp_path / "r" / "report.html", pair=str(scored))
    text = html_path.read_text(encoding="utf-8")
    _assert_self_contained(text)
    for section in ("summary", "identities", "faces", "other", "pair", "provenance"):
        assert f'<section id="{section}">' in text
    faces = _faces(doc)
    assert len(faces) == 4 and text.count('<tr class="face"') == 4
    assert text.count('<tr class="other"') == len(doc["results"]) - 4 == 2
    # crops: every face except the changed file's, decodable 112x112 PNGs
    uris = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(uris) == 3
    crop = cv2.imdecode(np.frombuffer(base64.b64decode(uris[0]), np.uint8), cv2.IMREAD_COLOR)
    assert crop.shape == (112, 112, 3) and crop.std() > 10
    assert text.count("file changed since the audit") == 1 and "CHANGED since the audit" in text
    # scores and verdicts, with the threshold bar
    for r in faces:
        assert f"{r['score']:.4f}" in text
    assert text.count('<svg class="bar"') == 4
    # the hostile name is text, never markup; the bidi override is shown as an escape
    assert "&lt;script&gt;alert(&quot;x&quot;) &lt;img src=x onerror=alert(1)&gt; \\u202egpj.exe.jpg" in text
    assert "\u202e" not in text
    # identity test, pair (card, ROC, metrics), provenance
    ident = doc["identities"][0]
    assert "Aaron &lt;b&gt;P&lt;/b&gt;" in text and f"{ident['p_value']:.4f}" in text
    assert '<svg class="roc"' in text and "ROC curve on the calibration data" in text
    assert "60 member and 80 external faces" in text
    assert '<pre class="card">' in text and "random weights, for tests only" in text
    assert doc["pair"]["bundle_sha256"] in text and "(equals the audited bundle's)" in text
    for r in doc["results"]:
        if r["sha256"]:
            assert r["sha256"] in text
    assert doc["created"] in text and doc["device"] in text
    # the only warning is the changed file
    warnings = re.findall(r'<div class="warning" role="alert">(.*?)</div>', text)
    assert len(warnings) == 1 and "changed since the audit" in warnings[0]


def test_report_discloses_a_member_bank(audit, tmp_path):
    """A pair holding member embeddings says so in the report (a warning and the card); a bank-free
    pair says it holds none."""
    from mint_tui.cli import main
    from random_pair import make_random_pair
    from mint_tui.report import write_report

    _, scored, _, photos = audit
    text = write_report(audit[0], tmp_path / "plain.html", pair=str(scored)).read_text(encoding="utf-8")
    assert "Member data: none: this pair stores no member faces" in text
    banked = make_random_pair(tmp_path / "banked.mintpair", name="banked", audited_config=TINY_AUDITED_CONFIG,
                              mint_config={"prototypes": 8})
    results = tmp_path / "banked.json"
    assert main(["audit", str(photos / "Aaron_Peirsol_0001.jpg"), "--pair", str(banked), "--device", "cpu",
                 "--json", str(results)]) == 0
    text = write_report(results, tmp_path / "banked.html", pair=str(banked)).read_text(encoding="utf-8")
    warnings = re.findall(r'<div class="warning" role="alert">(.*?)</div>', text)
    assert any("8 face embeddings of members" in w and "biometric data" in w for w in warnings)
    assert "Member data     this file holds 8 face embeddings" in text  # the card


def test_report_pair_lookup(audit, tmp_path):
    """By the recorded name from the store; missing; a different bundle; CSV results (no header)."""
    from mint_tui.pairs.store import PairStore
    from mint_tui.report import render_report
    from mint_tui.results import read_results

    results, scored, plain, _ = audit
    header, rows = read_results(results)

    missing = render_report(header, rows, tmp_path / "missing.html", max_crops=0)
    assert len(missing.warnings) == 2 and "'tiny-test' used for this audit is not installed" in missing.warnings[0]
    assert "No crops are shown" not in missing.warnings[1]  # the limit, not a failure
    text = (tmp_path / "missing.html").read_text()
    assert '<svg class="roc"' not in text and '<pre class="card">' not in text and "not installed" in text

    wrong = render_report(header, rows, tmp_path / "wrong.html", str(plain), max_crops=0)
    assert any("is NOT the one used for this audit" in w for w in wrong.warnings)
    text = (tmp_path / "wrong.html").read_text()
    assert '<svg class="roc"' not in text and '<pre class="card">' not in text
    assert "differs from the audited bundle" in text

    PairStore().install(scored)
    found = render_report(header, rows, tmp_path / "found.html", max_crops=0)
    assert not any("pair" in w for w in found.warnings)
    assert '<svg class="roc"' in (tmp_path / "found.html").read_text()

    csv_path = tmp_path / "r.csv"
    from mint_tui.results import results_csv

    csv_path.write_text(results_csv(rows))
    csv_header, csv_rows = read_results(csv_path)
    s = render_report(csv_header, csv_rows, tmp_path / "csv.html")
    assert s.crops == 0 and any("does not record which pair" in w for w in s.warnings)
    assert any("No crops are shown" in w for w in s.warnings)


def test_report_crop_limit_and_rows_source(audit, tmp_path):
    from mint_tui.report import write_report
    from mint_tui.results import read_results

    results, scored, _, _ = audit
    header, rows = read_results(results)
    path = write_report((header, rows), tmp_path / "cap.html", pair=str(scored), max_crops=1)
    text = path.read_text()
    assert text.count("data:image/png") == 1
    assert text.count("the report embeds at most 1 crops") == 3
    assert "Only the first 1 of 4 faces have their crop embedded" in text


def test_report_escapes_everything(tmp_path):
    """Hostile strings in every header field and row: escaped, nothing fetched, nothing run."""
    from mint_tui.audit import ResultRow
    from mint_tui.report import write_report

    evil = '"><script>fetch("https://evil.example/")</script><img src=http://x/y>\u202e\x1b[31m'
    header = {"format": "mint-tui/audit", "version": 1, "tool_version": evil, "created": evil, "device": evil,
              "pair": {"name": evil, "title": evil, "bundle_sha256": evil, "threshold": 0.5,
                       "inconclusive": [0.4, 0.6]},
              "options": {"faces": evil, "detector": "short"},
              "identities": [{"name": evil, "faces": 0, "statistic": float("nan"), "p_value": 1.0, "alpha": 0.05,
                              "verdict": evil, "null_identities": 3, "level": 0.0}],
              "interrupted": True}
    rows = [ResultRow(evil, evil, None, None, None, None, "error", evil),
            ResultRow(evil + "\ud800", "0" * 64, 0, (1.0, 2.0, 3.0, 4.0), 0.9, 0.7, "member", evil)]
    text = write_report((header, rows), tmp_path / "evil.html").read_text(encoding="utf-8")
    _assert_self_contained(text.replace("https://evil.example/", "").replace("http://x/y", ""))
    assert text.count("<img") == 0 and text.count("<svg") == 1  # only the report's own score bar
    assert "<img src=http" not in text and "\x1b" not in text and "\\x1b[31m" in text
    assert "\\ud800" in text  # a lone surrogate shown, not crashing the UTF-8 writer
    assert "stopped before it finished" in text
    assert "No crops are shown" in text  # the recorded face policy is not one mint-tui knows


def test_report_cli(audit, tmp_path, capsys):
    from mint_tui.cli import build_parser, cmd_report

    results, scored, _, _ = audit
    parser = build_parser()
    out = tmp_path / "cli.html"
    args = parser.parse_args(["report", str(results), "--html", str(out), "--pair", str(scored), "--max-crops", "0"])
    assert cmd_report(args) == 0
    err = capsys.readouterr().err
    assert f"report written to {out}" in err and "4 faces, 0 crops shown" in err
    before = out.read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert cmd_report(parser.parse_args(["report", str(bad), "--html", str(out)])) == 1
    assert "not valid JSON" in capsys.readouterr().err
    assert out.read_bytes() == before  # a failed report leaves the old one alone
    assert cmd_report(parser.parse_args(["report", str(tmp_path / "nope.json"), "--html", str(out)])) == 1
    assert cmd_report(parser.parse_args(["report", str(results), "--html", str(tmp_path)])) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium (/usr/bin/chromium; Debian package 'chromium') "
                                                  "to render the report in a real headless browser")
def test_report_renders_in_chromium(audit, tmp_path):
    from mint_tui.faces.image import cv2
    from mint_tui.report import write_report

    results, scored, _, _ = audit
    report = write_report(results, tmp_path / "report.html", pair=str(scored))
    shot = tmp_path / "shot.png"
    base = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600"]
    env = {**os.environ, "HOME": str(tmp_path)}
    dom = subprocess.run([*base, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=180, env=env)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    for section in ("summary", "identities", "faces", "other", "pair", "provenance"):
        assert f'id="{section}"' in html
    assert html.count('<tr class="face"') == 4 and html.count('<tr class="identity"') == 1
    assert html.count("data:image/png;base64,") == 3 and "file changed since the audit" in html
    assert "<script" not in html  # the hostile file name stayed text in the parsed DOM
    run = subprocess.run([*base, f"--screenshot={shot}", report.as_uri()], capture_output=True, text=True,
                         timeout=180, env=env)
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    image = cv2.imread(str(shot), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[:2] == (1600, 1200)
    assert image.std() > 20  # not blank
    dark = (image.max(axis=2) < 100).mean()  # text
    assert 0.005 < dark < 0.5


def test_report_uses_crops_handed_over(tmp_path):
    """Rows straight from an audit with keep_crops (the TUI's): their own crop, no file re-read."""
    from mint_tui.audit import ResultRow
    from mint_tui.report import write_report

    crop = np.zeros((112, 112, 3), np.uint8)
    crop[20:90, 30:80] = (40, 120, 220)
    header = {"format": "mint-tui/audit", "version": 1, "pair": {"name": "absent-pair", "threshold": 0.5,
                                                                  "inconclusive": [0.45, 0.55]},
              "options": {"faces": "largest", "detector": "short"}}
    rows = [ResultRow(str(tmp_path / "gone.jpg"), "a" * 64, 0, None, None, 0.9, "member", crop=crop),
            ResultRow(str(tmp_path / "gone2.jpg"), "b" * 64, 0, None, None, 0.1, "non-member", crop=crop)]
    text = write_report((header, rows), tmp_path / "own.html", max_crops=1).read_text()
    assert text.count("data:image/png;base64,") == 1 and "as scored by the audit" in text
    assert "Only the first 1 of 2 faces" in text and "cannot be read" not in text


def test_report_progress_cancel_and_relative_paths(audit, tmp_path, monkeypatch):
    """Paths relative to another folder are found beside the results file; progress is reported;
    cancel writes nothing."""
    import threading

    from mint_tui.report import ReportCancelled, write_report

    results, scored, _, photos = audit
    doc = json.loads(results.read_text())
    for r in doc["results"]:
        r["path"] = os.path.relpath(r["path"], results.parent)
    rel = results.parent / "relative.json"
    rel.write_text(json.dumps(doc))
    monkeypatch.chdir(tmp_path)
    seen = []
    text = write_report(rel, tmp_path / "rel.html", pair=str(scored), progress=lambda d, t: seen.append((d, t))
                        ).read_text()
    assert text.count("data:image/png;base64,") == 3 and seen and seen[-1][0] == seen[-1][1] == 4
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ReportCancelled):
        write_report(rel, tmp_path / "cancelled.html", pair=str(scored), cancel=cancel)
    assert not (tmp_path / "cancelled.html").exists() and not list(tmp_path.glob(".cancelled*"))
