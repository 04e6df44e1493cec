#!/usr/bin/env python3
"""Smoke test of the standalone executable: build it, then exercise it using only the executable.

    .venv/bin/python scripts/exe_smoke.py                 # build dist/mint-tui, then test it
    .venv/bin/python scripts/exe_smoke.py --no-build      # test the dist/mint-tui already there
    .venv/bin/python scripts/exe_smoke.py --exe dist/mint-tui-onedir/mint-tui --no-build

Checks, each printed as PASS/FAIL with its time:
  size         a one-file build is at most 300 MB
  version      `mint-tui --version` prints this source tree's version
  doctor       `doctor` passes every check, finding the detector models and sample photos inside the executable
  pairs        `pairs list` shows the bundled pairs (a random-weights test pair is installed first when
               mint_tui/assets/pairs/ has none yet) and `pairs verify` accepts the pair used below
  audit        `audit IMAGES --json -` on real LFW photos (JPEG, plus PNG and WebP copies, so OpenCV's
               decoders are exercised in the frozen app) gives exactly the scores that the Python package
               (`python -m mint_tui`, this .venv) gives on the same images
  align5       the same pair re-declared with the five-point template (arcface112_5pt: the face-mesh
               model run by LiteRT's interpreter) audits the same photos with the Python package's scores
  onnx         an ONNX pair (a small MobileFaceNet exported as torch2onnx.py does) passes `pairs verify` and
               audits a sample photo and LFW photos with onnxruntime inside the executable, scores identical to
               the Python package
  train        a two-epoch `train` on a handful of photos writes a bundle that `pairs verify` accepts
  plot         `eval --plot` (matplotlib is not in the executable) fails with a message, not a traceback
  tui          the TUI opens under tmux, draws its screen, loads the core (pairs) and quits on `q`
  no-writes    nothing was written next to the executable or in the working folder; pairs, settings and
               caches went to the user directories (HOME is a temporary folder for the whole test)

Exit status 0 when every check passed. Python here is only the reference for the scores and the driver.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / "bin" / "python"
LFW = ROOT.parent / "shared" / "data" / "lfw" / "images"
#: The people `make run` audits (members and non-members of the demo pair), then fallbacks.
PEOPLE = ["Alvaro_Uribe", "Aaron_Peirsol", "Abdullah_Gul", "Adrien_Brody"]
EXTRA_EXTERNAL = ["Ari_Fleischer", "Amelie_Mauresmo"]  # more external people for the train check
MAX_ONEFILE_BYTES = 300_000_000  # the limit for dist/mint-tui
SCORE_FIELDS = ("score",)
SAME_FIELDS = ("verdict", "sha256", "face", "box")

results: list[tuple[str, bool, float, str]] = []
skipped: list[str] = []


def check(name: str):
    """Decorator: run a check, record PASS/FAIL, its duration and a one-line detail."""

    def wrap(fn):
        def run(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                detail = fn(*args, **kwargs) or ""
                ok = True
            except AssertionError as exc:
                detail, ok = f"{exc}", False
            except Exception as exc:  # noqa: BLE001 - a check that crashes has failed
                detail, ok = f"{type(exc).__name__}: {exc}", False
            dt = time.perf_counter() - t0
            results.append((name, ok, dt, detail))
            print(f"[{'PASS' if ok else 'FAIL'}] {name:<10} {dt:6.1f}s  {detail}", flush=True)
            return ok

        return run

    return wrap


class Env:
    """A temporary HOME (user directories), a working folder, and how to run the exe and the package."""

    def __init__(self, exe: Path, tmp: Path) -> None:
        self.exe = exe.resolve()
        self.tmp = tmp
        self.home = tmp / "home"
        self.cwd = tmp / "cwd"
        self.data = tmp / "data"
        for d in (self.home, self.cwd, self.data):
            d.mkdir()
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("XDG_", "MINT_TUI_", "PYTHON", "VIRTUAL_ENV"))}
        self.env.update(HOME=str(self.home), TMPDIR=str(tmp / "tmpdir"), TERM=os.environ.get("TERM", "xterm-256color"))
        (tmp / "tmpdir").mkdir()

    def run(self, *args: str, timeout: float = 600, python: bool = False) -> subprocess.CompletedProcess:
        cmd = [str(VENV_PY), "-m", "mint_tui", *args] if python else [str(self.exe), *args]
        env = dict(self.env)
        if python:
            env["PYTHONPATH"] = str(ROOT)
        return subprocess.run(cmd, cwd=self.cwd, env=env, capture_output=True, text=True, timeout=timeout)


def sh(*cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, **kw)


# ---------------------------------------------------------------- checks
@check("version")
def check_version(e: Env) -> str:
    expected = sh(str(VENV_PY), "-c", "import mint_tui; print(mint_tui.__version__)", cwd=ROOT).stdout.strip()
    p = e.run("--version", timeout=300)
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr[-500:]}"
    assert p.stdout.strip() == f"mint-tui {expected}", f"printed {p.stdout.strip()!r}, expected 'mint-tui {expected}'"
    return p.stdout.strip()


def bundled_pairs() -> list[str]:
    return sorted(p.name for p in (ROOT / "mint_tui" / "assets" / "pairs").glob("*.mintpair"))


@check("pairs")
def check_pairs(e: Env) -> str:
    """List the pairs; pick the pair for the audit (the bundled demo pair, else an installed test pair)."""
    shipped = bundled_pairs()
    if not shipped:
        test_pair = e.data / "exe-smoke-random.mintpair"
        sh(str(VENV_PY), "-c", "import sys; sys.path.insert(0, 'tests'); from random_pair import make_random_pair; "
           "make_random_pair(sys.argv[1], name='exe-smoke-random')", str(test_pair), cwd=ROOT, check=True)
        p = e.run("pairs", "install", str(test_pair))
        assert p.returncode == 0, f"pairs install: exit {p.returncode}: {p.stderr[-500:]}"
    p = e.run("pairs", "list", "--json")
    assert p.returncode == 0, f"pairs list: exit {p.returncode}: {p.stderr[-500:]}"
    entries = json.loads(p.stdout)
    names = [x["name"] for x in entries]
    broken = [f"{x['name']}: {x['error']}" for x in entries if x["error"]]
    assert not broken, f"unusable pairs: {broken}"
    builtin = [x for x in entries if x["builtin"]]
    assert len(builtin) == len(shipped), f"{len(shipped)} bundles in mint_tui/assets/pairs but the exe lists {len(builtin)}"
    for x in builtin:  # bundled pairs are read from inside the executable, never from the source tree
        assert not Path(x["path"]).is_relative_to(ROOT / "mint_tui" / "assets"), f"{x['name']} is read from the source tree: {x['path']}"
    e.pair = builtin[0]["name"] if builtin else "exe-smoke-random"
    p = e.run("pairs", "verify", e.pair)
    assert p.returncode == 0, f"pairs verify {e.pair}: exit {p.returncode}: {p.stderr[-500:]}"
    kind = "bundled" if builtin else "installed random-weights test pair (no bundled pair yet)"
    return f"{', '.join(names)}; auditing with {e.pair} ({kind})"


@check("doctor")
def check_doctor(e: Env) -> str:
    """`doctor` passes every check, and finds the models, pairs and samples inside the executable."""
    p = e.run("doctor", "--json", timeout=300)
    checks = json.loads(p.stdout)
    failed = [f"{c['name']}: {c['detail']} (fix: {c['fix']})" for c in checks if not c["ok"]]
    assert p.returncode == 0 and not failed, f"exit {p.returncode}: {failed or p.stderr[-500:]}"
    found = {c["name"]: c["detail"] for c in checks}
    for name in ("detector models", "sample photos"):
        assert str(ROOT) not in found[name], f"{name} read from the source tree: {found[name]}"
    return f"{len(checks)} checks pass; {found['torch']}"


def pick_images(e: Env, per_person: int) -> list[Path]:
    images: list[Path] = []
    for person in PEOPLE:
        images += sorted((LFW / person).glob("*.jpg"))[:per_person]
    assert images, f"no LFW photos under {LFW}"
    # PNG and WebP copies of the first photo (made with this .venv's OpenCV), so that the frozen app's
    # OpenCV decodes all three formats.
    conv = e.data / "formats"
    conv.mkdir(exist_ok=True)
    code = ("import sys, cv2; im = cv2.imread(sys.argv[1]); "
            "assert cv2.imwrite(sys.argv[2], im) and cv2.imwrite(sys.argv[3], im, [cv2.IMWRITE_WEBP_QUALITY, 95])")
    sh(str(VENV_PY), "-c", code, str(images[0]), str(conv / "face.png"), str(conv / "face.webp"), check=True)
    return images + [conv / "face.png", conv / "face.webp"]


def audit_both(e: Env, images: list[Path], pair: str) -> tuple[list[dict], int, float, float]:
    """Audit ``images`` with the exe and with the Python package; the exe's rows, how many faces were
    scored, and the two run times. Fails unless both agree exactly."""
    args = ["audit", *map(str, images), "--pair", pair, "--device", "cpu", "--json", "-"]
    t0 = time.perf_counter()
    frozen = e.run(*args)
    t_exe = time.perf_counter() - t0
    assert frozen.returncode == 0, f"exe audit: exit {frozen.returncode}: {frozen.stderr[-800:]}"
    t0 = time.perf_counter()
    ref = e.run(*args, python=True)
    t_py = time.perf_counter() - t0
    assert ref.returncode == 0, f"python audit: exit {ref.returncode}: {ref.stderr[-800:]}"
    a, b = json.loads(frozen.stdout)["results"], json.loads(ref.stdout)["results"]
    assert len(a) == len(b) == len(images), f"{len(a)} rows from the exe, {len(b)} from python, {len(images)} images"
    max_diff, scored = 0.0, 0
    for ra, rb in zip(a, b):
        assert ra["path"] == rb["path"], f"row order differs: {ra['path']} vs {rb['path']}"
        for f in SAME_FIELDS:
            assert ra.get(f) == rb.get(f), f"{ra['path']}: {f} {ra.get(f)!r} (exe) != {rb.get(f)!r} (python)"
        if ra["score"] is None or rb["score"] is None:
            assert ra["score"] == rb["score"], f"{ra['path']}: score {ra['score']} vs {rb['score']}"
            continue
        scored += 1
        max_diff = max(max_diff, abs(ra["score"] - rb["score"]))
    assert scored >= len(images) - 2, f"only {scored} of {len(images)} images were scored"
    assert max_diff == 0.0, f"scores differ from the Python package by up to {max_diff:.3g}"
    return a, scored, t_exe, t_py


@check("audit")
def check_audit(e: Env, per_person: int) -> str:
    images = pick_images(e, per_person)
    rows, scored, t_exe, t_py = audit_both(e, images, e.pair)
    for fmt in (".png", ".webp"):
        row = next(r for r in rows if r["path"].endswith(fmt))
        assert row["verdict"] not in ("error", "no-face"), f"{fmt} copy: {row['verdict']} {row.get('message')}"
    e.scores = {r["path"]: r["score"] for r in rows}
    return (f"{scored} faces in {len(images)} images (JPEG, PNG, WebP): scores identical to the Python package "
            f"(exe {t_exe:.1f}s, python {t_py:.1f}s)")


@check("align5")
def check_align5(e: Env, per_person: int) -> str:
    """The five-point template (face mesh run by LiteRT's interpreter) in the frozen app: the same pair
    re-declared with ``arcface112_5pt`` gives the Python package's scores, and other scores than with
    the four-point template."""
    source = ROOT / "mint_tui" / "assets" / "pairs" / f"{e.pair}.mintpair"
    if not source.is_file():
        source = e.data / "exe-smoke-random.mintpair"
    five = e.data / "exe-smoke-5pt.mintpair"
    code = ("import dataclasses as d, sys; from mint_tui.pairs.bundle import write_bundle\n"
            "from mint_tui.pairs.loaded import load_pair\n"
            "p = load_pair(sys.argv[1]); m = p.manifest\n"
            "pre = d.replace(m.audited.preprocess, template='arcface112_5pt')\n"
            "m = d.replace(m, pair=d.replace(m.pair, name='exe-smoke-5pt'), "
            "audited=d.replace(m.audited, preprocess=pre))\n"
            "write_bundle(sys.argv[2], m, p.audited.state_dict(), p.mint.state_dict())")
    sh(str(VENV_PY), "-c", code, str(source), str(five), cwd=ROOT, check=True)
    p = e.run("pairs", "install", str(five))
    assert p.returncode == 0, f"pairs install: exit {p.returncode}: {p.stderr[-500:]}"
    images = [img for person in PEOPLE for img in sorted((LFW / person).glob("*.jpg"))[:per_person]]
    rows, scored, t_exe, t_py = audit_both(e, images, "exe-smoke-5pt")
    moved = sum(1 for r in rows if r["score"] is not None and r["score"] != getattr(e, "scores", {}).get(r["path"]))
    assert moved, "the five-point pair scored every face as the four-point pair did"
    return (f"{scored} faces aligned with arcface112_5pt: scores identical to the Python package, {moved} differ "
            f"from the four-point pair's (exe {t_exe:.1f}s, python {t_py:.1f}s)")


@check("onnx")
def check_onnx_audit(e: Env) -> str:
    """An ONNX pair (a small MobileFaceNet exported as arcface_torch's torch2onnx.py does, random MINT weights;
    tests/random_pair.make_onnx_pair) verifies and audits in the executable (onnx and onnxruntime inside it)
    with exactly the Python package's scores."""
    pair = e.data / "exe-smoke-onnx.mintpair"
    sh(str(VENV_PY), "-c", "import sys; sys.path.insert(0, 'tests'); from random_pair import make_onnx_pair; "
       "make_onnx_pair(sys.argv[1], name='exe-smoke-onnx')", str(pair), cwd=ROOT, check=True)
    for args in (("pairs", "install", str(pair)), ("pairs", "verify", "exe-smoke-onnx")):
        p = e.run(*args)
        assert p.returncode == 0, f"{' '.join(args[:2])} (ONNX pair): exit {p.returncode}: {p.stderr[-800:]}"
    samples = sorted((ROOT / "mint_tui" / "assets" / "samples").glob("*/*.jpg"))[:1]
    images = samples + sorted((LFW / PEOPLE[0]).glob("*.jpg"))[:3]
    rows, scored, t_exe, t_py = audit_both(e, images, "exe-smoke-onnx")
    return (f"ONNX pair verifies; {scored} faces in {len(images)} images (sample photo {samples[0].name if samples else '-'} "
            f"and LFW) scored by onnxruntime inside the executable, identical to the Python package "
            f"(exe {t_exe:.1f}s, python {t_py:.1f}s)")


@check("train")
def check_train(e: Env) -> str:
    members, external = e.data / "members", e.data / "external"
    # One folder per person: train splits the external images by person, and each of its training,
    # validation and calibration parts needs people of its own (so four external people).
    for folder, people in ((members, PEOPLE[:2]), (external, PEOPLE[2:] + EXTRA_EXTERNAL)):
        for person in people:
            (folder / person).mkdir(parents=True)
            for img in sorted((LFW / person).glob("*.jpg"))[:8]:
                shutil.copy(img, folder / person / img.name)
    out = e.data / "exe-smoke-trained.mintpair"
    p = e.run("train", "--audited-from", e.pair, "--members", str(members), "--external", str(external),
              "--kind", "mlp", "--taps", "layer1,embedding", "--epochs", "2", "--name", "exe-smoke-trained",
              "--out", str(out))
    assert p.returncode == 0, f"train: exit {p.returncode}: {p.stderr[-800:]}"
    assert out.is_file(), "no bundle written"
    p = e.run("pairs", "install", str(out))
    assert p.returncode == 0, f"install: {p.stderr[-300:]}"
    p = e.run("pairs", "verify", "exe-smoke-trained")
    assert p.returncode == 0, f"verify: exit {p.returncode}: {p.stderr[-300:]}"
    return "2-epoch MINT trained (torch.optim, torch._dynamo imports) and the bundle verifies"


@check("plot")
def check_plot(e: Env) -> str:
    members = e.data / "members"
    external = e.data / "external"
    p = e.run("eval", "--pair", e.pair, "--members", str(members), "--external", str(external),
              "--plot", str(e.data / "roc.png"), "--device", "cpu")
    assert p.returncode != 0, "eval --plot succeeded, but matplotlib should not be in the executable"
    lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip() and not ln.startswith("[PYI-")]
    assert "Traceback" not in p.stderr, ("eval --plot crashed with a traceback instead of a message: "
                                         f"{lines[-1] if lines else p.stderr[-200:]}")
    return f"refused: {lines[-1]}"


def tmux(*args: str) -> subprocess.CompletedProcess:
    return sh("tmux", *args)


@check("tui")
def check_tui(e: Env, session: str = "mint-exe-smoke") -> str:
    tmux("kill-session", "-t", session)
    status_file = e.data / "tui-exit-status"
    env_args = [a for k, v in e.env.items() if k in ("HOME", "TMPDIR", "TERM", "PATH", "LANG", "LC_ALL")
                for a in ("-e", f"{k}={v}")]
    cmd = f"{e.exe}; echo $? > {status_file}"
    p = tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-c", str(e.cwd), *env_args, cmd)
    assert p.returncode == 0, f"tmux: {p.stderr}"
    t0 = time.perf_counter()
    drawn = ready = None
    screen = ""
    try:
        while time.perf_counter() - t0 < 180:
            screen = tmux("capture-pane", "-p", "-t", session).stdout
            if drawn is None and "mint-tui" in screen and "Images" in screen:
                drawn = time.perf_counter() - t0
            if drawn is not None and re.search(r"\bpair (?!loading)\S+\s+·", screen):
                ready = time.perf_counter() - t0
                break
            if tmux("has-session", "-t", session).returncode != 0:
                break
            time.sleep(0.1)
        assert drawn is not None, f"the TUI did not draw its screen; last screen:\n{screen}"
        assert ready is not None, f"the TUI did not finish loading the core; last screen:\n{screen}"
        assert "Traceback" not in screen, f"traceback on screen:\n{screen}"
        tmux("send-keys", "-t", session, "q")
        t1 = time.perf_counter()
        while tmux("has-session", "-t", session).returncode == 0 and time.perf_counter() - t1 < 30:
            time.sleep(0.1)
        assert tmux("has-session", "-t", session).returncode != 0, "the TUI did not quit on 'q'"
    finally:
        tmux("kill-session", "-t", session)
    status = status_file.read_text().strip() if status_file.exists() else "?"
    assert status == "0", f"the TUI exited with status {status}"
    return f"screen drawn after {drawn:.1f}s, core loaded after {ready:.1f}s, quit on 'q' with status 0"


def snapshot(folder: Path) -> dict[str, tuple[int, float]]:
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime)
            for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


@check("no-writes")
def check_no_writes(e: Env, before: dict, exe_dir: Path) -> str:
    after = snapshot(exe_dir)
    changed = sorted(set(after.items()) ^ set(before.items()))
    assert not changed, f"files changed next to the executable: {[c[0] for c in changed][:10]}"
    stray = sorted(str(p.relative_to(e.cwd)) for p in e.cwd.rglob("*"))
    assert not stray, f"files written in the working folder: {stray[:10]}"
    # torch itself makes an empty torchinductor_<user> folder in TMPDIR when training imports torch._dynamo
    # (the Python package does the same); anything else left there (say, a one-file build's _MEI folder) fails.
    leftovers = sorted(p.name for p in (e.tmp / "tmpdir").iterdir() if not p.name.startswith("torchinductor_"))
    assert not leftovers, f"left in TMPDIR after exit: {leftovers}"
    user = sorted(str(p.relative_to(e.home)) for p in e.home.rglob("*") if p.is_file())
    # onnxruntime's telemetry (device id, event database) must stay off (mint_tui sets ORT_DISABLE_TELEMETRY).
    telemetry = [f for f in user if f.startswith(".cache/Microsoft")]
    assert not telemetry, f"onnxruntime telemetry files written: {telemetry}"
    top = sorted({"/".join(f.split("/")[:3]) for f in user})
    return f"user directories used: {', '.join(top) or 'none'}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exe", type=Path, help="executable to test (default: dist/mint-tui, or "
                    "dist/mint-tui-onedir/mint-tui when --build-args has --onedir)")
    ap.add_argument("--no-build", action="store_true", help="test the executable already built")
    ap.add_argument("--build-args", default="", help="arguments for scripts/build_exe.sh (e.g. --onedir)")
    ap.add_argument("--per-person", type=int, default=3, help="LFW photos per person in the audit check")
    ap.add_argument("--skip", default="", help="comma-separated checks to skip (e.g. train,tui)")
    args = ap.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    t_start = time.perf_counter()

    if not args.no_build:
        t0 = time.perf_counter()
        p = subprocess.run(["bash", str(ROOT / "scripts" / "build_exe.sh"), *args.build_args.split()], cwd=ROOT)
        results.append(("build", p.returncode == 0, time.perf_counter() - t0, f"exit {p.returncode}"))
        print(f"[{'PASS' if p.returncode == 0 else 'FAIL'}] build      {time.perf_counter() - t0:6.1f}s", flush=True)
        if p.returncode != 0:
            return 1
    if args.exe is None:
        onedir = "--onedir" in args.build_args.split()
        args.exe = ROOT / "dist" / ("mint-tui-onedir/mint-tui" if onedir else "mint-tui")
    exe = args.exe if args.exe.is_absolute() else (Path.cwd() / args.exe)
    if not exe.is_file():
        print(f"exe_smoke: no executable at {exe}", file=sys.stderr)
        return 1
    size = sum(f.stat().st_size for f in exe.parent.rglob("*") if f.is_file() and not f.is_symlink()) if exe.parent.name.endswith(
        "-onedir") else exe.stat().st_size
    print(f"exe_smoke: testing {exe} ({size / 1e6:.0f} MB)", flush=True)
    if not exe.parent.name.endswith("-onedir"):
        ok = size <= MAX_ONEFILE_BYTES
        results.append(("size", ok, 0.0, ""))
        print(f"[{'PASS' if ok else 'FAIL'}] size          0.0s  {size / 1e6:.1f} MB, limit {MAX_ONEFILE_BYTES / 1e6:.0f} MB"
              + ("" if ok or shutil.which("objcopy") else " (objcopy missing: install binutils)"), flush=True)
    exe_dir = exe.parent
    before = snapshot(exe_dir)

    with tempfile.TemporaryDirectory(prefix="mint-exe-smoke-") as tmp:
        e = Env(exe, Path(tmp))
        e.pair = None
        check_version(e)
        if "doctor" not in skip:
            check_doctor(e)
        if check_pairs(e):
            if "audit" not in skip:
                check_audit(e, args.per_person)
            if "align5" not in skip:
                check_align5(e, args.per_person)
            if "onnx" not in skip:
                check_onnx_audit(e)
            if "train" not in skip:
                check_train(e)
            if "plot" not in skip and (e.data / "members").is_dir():
                check_plot(e)
        if "tui" not in skip and not shutil.which("tmux"):
            print("[SKIP] tui        tmux is not installed: the TUI was not tested", flush=True)
            skipped.append("tui")
        elif "tui" not in skip:
            check_tui(e)
        check_no_writes(e, before, exe_dir)

    failed = [r for r in results if not r[1]]
    print(f"exe_smoke: took {time.perf_counter() - t_start:.0f}s in all")
    print(f"exe_smoke: {len(results) - len(failed)} passed, {len(failed)} failed"
          + (f", {len(skipped)} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
