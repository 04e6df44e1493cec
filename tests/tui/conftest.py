"""Fixtures for the terminal app's tests: an isolated home, generated images, tiny random pairs.

Nothing here stubs the core library: the app lists real pair stores, loads real (tiny, random)
pairs and runs the real audit pipeline on a handful of images.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from pathlib import Path

import pytest
from textual.worker import WorkerState

REPO = Path(__file__).resolve().parents[2]
LFW = REPO.parent / "shared" / "data" / "lfw" / "images"
FIXED_CREATED = "2025-01-01T00:00:00Z"


async def settle(pilot, timeout: float = 60.0) -> None:
    """Wait until the app's workers are done (DirectoryTree's endless loader aside), then a frame."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [w for w in app.workers
                if w.group != "_loader" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        # the core is loaded by a worker started after the first frame: wait for it to have run
        started = app.pairs_loaded and app.devices is not None
        if started and not busy:
            break
        await pilot.pause(0.05)
    else:  # pragma: no cover - a hang is a failure with the culprits named
        raise AssertionError(f"workers still busy after {timeout}s: {busy}")
    await pilot.pause(0.05)


async def palette(pilot, command: str) -> None:
    """Run a command of the command palette (ctrl+p) by typing its name."""
    await pilot.press("ctrl+p")
    await pilot.pause(0.2)
    await pilot.press(*command)
    await pilot.pause(0.5)
    await pilot.press("enter")


async def wait_run(pilot, timeout: float = 120.0) -> None:
    """Wait for an audit started with `r` to finish."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    while app.running and time.monotonic() < deadline:
        await pilot.pause(0.1)
    assert not app.running, "the audit did not finish in time"
    await settle(pilot)


def picture(size: int = 96, seed: int = 0):
    """A drawn, deterministic RGB-ish picture (no face in it): gradient, disc and stripes."""
    import numpy as np

    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    img = np.zeros((size, size, 3), np.uint8)
    img[..., 0] = (255 * x).astype(np.uint8)  # B
    img[..., 1] = (255 * y).astype(np.uint8)  # G
    img[..., 2] = (128 + 100 * np.sin(6 * (x + y) + seed)).astype(np.uint8)  # R
    disc = (x - 0.5) ** 2 + (y - 0.45) ** 2 < 0.08
    img[disc] = (40, 200, 240)
    img[(np.arange(size) // 6 % 2 == 0)[:, None] & (x > 0.8)] = (20, 20, 20)
    return img


def write_png(path: Path, image) -> Path:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated MINT_TUI_HOME (relative, so paths on screen are stable) in a fresh cwd, with no
    bundled pairs (tests that want the shipped demo pairs use ``bundled_pairs``)."""
    from mint_tui.tui import core

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MINT_TUI_HOME", "home")
    (tmp_path / "no-bundled-pairs").mkdir()
    monkeypatch.setattr(core, "BUILTIN_DIR", tmp_path / "no-bundled-pairs")
    return tmp_path / "home"


@pytest.fixture
def bundled_pairs(home: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pairs shipped in ``mint_tui/assets/pairs`` (skipped where none is shipped yet)."""
    from mint_tui.pairs.store import PairStore
    from mint_tui.tui import core

    monkeypatch.setattr(core, "BUILTIN_DIR", None)
    names = [e.name for e in PairStore().list() if e.builtin and e.error is None]
    if not names:
        pytest.skip("no bundled pair in mint_tui/assets/pairs")
    return names


@pytest.fixture
def demo_folder(home: Path) -> Path:
    """``audit-demo/``: two drawn pictures (no face), a broken file, a text file that must not show."""
    folder = Path("audit-demo")
    write_png(folder / "drawn-1.png", picture(96, 0))
    write_png(folder / "drawn-2.png", picture(64, 2))
    (folder / "broken.jpg").write_bytes(b"this is not a JPEG")
    (folder / "notes.txt").write_text("not an image\n")
    write_png(folder / "more" / "drawn-3.png", picture(80, 4))
    return folder.resolve()


@pytest.fixture
def lfw_faces(demo_folder: Path) -> list[Path]:
    """Two real face photos copied into the (temporary) demo folder; skipped without LFW."""
    people = ["Aaron_Peirsol", "Alvaro_Uribe"]
    sources = [LFW / p / f"{p}_0001.jpg" for p in people]
    if not all(s.exists() for s in sources):
        pytest.skip(f"LFW images not found under {LFW}")
    out = []
    for src in sources:
        dest = demo_folder / "faces" / src.name
        dest.parent.mkdir(exist_ok=True)
        shutil.copyfile(src, dest)
        out.append(dest)
    return out


def _fixed_bundle(src: Path, dest: Path, name: str, calibration_scores: dict | None = None) -> Path:
    """Rewrite a random pair with a fixed name and creation date (for stable model cards)."""
    from mint_tui.pairs.bundle import read_manifest, write_bundle
    from mint_tui.pairs.loaded import load_pair

    m = read_manifest(src)
    pair = load_pair(src)
    m = dataclasses.replace(
        m,
        pair=dataclasses.replace(m.pair, name=name, title=f"{name} (random weights, for tests only)"),
        provenance=dataclasses.replace(m.provenance, created=FIXED_CREATED, tool_version="test"),
    )
    return write_bundle(dest, m, pair.audited.state_dict(), pair.mint.state_dict(),
                        calibration_scores=calibration_scores)


_BUNDLES: dict[str, bytes] = {}


@pytest.fixture
def pair_file(tiny_pair_bundle: Path, tmp_path: Path) -> Path:
    """A ``tiny-test.mintpair`` file (random weights, fixed date) outside the store."""
    dest = tmp_path / "bundles" / "tiny-test.mintpair"
    dest.parent.mkdir(exist_ok=True)
    if "tiny-test" not in _BUNDLES:
        _fixed_bundle(tiny_pair_bundle, dest, "tiny-test")
        _BUNDLES["tiny-test"] = dest.read_bytes()
    else:
        dest.write_bytes(_BUNDLES["tiny-test"])
    return dest


def calibration_scores() -> dict:
    """Made-up calibration scores (as tests/test_identity.py): 20 non-member identities of 2 scores
    spread over [0, 1]. With random weights they mean nothing: for tests only."""
    import numpy as np

    return {"member": np.array([0.9], np.float32), "member_identity": np.array([0]),
            "external": np.linspace(0, 1, 40, dtype=np.float32), "external_identity": np.arange(40) // 2}


@pytest.fixture
def scored_pair(home: Path, tiny_pair_bundle: Path, tmp_path: Path) -> str:
    """``tiny-scored`` installed: the tiny random pair with calibration scores, so the identity test runs."""
    from mint_tui.pairs.store import PairStore

    dest = tmp_path / "bundles" / "tiny-scored.mintpair"
    dest.parent.mkdir(exist_ok=True)
    if "tiny-scored" not in _BUNDLES:
        _fixed_bundle(tiny_pair_bundle, dest, "tiny-scored", calibration_scores())
        _BUNDLES["tiny-scored"] = dest.read_bytes()
    else:
        dest.write_bytes(_BUNDLES["tiny-scored"])
    return PairStore().install(dest).name


@pytest.fixture
def people_folder(demo_folder: Path) -> Path:
    """``audit-demo/people/NAME/``: two LFW photos each of Aaron_Peirsol and Alvaro_Uribe (skipped
    without LFW)."""
    folder = demo_folder / "people"
    for person in ("Aaron_Peirsol", "Alvaro_Uribe"):
        for i in (1, 2):
            src = LFW / person / f"{person}_000{i}.jpg"
            if not src.exists():
                pytest.skip(f"LFW images not found under {LFW}")
            (folder / person).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, folder / person / src.name)
    return folder


@pytest.fixture
def installed_pair(home: Path, pair_file: Path) -> str:
    from mint_tui.pairs.store import PairStore

    return PairStore().install(pair_file).name


@pytest.fixture
def make_app(home: Path):
    """MintApp factory: half-block images, settings in the isolated home."""
    from mint_tui.tui.app import MintApp

    def factory(start: str | os.PathLike[str] | None = "audit-demo", **kwargs):
        kwargs.setdefault("image_mode", "halfblock")
        return MintApp(start, **kwargs)

    return factory
