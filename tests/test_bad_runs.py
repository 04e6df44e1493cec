"""The bad-run catalogue: inputs and arguments that used to give wrong results, untrained or broken
pairs, or tracebacks (issue 18, items 7-16), and native log lines on the terminal (issue 15, item 6).
Each case runs the real command or library call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from mint_tui.cli import main
from mint_tui.pairs.bundle import BundleError, inspect_bundle, write_bundle
from mint_tui.pairs.loaded import load_pair

PHOTOS = ["Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0002.jpg",
          "AJ_Lamas/AJ_Lamas_0001.jpg", "Colin_Powell/Colin_Powell_0001.jpg"]
CALIBRATION = {"member": np.array([0.9], np.float32), "member_identity": np.array([0]),
               "external": np.linspace(0, 1, 40, dtype=np.float32), "external_identity": np.arange(40) // 2}


def _rewrite(src: Path, dest: Path, audited=None, mint=None, calibration=None) -> Path:
    """A bundle with the same manifest and the given (edited) weights or calibration scores."""
    pair = load_pair(src)
    return write_bundle(dest, pair.manifest, audited or pair.audited.state_dict(), mint or pair.mint.state_dict(),
                        calibration_scores=calibration)


@pytest.fixture
def scored_bundle(tiny_pair_bundle, tmp_path) -> Path:
    return _rewrite(tiny_pair_bundle, tmp_path / "scored.mintpair", calibration=CALIBRATION)


# ---------------------------------------------------------------- 7: the same photo twice counts once
def test_identity_test_counts_a_byte_identical_photo_once(lfw, scored_bundle, tmp_path):
    photo = lfw / "images" / PHOTOS[0]
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(photo.read_bytes())
    docs = {}
    for name, paths in (("once", [photo]), ("twice", [photo, photo]), ("copy", [photo, copy])):
        out = tmp_path / f"{name}.json"
        assert main(["audit", *map(str, paths), "--pair", str(scored_bundle), "--identity", "Aaron",
                     "--json", str(out)]) == 0
        docs[name] = json.loads(out.read_text())
    once = docs["once"]["identities"][0]
    for name in ("twice", "copy"):
        ident = docs[name]["identities"][0]
        assert ident["faces"] == 1 and ident["duplicates"] == 1
        assert ident["p_value"] == once["p_value"] and ident["statistic"] == once["statistic"]
        first, second = docs[name]["results"]
        assert first["message"] == "" and "counted once in the identity test" in second["message"]
        assert str(photo) in second["message"]
        assert "1 duplicate counted once" in main_explanation(ident)


def test_group_by_counts_a_repeat_once_within_a_person_and_never_across_people(lfw, scored_bundle, tmp_path):
    photo = (lfw / "images" / PHOTOS[0]).read_bytes()
    for name in ("a/john/1.jpg", "a/john/2.jpg", "b/john/1.jpg"):  # a/john twice; b/john is another person
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(photo)
    out = tmp_path / "out.json"
    assert main(["audit", str(tmp_path / "a"), str(tmp_path / "b"), "--pair", str(scored_bundle),
                 "--group-by", "folder", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert sorted((i["faces"], i["duplicates"]) for i in doc["identities"]) == [(1, 0), (1, 1)]
    marked = [Path(r["path"]).relative_to(tmp_path).as_posix() for r in doc["results"]
              if "counted once in the identity test" in r["message"]]
    assert marked == ["a/john/2.jpg"]


def main_explanation(ident: dict) -> str:
    from mint_tui.identity import IdentityResult

    return IdentityResult(**ident).explanation


# ---------------------------------------------------------------- 8, 9: no untrained or one-class pair
def _train_args(tiny_pair_bundle, members, external, out, *extra) -> list[str]:
    return ["train", "--audited-from", str(tiny_pair_bundle), "--members", str(members), "--external", str(external),
            "--kind", "mlp", "--taps", "layer1,embedding", "--epochs", "1", "--name", "x", "--out", str(out), *extra]


def _list(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def _lfw_lines(lfw, split: str, n: int) -> list[str]:
    lines = [ln.strip() for ln in (lfw / "splits" / split).read_text().splitlines() if ln.strip()]
    return lines[:n]


def test_train_refuses_external_images_of_one_person(lfw, tiny_pair_bundle, tmp_path, capsys):
    flat = tmp_path / "external"  # one flat folder: one "identity", so validation and calibration get none
    flat.mkdir()
    for line in _lfw_lines(lfw, "mint_train_external.txt", 24):
        (flat / Path(line).name).write_bytes((lfw / "images" / line).read_bytes())
    members = _list(tmp_path / "m.txt", [str(lfw / "images" / p) for p in _lfw_lines(lfw, "mint_train_members.txt", 24)])
    out = tmp_path / "x.mintpair"
    assert main(_train_args(tiny_pair_bundle, members, flat, out)) == 1
    err = capsys.readouterr().err
    assert "cannot train and calibrate a pair" in err and "calibration has" in err
    assert "one folder per person" in err and not out.exists()


def test_train_refuses_members_that_are_the_external_images(lfw, tiny_pair_bundle, tmp_path, capsys):
    lines = [str(lfw / "images" / p) for p in _lfw_lines(lfw, "mint_train_external.txt", 24)]
    members, external = _list(tmp_path / "m.txt", lines), _list(tmp_path / "e.txt", lines)
    out = tmp_path / "x.mintpair"
    assert main(_train_args(tiny_pair_bundle, members, external, out)) == 1
    assert "both members and external" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize(("args", "message"), [(["--epochs", "0"], "epochs must be at least 1"),
                                               (["--epochs", "-1"], "epochs must be at least 1"),
                                               (["--batch-size", "1"], "batch size must be at least 2"),
                                               (["--batch-size", "0"], "batch size must be at least 2"),
                                               (["--lr", "0"], "learning rate must be a positive number")])
def test_train_refuses_arguments_that_cannot_train_before_any_work(tiny_pair_bundle, tmp_path, capsys, monkeypatch,
                                                                   args, message):
    import mint_tui.train.build

    def never(*a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("training started")

    monkeypatch.setattr(mint_tui.train.build, "build_pair", never)
    out = tmp_path / "x.mintpair"
    assert main(_train_args(tiny_pair_bundle, tmp_path, tmp_path, out, *args)) == 2
    assert message in capsys.readouterr().err and not out.exists()


# ---------------------------------------------------------------- 10, 11: NaN weights, dtypes loading refuses
def _with_nan_weights(src: Path, dest: Path) -> Path:
    """The bundle with one MINT weight set to NaN and the manifest's sha256 made to match (as a
    broken training run would write it; write_bundle itself refuses to)."""
    import hashlib
    import tomllib

    import tomli_w
    from safetensors.torch import load, save

    with zipfile.ZipFile(src) as zf:
        entries = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = tomllib.loads(entries["pair.toml"].decode())
    name = manifest["mint"]["weights"]
    state = load(entries[name])
    key = next(k for k, v in state.items() if v.is_floating_point())
    state[key].view(-1)[0] = float("nan")
    entries[name] = save(state)
    manifest["mint"]["sha256"] = hashlib.sha256(entries[name]).hexdigest()
    entries["pair.toml"] = tomli_w.dumps(manifest).encode()
    with zipfile.ZipFile(dest, "w") as zf:
        for entry, data in entries.items():
            zf.writestr(entry, data)
    return dest


def test_bundle_with_nan_weights_is_refused_at_install_and_load(tiny_pair_bundle, tmp_path, capsys):
    bad = _with_nan_weights(tiny_pair_bundle, tmp_path / "nan.mintpair")
    with pytest.raises(BundleError, match="NaN or infinite"):
        inspect_bundle(bad)
    with pytest.raises(BundleError, match="NaN or infinite"):
        load_pair(bad)
    assert main(["pairs", "install", str(bad)]) == 1
    assert "NaN or infinite" in capsys.readouterr().err


def test_a_face_scored_nan_is_an_error_row_naming_the_pair_and_json_stays_valid(lfw, tiny_pair_bundle, tmp_path,
                                                                               monkeypatch):
    from mint_tui.pairs.loaded import LoadedPair

    monkeypatch.setattr(LoadedPair, "score", lambda self, batch: np.full(len(batch), np.nan, np.float32))
    out = tmp_path / "r.json"
    assert main(["audit", str(lfw / "images" / PHOTOS[0]), "--pair", str(tiny_pair_bundle), "--json", str(out)]) == 1
    text = out.read_text()
    assert "NaN" not in text
    (row,) = json.loads(text)["results"]
    assert row["verdict"] == "error" and row["score"] is None and "tiny-test" in row["message"]


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float8_e4m3fn])
def test_calibration_scores_in_a_dtype_loading_cannot_take_are_refused(scored_bundle, tmp_path, dtype):
    """Stored as BF16/F8 they passed install and verify, then every audit crashed in numpy."""
    import hashlib
    import tomllib

    import tomli_w
    from safetensors.torch import load, save

    with zipfile.ZipFile(scored_bundle) as zf:
        entries = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = tomllib.loads(entries["pair.toml"].decode())
    name = next(n for n in entries if n.startswith("calibration"))
    scores = load(entries[name])
    scores["external"] = scores["external"].to(dtype)
    entries[name] = save(scores)
    manifest["calibration"]["scores_sha256"] = hashlib.sha256(entries[name]).hexdigest()
    entries["pair.toml"] = tomli_w.dumps(manifest).encode()
    bad = tmp_path / "low-precision.mintpair"
    with zipfile.ZipFile(bad, "w") as zf:
        for entry, data in entries.items():
            zf.writestr(entry, data)
    with pytest.raises(BundleError, match=r"'external' is stored as (BF16|F8_E4M3), which this tool cannot load"):
        inspect_bundle(bad)


# ---------------------------------------------------------------- 12: eval says what is wrong, no traceback
def test_eval_explains_bad_lists(lfw, tiny_pair_bundle, tmp_path, capsys):
    photo = lfw / "images" / PHOTOS[0]
    blank = tmp_path / "blank"
    blank.mkdir()
    (blank / "grey.png").write_bytes(_grey_png())
    good = _list(tmp_path / "good.txt", [str(lfw / "images" / p) for p in PHOTOS])
    base = ["eval", "--pair", str(tiny_pair_bundle)]
    cases = [
        ([*base, "--members", str(blank), "--external", str(good)], 1, "no face was found in the 1 member image"),
        ([*base, "--members", str(photo), "--external", str(good)], 2, "is an image, not a list"),
        ([*base, "--members", str(_list(tmp_path / "rel.txt", ["nowhere/a.jpg", "b.jpg"])), "--external", str(good)],
         2, "none of the 2 paths listed in"),
        ([*base, "--members", str(good), "--external", str(good), "--reference-members", str(blank)], 1,
         "no face was found in the 1 --reference-members image"),
    ]
    for args, status, message in cases:
        assert main(args) == status, args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    # a byte-order mark and a folder inside a list are read, not failed on
    listed = tmp_path / "bom.txt"
    listed.write_bytes(b"\xef\xbb\xbf" + f"{lfw / 'images' / PHOTOS[2]}\n{lfw / 'images' / 'Colin_Powell'}\n".encode())
    from mint_tui.train.data import read_image_list

    paths = read_image_list(listed)
    assert paths[0] == lfw / "images" / PHOTOS[2] and len(paths) > 2 and all(p.exists() for p in paths)


def _grey_png() -> bytes:
    import cv2

    return cv2.imencode(".png", np.full((64, 64, 3), 128, np.uint8))[1].tobytes()


# ---------------------------------------------------------------- 13: an unwritable cache is skipped, once
def test_unwritable_cache_is_skipped_with_one_warning(lfw, tmp_path, monkeypatch, caplog):
    from mint_tui.faces import PrepareSettings
    from mint_tui.train.data import load_faces

    home = tmp_path / "home-is-a-file"
    home.write_text("x")
    monkeypatch.setenv("MINT_TUI_HOME", str(home))
    with caplog.at_level("WARNING", logger="mint_tui"):
        faces = load_faces([lfw / "images" / p for p in PHOTOS], PrepareSettings())
    assert len(faces) == len(PHOTOS) and not faces.errors
    warnings = [r.getMessage() for r in caplog.records if "cannot be written" in r.getMessage()]
    assert len(warnings) == 1 and "going on without it" in warnings[0]


# ---------------------------------------------------------------- 14: hand-edited result files
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(results={"a": 1}), "'results' must be a list"),
    (lambda d: d["results"].__setitem__(0, [1, 2]), "row 1: a row is a list"),
    (lambda d: d["results"][0].__setitem__("box", "wide"), "box must be four numbers"),
    (lambda d: d["results"][0].__setitem__("box", [1, 2]), "box must be four numbers"),
    (lambda d: d["results"][0].__setitem__("sha256", 12345), "sha256 must be 64 hexadecimal digits"),
    (lambda d: d["results"][0].__setitem__("score", {"x": 1}), "score must be a number"),
    (lambda d: d["results"][0].__setitem__("path", None), "a row has no path"),
    (None, "nested too deeply"),
])
def test_report_on_a_hand_edited_result_file_is_one_clear_message(lfw, tiny_pair_bundle, tmp_path, capsys, edit,
                                                                    message):
    out = tmp_path / "r.json"
    assert main(["audit", str(lfw / "images" / PHOTOS[0]), "--pair", str(tiny_pair_bundle), "--json", str(out)]) == 0
    if edit is None:
        text = out.read_text().rstrip()
        out.write_text(text[:-1] + ', "deep": ' + DEEP + "}\n")
    else:
        doc = json.loads(out.read_text())
        edit(doc)
        out.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["report", str(out), "--html", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1, err


# ---------------------------------------------------------------- 15: a FIFO is refused, never waited on
def test_pairs_install_of_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pair.mintpair"
    os.mkfifo(fifo)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "mint_tui", "pairs", "install", str(fifo)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1 and "not a regular file (a FIFO)" in proc.stderr
    assert time.monotonic() - start < 30


# ---------------------------------------------------------------- 16: the smaller ones
def test_batch_size_is_capped(tiny_pair_bundle, capsys):
    assert main(["audit", "x.jpg", "--pair", str(tiny_pair_bundle), "--batch-size", "1000000"]) == 2
    assert "batch size must be from 1 to 4096" in capsys.readouterr().err


def test_empty_identity_name_is_refused(tiny_pair_bundle, capsys):
    assert main(["audit", "x.jpg", "--pair", str(tiny_pair_bundle), "--identity", ""]) == 2
    assert "--identity needs a name" in capsys.readouterr().err


def test_junk_between_jpeg_segments_is_skipped_quickly(lfw):
    from mint_tui.faces.image import check_image

    raw = (lfw / "images" / PHOTOS[0]).read_bytes()
    n = 4 + int.from_bytes(raw[4:6], "big")  # after the APP0 segment
    junk = raw[:n] + bytes(50_000_000) + raw[n:]
    start = time.process_time()
    check_image(junk)  # the header scan skips the junk at C speed (it took 9-20 s byte by byte)
    assert time.process_time() - start < 2.0


@pytest.mark.parametrize("suffix", [".pfm", ".tiff"])
def test_float_images_decode_in_their_colours(lfw, tmp_path, suffix):
    import cv2

    from mint_tui.faces.image import load_image

    reference = load_image(lfw / "images" / PHOTOS[0])
    path = tmp_path / f"float{suffix}"
    cv2.imwrite(str(path), reference.astype(np.float32) / 255.0)
    decoded = load_image(path)
    assert decoded.dtype == np.uint8 and np.abs(decoded.astype(int) - reference.astype(int)).max() <= 1


def test_audit_into_a_closed_pipe_ends_quietly_and_keeps_files(lfw, tiny_pair_bundle, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(40):
        (folder / f"{i:02d}.jpg").write_bytes((lfw / "images" / PHOTOS[i % 4]).read_bytes())
    out = tmp_path / "rows.csv"
    proc = subprocess.Popen([sys.executable, "-m", "mint_tui", "audit", str(folder), "--pair", str(tiny_pair_bundle),
                             "--jsonl", "-", "--csv", str(out), "--batch-size", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()  # the header line, then the reader goes away (as `| head -1` does)
    proc.stdout.close()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 141, err
    assert b"Traceback" not in err and b"Broken pipe" not in err, err
    assert out.exists() and not Path(str(out) + ".partial").exists()


def test_ctrl_c_during_start_up_prints_no_traceback(tmp_path):
    code = textwrap.dedent("""
        import sys
        import mint_tui.cli as cli
        def interrupted(args):
            raise KeyboardInterrupt  # as if Ctrl-C came while torch was being imported
        cli.COMMANDS["audit"] = interrupted
        sys.exit(cli.main(["audit", "x.jpg"]))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 130 and "Traceback" not in proc.stderr and "interrupted" in proc.stderr


def test_report_checks_the_sha256_before_decoding(lfw, tiny_pair_bundle, tmp_path, monkeypatch):
    import mint_tui.faces.prepare as prepare

    photo = tmp_path / "me.jpg"
    photo.write_bytes((lfw / "images" / PHOTOS[0]).read_bytes())
    out = tmp_path / "r.json"
    assert main(["audit", str(photo), "--pair", str(tiny_pair_bundle), "--json", str(out)]) == 0
    photo.write_bytes((lfw / "images" / PHOTOS[2]).read_bytes())  # changed since the audit
    decoded = []
    real = prepare.decode_image
    monkeypatch.setattr(prepare, "decode_image", lambda data: decoded.append(1) or real(data))
    assert main(["report", str(out), "--html", str(tmp_path / "r.html")]) == 0
    assert not decoded  # the changed file was never handed to a decoder
    assert "sha256 now" in (tmp_path / "r.html").read_text()


# ---------------------------------------------------------------- issue 15 item 6: native log lines
FILTER_CHILD = textwrap.dedent("""
    import os, sys, threading
    from mint_tui import native_log
    native_log.install()
    def native():  # what MediaPipe, LiteRT and libjpeg write to fd 2, from their own threads
        for line in (b"WARNING: Logging before InitGoogle() is written to STDERR\\n",
                     b"W0000 00:00:1733.1 123 inference_runner_litert.cc:1433] Input tensor memory is not aligned\\n",
                     b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n",
                     b"Corrupt JPEG data: 12 extraneous bytes before marker 0xdb\\n",
                     b"E0000 00:00:1733.1 123 graph.cc:1] a real error\\n"):
            os.write(2, line)
    t = threading.Thread(target=native); t.start(); t.join()
    print("python says hello", file=sys.stderr)
    os.write(2, b"\\x1b[2J screen update without newline")
""")


def test_native_log_filter_drops_noise_and_keeps_the_rest():
    proc = subprocess.run([sys.executable, "-c", FILTER_CHILD], capture_output=True, timeout=60)
    err = proc.stderr.decode()
    for noise in ("InitGoogle", "inference_runner", "XNNPACK", "Corrupt JPEG"):
        assert noise not in err, err
    assert "a real error" in err and "python says hello" in err and "screen update without newline" in err


def test_real_audits_print_no_native_log_lines(lfw, tiny_pair_bundle):
    """As `make run` does (group-by folder, two people), five times: not one MediaPipe/absl line."""
    folders = [str(lfw / "images" / "Aaron_Peirsol"), str(lfw / "images" / "AJ_Lamas")]
    for _ in range(5):
        proc = subprocess.run([sys.executable, "-m", "mint_tui", "audit", "--device", "cpu", *folders, "--pair",
                               str(tiny_pair_bundle), "--workers", "2"], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        for noise in ("InitGoogle", "inference_runner", "INFO:", "W0000", "absl"):
            assert noise not in proc.stderr, proc.stderr


# ---------------------------------------------------------------- 17: the verdict does not depend on padding
def test_padding_a_photo_does_not_change_its_crop_or_verdict(lfw):
    """Colin_Powell_0001 scored 0.998 as it is and 0.28-0.53 padded to 500 px with the short-range
    detector; the default detector finds the same face, aligned the same way, at any padding.

    The keypoints move by up to a few percent of the eye distance. The banked pair (an identity-level
    lookup) keeps its score within 0.1 and its verdict. The bank-free default reads activation maps
    tied to pixel positions and is not held to this (before the mirror average its score moved
    0.886 -> 0.659 at 400 px and its verdict turned inconclusive at 1600 px; docs/RESULTS.md,
    "Alignment sensitivity", has how far keypoint jitter moves each pair)."""
    from mint_tui.faces import FaceDetector
    from mint_tui.options import DEFAULT_DETECTOR
    from mint_tui.faces.align import align_face, blazeface_to_4pt
    from mint_tui.faces.extract import to_tensor_batch
    from mint_tui.faces.image import load_image
    from mint_tui.pairs.manifest import verdict
    from mint_tui.paths import assets_dir

    pair = load_pair(assets_dir() / "pairs" / "demo-lfw-cnn-bank.mintpair")
    photo = load_image(lfw / "images" / PHOTOS[3])

    def score(image, keypoints) -> float:
        pre = pair.manifest.audited.preprocess
        crop = align_face(image, blazeface_to_4pt(keypoints), tuple(pre.size), pre.template)
        return float(pair.score(to_tensor_batch([crop], pre.color, tuple(pre.mean), tuple(pre.std)))[0])

    with FaceDetector(DEFAULT_DETECTOR) as detector:
        ref = detector.detect(photo)[0]
        ref_score = score(photo, ref.keypoints)
        iod = float(np.linalg.norm(ref.keypoints[0] - ref.keypoints[1]))
        for canvas in (400, 500, 1000, 1600):
            padded = np.zeros((canvas, canvas, 3), np.uint8)
            off = (canvas - 250) // 2
            padded[off:off + 250, off:off + 250] = photo
            face = detector.detect(padded)[0]
            error = np.linalg.norm(face.keypoints[:4] - (ref.keypoints[:4] + off), axis=1).mean() / iod
            assert error < 0.1, (canvas, error)
            padded_score = score(padded, face.keypoints)
            assert abs(padded_score - ref_score) < 0.1, (canvas, ref_score, padded_score)
            calibration = pair.manifest.calibration
            assert verdict(padded_score, calibration) == verdict(ref_score, calibration), canvas
