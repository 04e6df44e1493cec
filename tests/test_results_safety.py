"""Results are never lost: atomic exports, rows streamed as they are computed, and every finished row
kept when an audit is stopped by Ctrl-C, SIGTERM, an exception or kill -9."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mint_tui.audit
from mint_tui.audit import ResultRow
from mint_tui.cli import main
from mint_tui.fileio import atomic_write_text
from mint_tui.results import (open_stream, partial_path, read_results, results_csv,
                              results_json)

PHOTOS = ["AJ_Lamas/AJ_Lamas_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0002.jpg"]


def _row(i: int, verdict: str = "member") -> ResultRow:
    scored = verdict in ("member", "non-member", "inconclusive")
    return ResultRow(f"/photos/img{i:03d}.jpg", f"{i:064x}", 0 if scored else None,
                     (1.0, 2.0, 3.0, 4.0) if scored else None, 0.9 if scored else None,
                     0.75 if scored else None, verdict, "" if scored else "no face found")


HEADER = {"format": "mint-tui/audit", "version": 1, "tool_version": "test", "pair": {"name": "x"}}


# ---------------------------------------------------------------- atomic exports
def test_atomic_write_replaces_whole_or_not_at_all(tmp_path, monkeypatch):
    dest = tmp_path / "out" / "r.json"
    atomic_write_text(dest, "old\n")
    assert dest.read_text() == "old\n"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o666 & ~_umask()  # an ordinary file, not mkstemp's 0600

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(dest, "new\n")
    assert dest.read_text() == "old\n"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["r.json"]  # no temp file left behind


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------- streams
@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_stream_is_a_valid_file_after_every_row(tmp_path, kind):
    dest = tmp_path / f"rows.{kind}"
    stream = open_stream(kind, str(dest), HEADER)
    partial = partial_path(dest)
    assert partial.exists() and not dest.exists()
    for i in range(5):
        stream.write(_row(i, "no-face" if i == 2 else "member"))
        _, rows = read_results(partial)  # what a crash would leave right now
        assert [r.path for r in rows] == [_row(k).path for k in range(i + 1)]
    assert stream.finish() == dest
    assert not partial.exists()
    header, rows = read_results(dest)
    assert len(rows) == 5 and rows[2].verdict == "no-face" and rows[0].box == (1.0, 2.0, 3.0, 4.0)
    if kind == "jsonl":
        assert header["pair"] == {"name": "x"} and header["interrupted"] is False
        last = json.loads(dest.read_text().splitlines()[-1])
        assert last == {"end": True, "interrupted": False, "rows": 5,
                        "summary": {"member": 4, "non-member": 0, "inconclusive": 0, "no-face": 1, "error": 0}}


def test_stream_refuses_to_overwrite_a_leftover_partial(tmp_path):
    dest = tmp_path / "rows.csv"
    partial_path(dest).write_text("path\n/kept/from/a/crash.jpg\n")
    with pytest.raises(FileExistsError, match="interrupted audit"):
        open_stream("csv", str(dest), HEADER)
    assert partial_path(dest).read_text() == "path\n/kept/from/a/crash.jpg\n"


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_a_line_cut_by_a_crash_is_not_a_row(tmp_path, kind):
    dest = tmp_path / f"rows.{kind}"
    stream = open_stream(kind, str(dest), HEADER)
    for i in range(3):
        stream.write(_row(i))
    stream.abandon()
    partial = partial_path(dest)
    cut = b'{"path": "/photos/cut' if kind == "jsonl" else b"/photos/cut,ab"
    partial.write_bytes(partial.read_bytes() + cut)
    _, rows = read_results(partial)
    assert len(rows) == 3


def test_results_csv_and_json_agree_with_the_streams(tmp_path):
    rows = [_row(i, v) for i, v in enumerate(["member", "error", "no-face", "inconclusive"])]
    for kind in ("jsonl", "csv"):
        stream = open_stream(kind, str(tmp_path / f"s.{kind}"), HEADER)
        for row in rows:
            stream.write(row)
        stream.finish()
    assert (tmp_path / "s.csv").read_text() == results_csv(rows)
    doc = json.loads(results_json(HEADER, rows))
    lines = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert doc["results"] == lines[1:-1] and doc["summary"] == lines[-1]["summary"]


# ---------------------------------------------------------------- the CLI, stopped in every way
@pytest.fixture
def fake_rows(monkeypatch):
    """Replace the pipeline by one that yields synthetic rows and then does ``then`` (interrupt,
    SIGTERM, crash); the pair is still loaded for real."""
    plan = {"rows": 6, "then": None}

    def fake_run_audit(paths, pair, options=None, progress=None, cancel=None, stats=None, recorded=None):
        for i in range(plan["rows"]):
            yield _row(i, "member" if i % 2 else "non-member")
        if plan["then"] == "sigint":
            raise KeyboardInterrupt
        if plan["then"] == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler interrupts this
        if plan["then"] == "crash":
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        if plan["then"] is None:
            return
        raise AssertionError("not interrupted")

    monkeypatch.setattr(mint_tui.audit, "run_audit", fake_run_audit)
    return plan


def _outputs(tmp_path) -> dict[str, Path]:
    return {k: tmp_path / f"out.{k}" for k in ("json", "jsonl", "csv")}


def _audit_args(tmp_path, bundle) -> list[str]:
    return ["audit", str(tmp_path), "--pair", str(bundle), "--device", "cpu",
            *(a for k, p in _outputs(tmp_path).items() for a in (f"--{k}", str(p)))]


@pytest.mark.parametrize("how", ["sigint", "sigterm"])
def test_interrupted_audit_keeps_every_row_in_every_output(tmp_path, tiny_pair_bundle, fake_rows, capsys, how):
    fake_rows["then"] = how
    previous = signal.getsignal(signal.SIGTERM)
    assert main(_audit_args(tmp_path, tiny_pair_bundle)) == 130
    assert signal.getsignal(signal.SIGTERM) is previous  # the CLI's SIGTERM handler is gone again
    assert "interrupted: 6 results kept in" in capsys.readouterr().err
    out = _outputs(tmp_path)
    for path in out.values():
        assert path.exists() and not partial_path(path).exists()
        header, rows = read_results(path)
        assert len(rows) == 6 and [r.path for r in rows] == [_row(i).path for i in range(6)]
    assert json.loads(out["json"].read_text())["interrupted"] is True
    assert json.loads(out["jsonl"].read_text().splitlines()[-1])["interrupted"] is True


def test_crashed_audit_keeps_its_rows_in_partial_files(tmp_path, tiny_pair_bundle, fake_rows):
    fake_rows["then"] = "crash"
    out = _outputs(tmp_path)
    for path in out.values():
        path.write_text("results of an earlier audit\n")
    with pytest.raises(RuntimeError, match="illegal memory access"):
        main(_audit_args(tmp_path, tiny_pair_bundle))
    for path in out.values():
        assert path.read_text() == "results of an earlier audit\n"  # not replaced by a failed run
        _, rows = read_results(partial_path(path))
        assert len(rows) == 6
    # The leftovers are not overwritten by the next run: it refuses to start, saying why.
    assert main(_audit_args(tmp_path, tiny_pair_bundle)) == 2


def test_completed_audit_and_usage_errors(tmp_path, tiny_pair_bundle, fake_rows, capsys):
    assert main(_audit_args(tmp_path, tiny_pair_bundle)) == 0
    for path in _outputs(tmp_path).values():
        assert len(read_results(path)[1]) == 6 and not partial_path(path).exists()
    capsys.readouterr()
    assert main(["audit", str(tmp_path), "--pair", str(tiny_pair_bundle), "--jsonl", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert json.loads(lines[0])["layout"] == "jsonl" and len(lines) == 8 and json.loads(lines[-1])["end"]
    assert main(["audit", "x", "--pair", str(tiny_pair_bundle), "--jsonl", "-", "--csv", "-"]) == 2
    assert main(["audit", "x", "--pair", str(tiny_pair_bundle), "--json", "a.x", "--csv", "a.x"]) == 2


# ---------------------------------------------------------------- real processes, real signals
@pytest.fixture
def photo_folder(lfw, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(120):  # long enough to be stopped in the middle
        src = lfw / "images" / PHOTOS[i % len(PHOTOS)]
        (folder / f"{i:03d}-{src.name}").write_bytes(src.read_bytes())
    return folder


def _start_cli(tmp_path, folder, bundle) -> subprocess.Popen:
    args = [sys.executable, "-m", "mint_tui", "audit", str(folder), "--pair", str(bundle), "--device", "cpu",
            "--batch-size", "1", "--workers", "1",
            *(a for k, p in _outputs(tmp_path).items() for a in (f"--{k}", str(p)))]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_rows(path: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count("\n") >= n + 1:
            return
        if proc.poll() is not None:
            pytest.fail(f"the audit ended early: {proc.stderr.read()}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("no rows appeared")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_real_audit_stopped_by_a_signal_keeps_its_rows(tmp_path, photo_folder, tiny_pair_bundle, sig):
    out = _outputs(tmp_path)
    proc = _start_cli(tmp_path, photo_folder, tiny_pair_bundle)
    _wait_for_rows(partial_path(out["csv"]), 3, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert "interrupted:" in err
        counts = {k: len(read_results(p)[1]) for k, p in out.items()}
        assert len(set(counts.values())) == 1 and 3 <= counts["csv"] < 120, counts
        assert not any(partial_path(p).exists() for p in out.values())
    else:
        assert proc.returncode == -signal.SIGKILL
        assert not any(p.exists() for p in out.values())
        csv_rows = read_results(partial_path(out["csv"]))[1]
        jsonl_rows = read_results(partial_path(out["jsonl"]))[1]
        assert 3 <= len(csv_rows) < 120 and abs(len(csv_rows) - len(jsonl_rows)) <= 1
        for row in csv_rows:
            assert row.sha256 and row.verdict in ("member", "non-member", "inconclusive")
        assert "end" not in partial_path(out["jsonl"]).read_text().splitlines()[-1]
