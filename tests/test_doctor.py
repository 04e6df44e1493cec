"""`mint-tui doctor`: every check passes here, and each failure it is meant to find is found, with a fix."""

from __future__ import annotations

import json
import shutil

import pytest

from mint_tui import doctor, paths
from mint_tui.cli import main


def by_name(name: str) -> doctor.Check:
    return doctor.run_check(name, dict(doctor.CHECKS)[name])


def test_all_checks_pass_in_the_test_environment(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for name, _ in doctor.CHECKS:
        assert f"ok    {name}" in out
    assert "FAIL" not in out and out.rstrip().endswith("all checks passed")
    assert "demo-lfw-cnn" in out and "cpu" in out


def test_json_output_lists_every_check(capsys):
    assert main(["doctor", "--json"]) == 0
    checks = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in checks] == [name for name, _ in doctor.CHECKS]
    assert all(c["ok"] and c["detail"] for c in checks)


def test_a_missing_system_library_names_its_package(monkeypatch):
    monkeypatch.setitem(doctor.SYSTEM_LIBRARIES, "libmint-tui-absent.so.9", "mint-tui-absent-pkg")
    check = by_name("system libraries")
    assert not check.ok and "libmint-tui-absent.so.9" in check.detail
    assert check.fix == "install them: sudo apt-get install mint-tui-absent-pkg (Debian/Ubuntu package names)"


def test_a_second_opencv_distribution_is_found(tmp_path, monkeypatch, capsys):
    info = tmp_path / "opencv_python-4.10.0.84.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: opencv-python\nVersion: 4.10.0.84\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    check = by_name("OpenCV distributions")
    assert not check.ok and "2 OpenCV distributions" in check.detail and "opencv-python 4.10.0.84" in check.detail
    assert "pip uninstall opencv-python," in check.fix and "--force-reinstall opencv-contrib-python" in check.fix
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  OpenCV distributions" in out and "fix: keep only opencv-contrib-python" in out
    assert out.rstrip().endswith(f"1 of {len(doctor.CHECKS)} checks failed")


def test_a_damaged_detector_model_is_found(tmp_path, monkeypatch):
    import mint_tui.faces.detect as detect

    damaged = tmp_path / "detector"
    shutil.copytree(paths.detector_dir(), damaged)
    model = damaged / detect.DETECTOR_MODELS["full"]
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    monkeypatch.setattr(detect, "detector_dir", lambda: damaged)
    check = by_name("detector models")
    assert not check.ok and "does not match its sha256" in check.detail and "reinstall" in check.fix
    model.unlink()
    assert not by_name("detector models").ok


def test_a_damaged_or_missing_bundled_pair_is_found(tmp_path, monkeypatch):
    bundled = tmp_path / "pairs"
    bundled.mkdir()
    monkeypatch.setattr(paths, "builtin_pairs_dir", lambda: bundled)
    check = by_name("bundled pairs")
    assert not check.ok and "no bundled pair" in check.detail
    data = bytearray((paths.assets_dir() / "pairs" / "demo-lfw-cnn.mintpair").read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside a weights file: its sha256 no longer matches the manifest
    (bundled / "demo-lfw-cnn.mintpair").write_bytes(bytes(data))
    check = by_name("bundled pairs")
    assert not check.ok and check.detail.startswith("demo-lfw-cnn: ") and "reinstall" in check.fix


def test_an_unwritable_user_folder_is_found(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(paths.HOME_ENV, str(blocker / "home"))
    check = by_name("user folders")
    assert not check.ok and "is not writable" in check.detail and paths.HOME_ENV in check.fix


def test_user_folders_are_written_to_and_left_clean(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "home"))
    paths.user_cache_dir().mkdir(parents=True)
    check = by_name("user folders")
    assert check.ok and "cache" in check.detail and "(writable)" in check.detail and "(will be created)" in check.detail
    assert list(paths.user_cache_dir().iterdir()) == [] and not paths.user_data_dir().exists()


@pytest.mark.parametrize("name", ["torch", "MediaPipe", "OpenCV", "sample photos"])
def test_each_component_check_reports_what_it_found(name):
    check = by_name(name)
    assert check.ok, check
    expected = {"torch": "torch 2.", "MediaPipe": "face detector loads and runs", "OpenCV": "cv2 ",
                "sample photos": "12 photos of 3 people"}[name]
    assert expected in check.detail
