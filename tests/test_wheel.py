"""A built wheel carries what an audit needs: installed from it (not editable), doctor passes and the samples audit.

The wheel is built from a copy of the source tree and installed with pip (``--no-deps``) into a fresh
virtual environment that reuses the dependencies already installed in this one (a ``.pth`` line
pointing at this environment's site-packages: torch, mediapipe, ... are not installed twice). Every
command runs from a folder outside the source tree, so only the installed package can be imported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.test_samples import BANK_FREE_VERDICTS, EXPECTED_PEOPLE

ROOT = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                              ".hypothesis", "runs", "out", "snapshot_report.html")
#: The wheel must stay small: code, style sheets, detector models, demo pairs, sample photos.
MAX_WHEEL_BYTES = 15_000_000


def run(*cmd: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(the fresh environment's python, a working folder) with mint-tui installed from a freshly built wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=SKIP, symlinks=True)
    p = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
            "-w", tmp / "dist", src, cwd=tmp)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    wheels = list((tmp / "dist").glob("mint_tui-*.whl"))
    assert len(wheels) == 1, wheels
    assert wheels[0].stat().st_size <= MAX_WHEEL_BYTES

    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp).stdout.strip())
    (site / "reuse_project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    p = run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheels[0], cwd=tmp)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    work = tmp / "work"
    work.mkdir()
    return python, work


def cli_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MINT_TUI_HOME")}
    env["MINT_TUI_HOME"] = str(tmp / "home")
    return env


@pytest.mark.slow
def test_wheel_install_audits_the_samples(installed):
    python, work = installed
    env_dir = python.parent.parent
    where = run(python, "-c", "import mint_tui, mint_tui.paths as p; print(mint_tui.__file__); "
                "print(p.samples_dir()); print(p.builtin_pairs_dir()); print(p.detector_dir())", cwd=work)
    assert where.returncode == 0, where.stderr
    located = [Path(x) for x in where.stdout.split()]
    assert all(x.is_relative_to(env_dir) for x in located), f"not the installed package: {located}"
    samples = located[1]

    env = cli_env(work)
    mint = env_dir / "bin" / "mint-tui"
    p = run(mint, "pairs", "list", "--json", cwd=work, env=env)
    assert p.returncode == 0, p.stderr
    builtin = {x["name"] for x in json.loads(p.stdout) if x["builtin"] and not x["error"]}
    assert {"demo-lfw-cnn", "demo-lfw-mlp"} <= builtin

    p = run(mint, "doctor", "--json", cwd=work, env=env)
    checks = {c["name"]: c for c in json.loads(p.stdout)}
    assert p.returncode == 0 and all(c["ok"] for c in checks.values()), p.stdout
    assert str(located[3]) in checks["detector models"]["detail"]

    p = run(mint, "audit", "--device", "cpu", "--group-by", "folder", "--json", work / "out.json", samples,
            cwd=work, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    doc = json.loads((work / "out.json").read_text(encoding="utf-8"))
    assert doc["pair"]["name"] == "demo-lfw-cnn"
    verdicts = {Path(r["path"]).name: r["verdict"] for r in doc["results"]}
    assert len(verdicts) == sum(1 for x in samples.glob("*/*.jpg"))
    assert {row["verdict"] for row in doc["results"]} <= BANK_FREE_VERDICTS  # bank-free default: see test_samples
    people = {x["name"]: x["verdict"] for x in doc["identities"]}
    assert set(people) == set(EXPECTED_PEOPLE) and people["Jan_Ullrich"] != "member"
