"""Resumable audits (issue 17, item 4): ``audit ... --jsonl FILE --resume`` continues the file an
interrupted or killed audit left and ends with the bytes an uninterrupted run writes. The kill test
runs the real command in a subprocess and kills it with SIGKILL at random points."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mint_tui.cli import main

EPOCH = "1700000000"  # SOURCE_DATE_EPOCH: both runs write the same creation time
PHOTOS = [f"Colin_Powell/Colin_Powell_{i:04d}.jpg" for i in range(1, 9)] + \
         [f"Aaron_Peirsol/Aaron_Peirsol_{i:04d}.jpg" for i in range(1, 5)]


@pytest.fixture
def photos(lfw, tmp_path) -> Path:
    """Photos of two people, one image with two faces, a copy, an unreadable file and an image
    with no face: every kind of row, images of one and of two rows."""
    from mint_tui.faces.image import cv2, load_image

    folder = tmp_path / "photos"
    folder.mkdir()
    for rel in PHOTOS:
        (folder / Path(rel).name).write_bytes((lfw / "images" / rel).read_bytes())
    two = np.hstack([load_image(lfw / "images" / PHOTOS[0]), load_image(lfw / "images" / PHOTOS[9])])
    cv2.imwrite(str(folder / "b_two_faces.png"), two)
    (folder / "c_copy.jpg").write_bytes((lfw / "images" / PHOTOS[1]).read_bytes())
    (folder / "d_broken.jpg").write_bytes(b"\xff\xd8\xff not a JPEG after all")
    cv2.imwrite(str(folder / "e_blank.png"), np.full((160, 160, 3), 128, np.uint8))
    return folder


def _command(photos: Path, pair: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "mint_tui", "audit", str(photos), "--pair", str(pair), "--device", "cpu",
            "--faces", "all", "--batch-size", "3", "--workers", "2", "--jsonl", str(out), *extra]


def _env() -> dict[str, str]:
    return {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "OMP_NUM_THREADS": "1"}


@pytest.fixture
def reference(photos, tiny_pair_bundle, tmp_path) -> bytes:
    """The file of an audit that was never interrupted."""
    ref = tmp_path / "reference.jsonl"
    proc = subprocess.run(_command(photos, tiny_pair_bundle, ref), env=_env(), capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    data = ref.read_bytes()
    rows = [json.loads(line) for line in data.splitlines()[1:-1]]
    assert {r["verdict"] for r in rows} >= {"error", "no-face"} and any(r["face"] == 1 for r in rows)
    return data


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_killed_audits_resume_to_the_file_of_an_uninterrupted_run(photos, tiny_pair_bundle, tmp_path, reference):
    out = tmp_path / "out.jsonl"
    partial = Path(f"{out}.partial")
    total = reference.count(b"\n")
    rng = random.Random(1714)
    kills = 0
    for attempt in range(5):
        done = _lines(partial)
        target = 0 if attempt == 0 else rng.randint(done, total - 1)  # lines written when it is killed
        delay = rng.uniform(0.5, 4.0)  # the first kill: at a random moment of start-up
        proc = subprocess.Popen(_command(photos, tiny_pair_bundle, out, "--resume"), env=_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = time.monotonic()
        while proc.poll() is None:
            if (_lines(partial) >= target) if target else (time.monotonic() - started >= delay):
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait(timeout=300)
        kills += proc.returncode == -signal.SIGKILL
    assert kills >= 3  # most attempts were killed before they could finish
    proc = subprocess.run(_command(photos, tiny_pair_bundle, out, "--resume"), env=_env(), capture_output=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    assert out.read_bytes() == reference and not partial.exists()


def _resume(photos, pair, out, *extra) -> int:
    return main(["audit", str(photos), "--pair", str(pair), "--device", "cpu", "--faces", "all", "--batch-size", "3",
                 "--workers", "2", "--jsonl", str(out), "--resume", *extra])


def test_a_file_cut_anywhere_resumes_to_the_same_bytes(photos, tiny_pair_bundle, tmp_path, reference, monkeypatch,
                                                       capsys):
    """What kill -9 can leave, made on purpose: the file cut at random bytes (mid-header, mid-row, at a
    row's end, just before the end record)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    header_end = reference.index(b"\n") + 1
    end_record = reference.rstrip(b"\n").rindex(b"\n") + 1
    rng = random.Random(5)
    cuts = [0, header_end // 2, header_end, end_record, *rng.sample(range(header_end, end_record), 4)]
    for n, cut in enumerate(cuts):
        out = tmp_path / f"cut{n}.jsonl"
        Path(f"{out}.partial").write_bytes(reference[:cut])
        assert _resume(photos, tiny_pair_bundle, out) == 0, cut
        assert out.read_bytes() == reference, cut
    assert "results read back" in capsys.readouterr().err


def test_a_stopped_or_finished_file_resumes_without_scoring_again(photos, tiny_pair_bundle, tmp_path, reference,
                                                                   monkeypatch, capsys):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    rows = reference.count(b"\n") - 2
    out = tmp_path / "done.jsonl"
    out.write_bytes(reference)
    assert _resume(photos, tiny_pair_bundle, out) == 0
    assert out.read_bytes() == reference
    assert f"{rows} results read back, 0 computed" in capsys.readouterr().err
    # stopped (Ctrl-C) after some images: their rows and an end record saying so; the rest is computed
    from mint_tui.audit import split_images
    from mint_tui.results import read_results

    kept = sum(len(image) for image in split_images(read_results(out)[1])[:9])
    lines = reference.splitlines(keepends=True)
    end = {"end": True, "interrupted": True, "rows": kept}
    out.write_bytes(b"".join(lines[:1 + kept]) + json.dumps(end).encode() + b"\n")
    assert _resume(photos, tiny_pair_bundle, out) == 0
    assert out.read_bytes() == reference
    assert f"{kept} results read back, {rows - kept} computed" in capsys.readouterr().err


def test_resume_refuses_another_pair_or_options_and_leaves_the_file(photos, tiny_pair_bundle, tmp_path, reference,
                                                                    capsys):
    out = tmp_path / "out.jsonl"
    partial = Path(f"{out}.partial")
    kept = reference[: reference.index(b"\n") + 1 + 300]
    partial.write_bytes(kept)
    assert _resume(photos, tiny_pair_bundle, out, "--batch-size", "4") == 1
    err = capsys.readouterr().err
    assert "cannot resume" in err and "--batch-size 3, not 4" in err
    assert partial.read_bytes() == kept and not out.exists()
    # only a JSON Lines file can be continued
    assert main(["audit", str(photos), "--pair", str(tiny_pair_bundle), "--jsonl", str(out), "--csv",
                 str(tmp_path / "o.csv"), "--resume"]) == 2
    assert main(["audit", str(photos), "--pair", str(tiny_pair_bundle), "--jsonl", "-", "--resume"]) == 2
    assert "--resume continues a JSON Lines file" in capsys.readouterr().err
    partial.write_text('{"format": "something else"}\n')
    assert _resume(photos, tiny_pair_bundle, out) == 1
    assert "not a JSON Lines audit result file" in capsys.readouterr().err


def test_a_file_changed_since_is_scored_again(photos, tiny_pair_bundle, tmp_path, reference, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    out = tmp_path / "out.jsonl"
    out.write_bytes(reference)
    changed = photos / Path(PHOTOS[0]).name
    changed.write_bytes((photos / Path(PHOTOS[5]).name).read_bytes())
    assert _resume(photos, tiny_pair_bundle, out) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()[1:-1]]
    mine = [r for r in rows if r["path"] == str(changed)]
    assert len(rows) == reference.count(b"\n") - 1 and len(mine) == 2  # the old row stays, the new one is added
    assert mine[0]["sha256"] != mine[1]["sha256"] and rows[-1] == mine[1]
