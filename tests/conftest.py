"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests that run onnxruntime directly (to compare with mint-tui's view of a graph) keep its telemetry off
# too, as mint_tui.models.audited.onnx_model does before it imports onnxruntime.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

#: Test files left out of ``make test-fast`` (``-m "not slow"``): real audits and training, the TUI
#: driven by Pilot, SVG snapshots, property tests over hostile bundles. The inner loop runs the rest;
#: a slow test in another file carries ``@pytest.mark.slow`` itself. ``make test`` runs everything.
SLOW_FILES = frozenset({
    "test_audit.py", "test_bad_input.py", "test_bad_outputs.py", "test_cli.py", "test_demo_pair.py",
    "test_hostile_bundles.py", "test_report.py", "test_train.py", "test_flows.py", "test_people.py",
    "test_snapshots.py", "test_same_as_cli.py", "test_auditor.py", "test_hostile_text.py",
    "test_bad_runs.py", "test_distributed.py", "test_first_start.py", "test_formats.py", "test_landmarks.py",
    "test_resume.py", "test_ray_audit.py",
})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)

# Bytes of the tiny random pair, built once per test session and copied into
# each test's tmp_path (building it costs a model construction + forward).
_TINY_PAIR_CACHE: dict[str, bytes] = {}

# A narrow MobileFaceNet with a small embedding keeps every test cheap.
TINY_AUDITED_CONFIG = {"width": 0.25, "embedding_size": 32}


@pytest.fixture
def tiny_pair_bundle(tmp_path: Path) -> Path:
    """Path to a ``.mintpair`` with RANDOM weights (``tiny-test``; tests only)."""
    from random_pair import make_random_pair

    dest = tmp_path / "tiny-test.mintpair"
    if "tiny" not in _TINY_PAIR_CACHE:
        make_random_pair(dest, audited_config=TINY_AUDITED_CONFIG)
        _TINY_PAIR_CACHE["tiny"] = dest.read_bytes()
    else:
        dest.write_bytes(_TINY_PAIR_CACHE["tiny"])
    return dest


LFW = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "lfw"


@pytest.fixture(scope="session")
def lfw() -> Path:
    """The shared LFW folder (``../shared/data/lfw``); tests needing it skip where it is absent."""
    if not (LFW / "images").is_dir():
        pytest.skip(f"LFW test data not found at {LFW} (the shared data folder beside the project)")
    return LFW


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own user data/config folders; the crop/activation cache is shared
    across the session so LFW crops are detected once."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("MINT_TUI_HOME", str(home))
    return home
