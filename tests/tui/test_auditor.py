"""What an auditor sees (issue 15): the defects a new user hit in the Results, Open, Export, palette
and help screens, each tested as the user met it (Pilot on the real app and core)."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable

from .conftest import calibration_scores, settle
from .test_flows import text_of


def people_results_file(folder: Path) -> Path:
    """A result file of two people (per-folder groups) with the identity test made by the core's own
    test from made-up calibration scores; one person's folder has no scored face."""
    from mint_tui.audit import AuditOptions, ResultRow
    from mint_tui.identity import IdentityTest
    from mint_tui.results import FORMAT, FORMAT_VERSION, results_json

    rows = [
        ResultRow("people/Hugh_Grant/Hugh_Grant_0001.jpg", "a" * 64, 0, (1.0, 1.0, 50.0, 50.0), 0.9, 0.02,
                  "non-member"),
        ResultRow("people/Hugh_Grant/Hugh_Grant_0004.jpg", "b" * 64, 0, (1.0, 1.0, 50.0, 50.0), 0.9, 0.0,
                  "non-member"),
        ResultRow("people/Anna_Kournikova/Anna_Kournikova_0001.jpg", "c" * 64, 0, (1.0, 1.0, 50.0, 50.0), 0.9,
                  1.0, "member"),
        ResultRow("people/Anna_Kournikova/Anna_Kournikova_0002.jpg", "d" * 64, 0, (1.0, 1.0, 50.0, 50.0), 0.9,
                  0.97, "member"),
        ResultRow("people/Nobody/drawn.png", "e" * 64, None, None, None, None, "no-face", "no face found"),
    ]
    test = IdentityTest(calibration_scores(), 0.05)
    identities = [test("Anna_Kournikova", [1.0, 0.97]), test("Hugh_Grant", [0.02, 0.0]), test("Nobody", [])]
    header = {"format": FORMAT, "version": FORMAT_VERSION, "tool_version": "test",
              "created": "2025-01-01T00:00:00+00:00",
              "pair": {"name": "tiny-test", "title": "tiny-test", "bundle_sha256": "0" * 64, "threshold": 0.5,
                       "inconclusive": [0.4, 0.6]},
              "device": "cpu", "options": {k: v for k, v in vars(AuditOptions()).items() if k != "keep_crops"}}
    path = folder / "people.json"
    path.write_text(results_json(header, rows, identities=identities), encoding="utf-8")
    return path


def facts(app) -> str:
    return text_of(app.main_screen.query_one("#row-facts"))


# ------------------------------------------------------------------ 1: People rows are people
async def test_moving_in_the_people_table_keeps_the_highlighted_photo(make_app, demo_folder):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_results(people_results_file(Path(".")))
        await settle(pilot)
        await pilot.press("slash", *"Hugh", "enter")  # search Hugh, back to the table
        await pilot.press("down")  # Hugh_Grant_0004 (score 0.000)
        await settle(pilot)
        assert "Hugh_Grant_0004.jpg" in facts(app)
        await pilot.press("p")
        people = app.main_screen.query_one("#people-table", DataTable)
        assert people.has_focus
        await pilot.press("down", "down")
        await settle(pilot)
        # the People table explains the person; the photo on the right stays the highlighted image
        assert "Nobody" in text_of(app.main_screen.query_one("#people-explain"))
        assert "Hugh_Grant_0004.jpg" in facts(app)
        assert "0.000" in text_of(app.main_screen.query_one("#verdict-explain"))


# ------------------------------------------------------------------ 2: the sort holds across a re-run
def scores_shown(app) -> list[str]:
    table = app.main_screen.query_one("#results-table", DataTable)
    idx = [c.key.value for c in table.ordered_columns].index("score")
    return [str(table.get_row_at(i)[idx]) for i in range(table.row_count)]


async def test_a_rerun_keeps_the_sort_the_status_names(make_app, demo_folder, lfw_faces, installed_pair):
    from mint_tui.tui.screens.confirm import ConfirmScreen

    from .conftest import wait_run

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.toggle_mark(demo_folder / "drawn-1.png", False)  # no face: first in input order, last by score
        app.toggle_mark(demo_folder / "faces", True)
        await pilot.press("r")
        await wait_run(pilot)
        await pilot.press("s")  # by score, highest first
        summary = text_of(app.main_screen.query_one("#summary"))
        assert "by score ↓" in summary
        first = scores_shown(app)
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)  # the results were not exported
        await pilot.press("y")
        await wait_run(pilot)
        await pilot.pause(0.7)  # a re-sort while rows stream in waits up to half a second
        shown = scores_shown(app)
        assert "by score ↓" in text_of(app.main_screen.query_one("#summary"))
        numbers = [float(s) for s in shown if s != "–"]
        assert numbers == sorted(numbers, reverse=True) and shown[-1] == "–"  # no face: last
        assert shown == first


# ------------------------------------------------------------------ 11: people with no face are not counted
def test_people_summary_leaves_out_people_with_no_scored_face():
    from mint_tui.identity import IdentityTest, people_summary

    test = IdentityTest(calibration_scores(), 0.5)
    people = [test("A", [0.99, 0.99]), test("B", [0.01]), test("C", [])]
    assert [p.verdict for p in people] == ["member", "not-shown", "no-faces"]
    assert people_summary(people) == "1 of 2 people shown in the training data; 1 with no scored face, not tested"
    assert people_summary([p.to_dict() for p in people[:1]]) == "1 of 1 person shown in the training data"


async def test_the_people_heading_does_not_count_a_person_with_no_face(make_app, demo_folder):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_results(people_results_file(Path(".")))
        await settle(pilot)
        title = text_of(app.main_screen.query_one("#people-title"))
        assert "of 2 people shown in the training data; 1 with no scored face, not tested" in title


# ------------------------------------------------------------------ 7: the Open dialog takes a typed path
async def test_open_dialog_takes_a_typed_path(make_app, demo_folder):
    from mint_tui.tui.screens.pick_file import PickFileScreen, SuffixTree

    path = people_results_file(Path("."))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        assert isinstance(app.screen, PickFileScreen)
        field = app.screen.query_one("#pick-path")
        assert field.has_focus
        await pilot.press("tab")  # to the tree; typing there goes to the field
        assert app.screen.query_one(SuffixTree).has_focus
        await pilot.press(*str(path))
        assert field.has_focus and field.value == str(path)
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, PickFileScreen)
        assert app.session.origin == "people.json" and len(app.session.rows) == 5


# ------------------------------------------------------------------ 8: export always says what happened
def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_export_says_why_not_or_where(make_app, demo_folder):
    from mint_tui.tui.screens.export import ExportScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")  # before any run
        assert any(n.startswith("Nothing to export yet") for n in notes(app))
        app.open_results(people_results_file(Path(".")))
        await settle(pilot)
        await pilot.press("e")
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("escape")
        assert any(n.startswith("Export cancelled: nothing was written") for n in notes(app))
        await pilot.press("e")
        app.screen.query_one("#export-path").value = "out.csv"
        await pilot.press("enter")
        await settle(pilot)
        assert Path("out.csv").is_file()
        saved = [n for n in notes(app) if n.startswith("Saved 5 rows as CSV: ")]
        assert saved and saved[0].endswith(str(Path("out.csv").resolve().relative_to(Path.home()))
                                           if Path.cwd().is_relative_to(Path.home()) else str(Path("out.csv").resolve()))


# ------------------------------------------------------------------ 9: the command palette
async def test_palette_lists_app_commands_first_and_saves_screenshots(make_app, demo_folder, home):
    from mint_tui.tui.commands import MintCommands

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        provider = MintCommands(app.screen)
        shown = [str(hit.display) async for hit in provider.discover()]
        assert shown[0] == "Run audit" and shown.index("Help") < shown.index("Theme") < shown.index("Quit")
        assert "Cancel audit" not in shown  # only while a run is going
        app.running = True
        assert "Cancel audit" in [c.title for c in app.get_system_commands(app.screen)]
        app.running = False
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"screenshot")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.5)
        await settle(pilot)
        pictures = list((home / "data" / "screenshots").glob("*.svg"))
        assert len(pictures) == 1 and "<svg" in pictures[0].read_text()[:500]
        assert any(n.startswith("Screenshot saved: ") and n.endswith(pictures[0].name) for n in notes(app))


# ------------------------------------------------------------------ 10: keys
async def test_escape_leaves_a_field_and_j_k_move(make_app, demo_folder):
    from mint_tui.tui.widgets.files_pane import ImageTree

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tree = app.main_screen.query_one(ImageTree)
        line = tree.cursor_line
        await pilot.press("j")
        assert tree.cursor_line == line + 1
        await pilot.press("k")
        assert tree.cursor_line == line
        await pilot.press("3")
        alpha = app.main_screen.query_one("#alpha")
        alpha.focus()
        await pilot.pause()
        await pilot.press("escape")
        assert not alpha.has_focus and app.main_screen.query_one("#device").has_focus
        await pilot.press("1")  # a tab key again, not typed into alpha
        assert app.main_screen.active_tab == "images" and alpha.value == "0.05"
        app.open_results(people_results_file(Path(".")))
        await settle(pilot)
        table = app.main_screen.query_one("#results-table", DataTable)
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1


async def test_help_labels_fit_and_say_what_space_does(make_app, demo_folder):
    from mint_tui.tui.screens.help import HelpScreen, key_sections

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause(0.2)
        sections = dict(key_sections())
        space = dict(sections["Images (file browser)"])["space"]
        assert "move down" in space
        assert ("j / k", "down / up, as the arrow keys") in sections["Results"]
        # every key label is shown whole: the column is as wide as the longest label
        body = app.screen.query_one("#help-body")
        from rich.console import Console

        console = Console(width=body.size.width, record=True, color_system=None)
        for section in app.screen.query(".help-section"):
            console.print(section.content)
        printed = console.export_text()
        for rows in sections.values():
            for keys, _ in rows:
                assert keys in printed, keys


# ------------------------------------------------------------------ 5: progress per image
def test_progress_text_says_prepared_and_scored_with_rate_and_eta(capsys):
    from mint_tui.audit import AuditProgress
    from mint_tui.audit_cli import ProgressBar
    from mint_tui.tui.widgets.status_bar import progress_text

    start = AuditProgress(0, 32, 0, 1.5)
    assert progress_text(start) == "0/32 · starting the face detector on the first image…"
    early = AuditProgress(0, 32, 0, 2.0, prepared=3)  # the first seconds: 3 images prepared, none scored
    assert progress_text(early, faces=False) == "3/32 prepared · 0 scored · 1.5 img/s · ETA 0:19"
    late = AuditProgress(32, 40, 30, 20.0, prepared=40, scoring=4.0)
    assert progress_text(late) == "40/40 prepared · 32 scored · 30 faces · 2.0 img/s · ETA 0:01"
    waiting = AuditProgress(0, 8, 0, 4.0, prepared=8)
    assert progress_text(waiting).endswith("scoring the last faces…")
    bar = ProgressBar()
    bar.enabled = True
    bar(early)
    err = capsys.readouterr().err
    assert "3/32 prepared, 0 scored" in err and "1.5 img/s" in err and "ETA   19s" in err


# ------------------------------------------------------------------ 3: what a member verdict says, and its caveat
async def test_member_words_come_with_their_caveat(make_app, demo_folder):
    from mint_tui.pairs.card import IDENTITY_CAVEAT, IDENTITY_CLAIM

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_results(people_results_file(Path(".")))  # its pair is not installed here: the broader reading
        await settle(pilot)
        await pilot.press("slash", *"Anna", "enter")
        await settle(pilot)
        words = text_of(app.main_screen.query_one("#verdict-explain"))
        assert words.startswith("member: score 1.000") and f"{IDENTITY_CLAIM}." in words
        assert IDENTITY_CAVEAT in words.replace("\n", " ")
