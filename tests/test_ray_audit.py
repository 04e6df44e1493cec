"""Audits on Ray Data (mint_tui.ray_audit, the optional extra mint-tui[ray]) against the plain audit.

The Ray tests run on a local Ray of 2 CPUs (two workers, each with the pair loaded once) and compare
every row with the single-process audit of the same images: the same rows, in the same order, with
the same scores to the last bit.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from mint_tui.audit import run_audit
from mint_tui.cli import main
from mint_tui.audit_cli import ray_without_address
from mint_tui.faces.image import cv2
from mint_tui.options import AuditOptions
from mint_tui.paths import assets_dir
from mint_tui.ray_audit import RayError, is_address
from mint_tui.session import AuditRequest, open_audit

REPO = Path(__file__).resolve().parent.parent
PAIR = assets_dir() / "pairs" / "demo-lfw-mlp.mintpair"
NO_RAY = ("Ray Data is the optional extra mint-tui[ray] and is not installed here: pip install -e '.[ray]' "
          "(`make test` installs it)")


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray of 2 CPUs for the module (no dashboard, no usage statistics, loopback only)."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray = pytest.importorskip("ray", reason=NO_RAY)
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def images(lfw, tmp_path, monkeypatch):
    """The sample photos (by a relative path: the workers read it from the driver's working folder),
    a photo with two faces, a broken file, a face-less image and a missing file."""
    monkeypatch.chdir(REPO)
    d = tmp_path / "odd"
    d.mkdir()
    a = cv2.imread(str(lfw / "images/AJ_Lamas/AJ_Lamas_0001.jpg"))
    b = cv2.imread(str(lfw / "images/Aaron_Peirsol/Aaron_Peirsol_0001.jpg"))
    cv2.imwrite(str(d / "two.jpg"), np.concatenate([a, b], axis=1))
    (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    cv2.imwrite(str(d / "blank.png"), np.full((100, 100, 3), 200, np.uint8))
    return ["assets/samples", str(d), str(tmp_path / "missing.jpg")]


def _fields(rows):
    return [{k: v for k, v in asdict(r).items() if k != "crop"} for r in rows]


def test_ray_rows_equal_the_plain_audit(local_ray, images):
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.ray_audit import ray_rows

    pair = load_pair(PAIR)
    # chunks of 4 images: the 16 files are spread over both workers
    options = AuditOptions(faces="all", batch_size=4, device="cpu", threads=1, workers=1)
    plain = _fields(run_audit(images, pair, options))
    seen = []
    distributed = _fields(ray_rows(images, PAIR, pair.bundle_sha256, options, "cpu", progress=seen.append))
    assert distributed == plain  # every field of every row, scores to the last bit, in input order
    assert len(plain) == 18 and sum(r["score"] is not None for r in plain) == 15  # Carlos_Vives_0001: 2 faces
    assert [r["face"] for r in plain if r["path"].endswith("two.jpg")] == [0, 1]
    assert {"member", "non-member", "error", "no-face"} <= {r["verdict"] for r in plain}
    assert plain[0]["path"] == "assets/samples/Carlos_Vives/Carlos_Vives_0001.jpg"  # as given, relative
    assert [p.done for p in seen] == sorted(p.done for p in seen) and seen[-1].done == seen[-1].total == 16


def test_cli_ray_audit_writes_the_plain_audits_rows(local_ray, images, tmp_path, capsys):
    out, ref = tmp_path / "ray.jsonl", tmp_path / "plain.jsonl"
    common = ["--pair", str(PAIR), "--device", "cpu", "--batch-size", "4", "--group-by", "folder"]
    # `--ray PATH`: PATH is an image folder, not an address (a local Ray; here the one already started)
    assert main(["audit", "--ray", "assets/samples", *common, "--jsonl", str(out)]) == 0
    said = capsys.readouterr().err
    assert main(["audit", "assets/samples", *common, "--threads", "1", "--jsonl", str(ref)]) == 0
    assert said == capsys.readouterr().err  # the same summary and identity tests
    got, want = out.read_text().splitlines(), ref.read_text().splitlines()
    header = json.loads(got[0])
    assert header["ray"] == "local" and header["options"]["threads"] == 1 and header["options"]["workers"] == 1
    assert got[1:] == want[1:] and len(got) == 14  # header, 12 rows, end record
    assert "identity test" in said and "Hugo_Chavez" in said


def test_cancel_stops_the_ray_audit_with_the_rows_so_far(local_ray, images):
    import threading

    from mint_tui.pairs.loaded import load_pair
    from mint_tui.ray_audit import ray_rows

    cancel = threading.Event()
    pair = load_pair(PAIR)
    rows = []
    for row in ray_rows(images, PAIR, pair.bundle_sha256, AuditOptions(batch_size=2, device="cpu"), "cpu",
                        cancel=cancel):
        rows.append(row)
        cancel.set()
    assert len(rows) == 1 and rows[0].path.endswith("Carlos_Vives_0001.jpg")  # of 18


def test_a_changed_bundle_is_refused_before_anything_runs(local_ray, images):
    from mint_tui.ray_audit import ray_rows

    rows = ray_rows(images, PAIR, "0" * 64, AuditOptions(device="cpu"), "cpu")
    with pytest.raises(RayError, match="changed since it was loaded"):
        list(rows)


def test_without_the_extra_the_request_says_what_to_install(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(RayError, match=r"pip install 'mint-tui\[ray\]'"):
        open_audit(AuditRequest([str(REPO / "assets/samples")], str(PAIR), ray="local"))
    out = tmp_path / "never.jsonl"
    assert main(["audit", "--ray", str(REPO / "assets/samples"), "--pair", str(PAIR), "--jsonl", str(out)]) == 1
    assert "mint-tui[ray]" in capsys.readouterr().err
    assert not out.exists() and not out.with_name("never.jsonl.partial").exists()  # refused before any output


def test_a_ray_audit_does_not_resume(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    assert main(["audit", "--ray", str(REPO / "assets/samples"), "--jsonl", str(out), "--resume"]) == 2
    assert "leave out --ray" in capsys.readouterr().err and not list(tmp_path.iterdir())


def test_ray_option_takes_an_address_or_leaves_the_path():
    assert ray_without_address(["audit", "--ray", "photos"]) == ["audit", "--ray=local", "photos"]
    assert ray_without_address(["audit", "--ray", "auto", "photos"]) == ["audit", "--ray", "auto", "photos"]
    assert ray_without_address(["audit", "photos", "--ray"]) == ["audit", "photos", "--ray"]
    assert ray_without_address(["audit", "--ray", "--json", "-", "x"]) == ["audit", "--ray", "--json", "-", "x"]
    assert ray_without_address(["train", "--ray", "x"]) == ["train", "--ray", "x"]
    for address in ("auto", "local", "10.0.0.5:6379", "head.example:6379", "ray://head:10001", "[::1]:6379"):
        assert is_address(address), address
    for path in ("photos", "./photos", "/data/photos", "a.jpg", "C:photos"):
        assert not is_address(path), path
