"""SVG snapshots of the main screens at 80x24 and 120x40.

Deterministic by construction: the app runs in a fresh folder holding ``audit-demo/`` (drawn
pictures, no LFW pixels) with ``MINT_TUI_HOME=home`` (relative), the pair has a fixed date, and the
results screen shows a result file with relative paths. Update with ``--snapshot-update`` after a
deliberate change, and look at the report before committing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import settle
from .test_flows import move_to, results_file

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


async def ready(pilot) -> None:
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", SIZES)
def test_images_screen(snap_compare, make_app, demo_folder, installed_pair, size):
    async def run_before(pilot):
        await settle(pilot)
        await move_to(pilot, "more")
        await pilot.press("space")  # mark the folder (the cursor moves on)
        await move_to(pilot, "drawn-2.png")
        await pilot.press("space")
        await move_to(pilot, "drawn-1.png")
        await ready(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_pair_screen(snap_compare, make_app, demo_folder, installed_pair, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("2")
        await ready(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


def test_pair_screen_without_pairs(snap_compare, make_app, demo_folder):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("2")
        await ready(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_run_screen(snap_compare, make_app, demo_folder, installed_pair, size):
    async def run_before(pilot):
        await settle(pilot)
        pilot.app.toggle_mark(demo_folder / "more", True)
        await pilot.press("3")
        await ready(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_results_screen(snap_compare, make_app, demo_folder, size):
    path = results_file(Path("."))

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.open_results(path)
        await settle(pilot)
        await pilot.press("down")  # drawn-2.png, a non-member, with its source image
        await ready(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


def test_results_filtered_and_sorted(snap_compare, make_app, demo_folder):
    path = results_file(Path("."))

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.open_results(path)
        await settle(pilot)
        await pilot.press("s", "f")  # by score, members only
        await ready(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare, make_app, demo_folder, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await ready(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


def test_export_dialog(snap_compare, make_app, demo_folder):
    path = results_file(Path("."))

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.open_results(path)
        await settle(pilot)
        await pilot.press("e")
        field = pilot.app.screen.query_one("#export-path")
        field.cursor_blink = False  # a blinking cursor is drawn or not depending on timing
        field.value = "exports/audit.json"
        await ready(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def results_with_people(folder: Path) -> Path:
    """results_file's rows with the identity test of three people (one of each verdict)."""
    import json

    path = results_file(folder)
    doc = json.loads(path.read_text(encoding="utf-8"))
    from mint_tui.identity import rejection_level

    g = 226  # as many null identities as the demo pairs; the cut-off is the one the test would use
    level = rejection_level(g, 0.05)
    doc["identities"] = [
        {"name": "Ann Example", "faces": 3, "statistic": 0.8433, "p_value": 3 / (g + 1), "alpha": 0.05,
         "verdict": "member", "null_identities": g, "level": level},
        {"name": "Bob Example", "faces": 1, "statistic": 0.12, "p_value": 180 / (g + 1), "alpha": 0.05,
         "verdict": "not-shown", "null_identities": g, "level": level},
        {"name": "Cy Example", "faces": 0, "statistic": None, "p_value": 1.0, "alpha": 0.05, "verdict": "no-faces",
         "null_identities": g, "level": level},
    ]
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("size", SIZES)
def test_results_with_people(snap_compare, make_app, demo_folder, size):
    path = results_with_people(Path("."))

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.open_results(path)
        await settle(pilot)
        await pilot.press("p", "down")  # the people table, its second person explained
        await ready(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


def test_group_dialog(snap_compare, make_app, demo_folder):
    async def run_before(pilot):
        await settle(pilot)
        pilot.app.toggle_mark(demo_folder / "more", True)
        pilot.app.toggle_mark(demo_folder / "drawn-1.png", False)
        await settle(pilot)
        await pilot.press("p")
        await ready(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)
