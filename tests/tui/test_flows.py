"""Pilot tests of every flow of the terminal app, on the real core (tiny random pairs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static

from mint_tui.tui.screens.confirm import ConfirmScreen
from mint_tui.tui.screens.export import ExportScreen
from mint_tui.tui.screens.help import HelpScreen, key_sections
from mint_tui.tui.screens.pick_file import PickFileScreen
from mint_tui.tui.widgets.files_pane import ImageTree
from mint_tui.tui.widgets.image_view import HalfBlockImage, ImageView

from .conftest import palette, settle, wait_run


def tree_paths(app) -> list[str]:
    tree = app.main_screen.query_one(ImageTree)
    out = []

    def walk(node):
        for child in node.children:
            out.append(child.data.path.name + ("/" if child.allow_expand else ""))
            walk(child)

    walk(tree.root)
    return out


async def move_to(pilot, name: str) -> None:
    """Move the browser's cursor to the entry called ``name``."""
    tree = pilot.app.main_screen.query_one(ImageTree)
    for line in range(tree.last_line + 1):
        node = tree.get_node_at_line(line)
        if node is not None and node.data is not None and node.data.path.name == name:
            tree.move_cursor(node)
            await settle(pilot)
            return
    raise AssertionError(f"{name} not in the browser: {tree_paths(pilot.app)}")


def text_of(widget: Static) -> str:
    return str(widget.render())


# ------------------------------------------------------------------ choose images
async def test_browser_shows_only_images_and_folders(make_app, demo_folder):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        names = tree_paths(app)
        assert "notes.txt" not in names
        assert {"more/", "broken.jpg", "drawn-1.png", "drawn-2.png"} <= set(names)
        assert app.main_screen.query_one(ImageTree).root.label.plain == "audit-demo"


async def test_mark_files_and_folders_with_running_count(make_app, demo_folder):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await move_to(pilot, "drawn-1.png")
        await pilot.press("space")
        await settle(pilot)
        assert app.selection == {demo_folder / "drawn-1.png": False}
        summary = text_of(app.main_screen.query_one("#selection-summary"))
        assert "1 file" in summary and "1 image to audit" in summary
        await move_to(pilot, "more")
        await pilot.press("space")
        await settle(pilot)
        assert app.selection[demo_folder / "more"] is True
        assert app.marks.images == 2
        assert "1 file + 1 folder" in text_of(app.main_screen.query_one("#selection-summary"))
        # a file inside a marked folder is already included
        await move_to(pilot, "more")
        await pilot.press("enter")  # open the folder
        await settle(pilot)
        await move_to(pilot, "drawn-3.png")
        assert app.marks.state(demo_folder / "more" / "drawn-3.png") == "included"
        await pilot.press("space")
        assert demo_folder / "more" / "drawn-3.png" not in app.selection
        # enter on a file marks it too; c clears everything
        await move_to(pilot, "drawn-2.png")
        await pilot.press("enter")
        await settle(pilot)
        assert demo_folder / "drawn-2.png" in app.selection
        await pilot.press("c")
        await settle(pilot)
        assert app.selection == {}
        assert "Nothing marked" in text_of(app.main_screen.query_one("#selection-summary"))


async def test_preview_of_highlighted_image_and_of_a_broken_file(make_app, demo_folder):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await move_to(pilot, "drawn-1.png")
        pixels = app.main_screen.query_one("#preview", ImageView).query_one(HalfBlockImage)
        assert pixels.rgb is not None and pixels.rgb.shape == (96, 96, 3)
        await move_to(pilot, "broken.jpg")
        view = app.main_screen.query_one("#preview", ImageView)
        assert view.has_class("-message")
        assert "cannot show" in text_of(view.query_one(".image-message"))


async def test_browse_up_into_and_go_to_a_folder(make_app, demo_folder):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tree = app.main_screen.query_one(ImageTree)
        await move_to(pilot, "more")
        await pilot.press("full_stop")
        await settle(pilot)
        assert Path(tree.path) == demo_folder / "more"
        assert tree_paths(app) == ["drawn-3.png"]
        await pilot.press("backspace")
        await settle(pilot)
        assert Path(tree.path) == demo_folder
        await pilot.press("g")
        go = app.main_screen.query_one("#go-input", Input)
        assert go.has_focus
        go.value = "audit-demo/more"
        await pilot.press("enter")
        await settle(pilot)
        assert Path(tree.path) == demo_folder / "more"
    from mint_tui.tui.settings import load_settings

    assert load_settings().last_folder == str(demo_folder / "more")  # the next start opens here


async def test_start_folder_defaults_to_the_last_one_used(make_app, demo_folder):
    from mint_tui.tui.settings import Settings, save_settings

    save_settings(Settings(last_folder=str(demo_folder / "more")))
    app = make_app(None)
    assert app.start_folder == demo_folder / "more"
    app = make_app("no/such/folder")
    assert app.start_folder == demo_folder / "more" and "not a folder" in app.start_problem


# ------------------------------------------------------------------ choose a pair
async def test_no_pair_installed_is_handled(make_app, demo_folder):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.pairs_loaded and app.pairs == [] and app.pair_name is None
        await pilot.press("2")
        card = text_of(app.main_screen.query_one("#pair-card"))
        assert "No pair is installed" in card
        await pilot.press("1", "space", "r")
        await settle(pilot)
        assert not app.running
        assert app.main_screen.active_tab == "pair"


async def test_pair_list_and_model_card(make_app, demo_folder, installed_pair):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.pair_name == installed_pair == "tiny-test"
        await pilot.press("2")
        await settle(pilot)
        card = app.main_screen.query_one("#pair-card")
        rendered = "\n".join(line.text for line in card.render_lines(card.region.reset_offset))
        for expected in ("mobilefacenet", "Trained on", "none (random weights", "an MLP over taps layer1, embedding",
                         "Threshold", "0.500", "inconclusive from 0.400 to 0.600", "Calibrated on",
                         "Measured reliability", "Random weights", "Member data",
                         "none: this pair stores no member faces"):
            assert expected in rendered, expected
        await pilot.press("enter")
        await settle(pilot)
        from mint_tui.tui.settings import load_settings

        assert load_settings().pair == "tiny-test"


async def test_bundled_demo_pair_is_the_default_and_cannot_be_removed(make_app, demo_folder, bundled_pairs):
    from mint_tui.pairs.card import metric_label

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.pair_name in bundled_pairs and app.pair_name.startswith("demo")
        await pilot.press("2")
        await settle(pilot)
        card = app.main_screen.query_one("#pair-card")
        rendered = "\n".join(line.text for line in card.render_lines(card.region.reset_offset))
        entry = app.entry(app.pair_name)
        assert "bundled" in rendered and entry.manifest.provenance.training_data[:30] in rendered
        for metric in entry.manifest.metrics[:3]:
            assert metric_label(metric.name) in rendered and f"{metric.value:.3f} (95 % CI" in rendered
        assert "Member data" in rendered
        await pilot.press("d")
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("cannot be removed" in n.message for n in app._notifications)
        assert app.pair_name in [e.name for e in app.pairs]


async def test_install_verify_and_remove_a_pair(make_app, demo_folder, pair_file):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2", "i")
        await settle(pilot)
        assert isinstance(app.screen, PickFileScreen)
        field = app.screen.query_one("#pick-path", Input)
        field.value = str(pair_file)
        field.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert [e.name for e in app.pairs] == ["tiny-test"] and app.pair_name == "tiny-test"
        # installing it again asks before replacing
        await pilot.press("i")
        app.screen.query_one("#pick-path", Input).value = str(pair_file)
        app.screen.query_one("#pick-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert [e.name for e in app.pairs] == ["tiny-test"]
        app.clear_notifications()
        await pilot.press("v")
        await settle(pilot)
        assert any("OK" in n.message for n in app._notifications), list(app._notifications)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert app.pairs == [] and app.pair_name is None
    from mint_tui.pairs.store import PairStore

    assert [e.name for e in PairStore().list() if not e.builtin] == []


async def test_installing_a_bad_file_says_why(make_app, demo_folder, tmp_path):
    bad = tmp_path / "junk.mintpair"
    bad.write_bytes(b"PK not really")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2", "i")
        app.screen.query_one("#pick-path", Input).value = str(bad)
        app.screen.query_one("#pick-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.pairs == []
        assert any("Not installed" in n.message for n in app._notifications)


# ------------------------------------------------------------------ run, cancel, browse
async def mark_all(pilot) -> None:
    """Mark the start folder's image files and subfolders."""
    app = pilot.app
    tree = app.main_screen.query_one(ImageTree)
    for child in list(tree.root.children):
        app.toggle_mark(child.data.path, child.allow_expand, quiet=True)
    await settle(pilot)


async def test_run_folder_with_broken_and_faceless_images(make_app, demo_folder, installed_pair):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await mark_all(pilot)
        assert app.marks.images == 4
        await pilot.press("3")
        assert "found CPU" in text_of(app.main_screen.query_one("#device-found")) or app.devices.cuda
        await pilot.press("r")
        assert app.request is not None  # started (on this machine it may already be over)
        await wait_run(pilot)
        rows = app.session.rows
        verdicts = {Path(r.path).name: r.verdict for r in rows}
        assert verdicts == {"broken.jpg": "error", "drawn-1.png": "no-face", "drawn-2.png": "no-face",
                            "drawn-3.png": "no-face"}
        broken = next(r for r in rows if r.verdict == "error")
        assert broken.message
        table = app.main_screen.query_one(DataTable)
        assert table.row_count == 4 and app.main_screen.active_tab == "results"
        cells = [table.get_row_at(i) for i in range(table.row_count)]
        assert any(broken.message in str(c[-1]) for c in cells)  # the reason is in the table
        summary = text_of(app.main_screen.query_one("#summary"))
        assert "3 no-face" in summary and "1 error" in summary and "0 member" in summary
        assert app.session.unsaved


async def test_run_scores_faces_and_explains_the_verdict(make_app, demo_folder, lfw_faces, installed_pair):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.toggle_mark(demo_folder / "faces", True)
        await pilot.press("r")
        await wait_run(pilot)
        rows = app.session.rows
        assert len(rows) == 2 and all(r.score is not None for r in rows)
        assert all(r.verdict in ("member", "non-member", "inconclusive") for r in rows)
        # the highlighted row shows the crop the model saw, its score against the band, the pair's figures
        await pilot.press("down", "up")
        await settle(pilot)
        crop = app.main_screen.query_one("#crop", ImageView)
        assert not crop.has_class("-message")
        assert crop.query_one(HalfBlockImage).rgb.shape == (112, 112, 3)
        explain = text_of(app.main_screen.query_one("#verdict-explain"))
        assert f"{rows[0].score:.3f}" in explain and "0.400" in explain
        assert "How far to trust it" in text_of(app.main_screen.query_one("#reliability"))
        gauge = app.main_screen.query_one("#gauge")
        assert f"{rows[0].score:.3f}" in gauge.lines(40)[0].plain


async def test_cancel_a_run_keeps_the_rows_so_far(make_app, demo_folder, installed_pair):
    from .conftest import picture, write_png

    for i in range(40):
        write_png(demo_folder / "many" / f"drawn-{i:02d}.png", picture(64, i))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.toggle_mark(demo_folder / "many", True)
        app.main_screen.query_one("#batch-size", Input).value = "1"
        app.action_run_audit()
        assert app.running
        await pilot.press("x")
        assert app.request.cancel.is_set()
        await wait_run(pilot)
        assert len(app.session.rows) < 40
        assert any("cancelled" in n.message for n in app._notifications)
        assert "cancelled" in text_of(app.main_screen.query_one("#run-status")).lower()
        # the rows kept are browsable and exportable
        assert app.main_screen.query_one(DataTable).row_count == len(app.session.rows)


async def test_ui_stays_responsive_while_auditing(make_app, demo_folder, installed_pair):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await mark_all(pilot)
        await pilot.press("r")
        await pilot.press("1", "2", "4")  # keys are handled while the worker runs
        assert app.main_screen.active_tab == "results"
        await wait_run(pilot)
        assert len(app.session.rows) == 4


def results_file(folder: Path, rows: list | None = None, name: str = "results.json") -> Path:
    """A result file as the CLI writes it (made with the core's own writer), with relative paths
    (``rows``: these instead of the usual six)."""
    from mint_tui.audit import AuditOptions, ResultRow
    from mint_tui.results import FORMAT, FORMAT_VERSION, results_json

    rows = rows or [
        ResultRow("audit-demo/drawn-1.png", "a" * 64, 0, (10.0, 12.0, 40.0, 44.0), 0.93, 0.81, "member"),
        ResultRow("audit-demo/drawn-2.png", "b" * 64, 0, (5.0, 5.0, 30.0, 30.0), 0.88, 0.12, "non-member"),
        ResultRow("audit-demo/more/drawn-3.png", "c" * 64, 0, (1.0, 2.0, 50.0, 50.0), 0.9, 0.47, "inconclusive"),
        ResultRow("audit-demo/more/drawn-3.png", "c" * 64, 1, (60.0, 2.0, 10.0, 10.0), 0.6, 0.65, "member"),
        ResultRow("audit-demo/empty.png", "d" * 64, None, None, None, None, "no-face", "no face found"),
        ResultRow("audit-demo/broken.jpg", None, None, None, None, None, "error",
                  "not a decodable image (unknown format or corrupt data)"),
    ]
    header = {"format": FORMAT, "version": FORMAT_VERSION, "tool_version": "test", "created": "2025-01-01T00:00:00+00:00",
              "pair": {"name": "tiny-test", "title": "tiny-test", "bundle_sha256": "0" * 64, "threshold": 0.5,
                       "inconclusive": [0.4, 0.6]},
              "device": "cpu", "options": {k: v for k, v in vars(AuditOptions()).items() if k != "keep_crops"}}
    path = folder / name
    path.write_text(results_json(header, rows), encoding="utf-8")
    return path


async def test_browse_sort_and_filter_verdicts(make_app, demo_folder):
    path = results_file(Path("."))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_results(path)
        await settle(pilot)
        table = app.main_screen.query_one(DataTable)
        assert table.row_count == 6 and app.main_screen.active_tab == "results"
        assert table.has_focus

        def column(name: str) -> list[str]:
            idx = [c.key.value for c in table.ordered_columns].index(name)
            return [str(table.get_row_at(i)[idx]) for i in range(table.row_count)]

        assert column("file")[0] == "drawn-1.png"  # shown relative to the common folder
        await pilot.press("s")  # by score, highest first
        assert column("score")[:4] == ["0.810", "0.650", "0.470", "0.120"]
        await pilot.press("s")  # lowest first; no score last
        assert column("score")[:2] == ["0.120", "0.470"] and column("score")[-1] == "–"
        await pilot.press("f")  # verdict filter: member only
        assert set(column("verdict")) == {"member"} and table.row_count == 2
        await pilot.press("f", "f", "f")  # ... inconclusive, no-face
        assert column("verdict") == ["no-face"]
        await pilot.press("f", "f")  # error, then all again
        assert table.row_count == 6
        await pilot.press("slash")
        assert app.main_screen.query_one("#filter", Input).has_focus
        await pilot.press(*"more")
        assert table.row_count == 2 and set(column("file")) == {"drawn-3.png"}
        assert set(column("folder")) == {"more"}
        summary = text_of(app.main_screen.query_one("#summary"))
        assert "2/6 shown" in summary and "2 member" in summary and "1 error" in summary
        await pilot.press("escape")
        assert table.has_focus
        # clicking a column title sorts by it
        await pilot.click(DataTable, offset=(2, 0))
        await settle(pilot)
        assert app.main_screen.query_one("ResultsPane").sort == "verdict"


async def test_reopened_results_explain_with_the_file_threshold(make_app, demo_folder):
    path = results_file(Path("."))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_results(path)
        await settle(pilot)
        explain = text_of(app.main_screen.query_one("#verdict-explain"))
        assert "member" in explain and "0.810" in explain and "0.600" in explain
        reliability = text_of(app.main_screen.query_one("#reliability"))
        assert "not installed" in reliability
        # the crop is not in result files: the source image is shown instead
        crop = app.main_screen.query_one("#crop", ImageView)
        assert "source image" in text_of(crop.query_one(".image-caption"))


# ------------------------------------------------------------------ export and reopen
async def test_export_json_and_csv_then_reopen(make_app, demo_folder, installed_pair):
    from mint_tui.results import read_results

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await mark_all(pilot)
        await pilot.press("r")
        await wait_run(pilot)
        original = [r.to_dict() for r in app.session.rows]
        await pilot.press("e")
        assert isinstance(app.screen, ExportScreen)
        field = app.screen.query_one("#export-path", Input)
        field.value = "out/audit.json"
        await pilot.press("enter")
        await settle(pilot)
        assert not app.session.unsaved
        header, rows = read_results("out/audit.json")
        assert [r.to_dict() for r in rows] == original
        assert header["pair"]["name"] == "tiny-test" and header["options"]["faces"] == "largest"
        doc = json.loads(Path("out/audit.json").read_text())
        assert doc["summary"]["no-face"] == 3 and doc["summary"]["error"] == 1
        # CSV through the format switch
        await pilot.press("e")
        app.screen.query_one("#export-path", Input).value = "out/audit.json"
        app.screen.query_one("#fmt-csv").value = True
        await settle(pilot)
        assert app.screen.query_one("#export-path", Input).value == "out/audit.csv"
        app.screen.query_one("#export-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        _, rows = read_results("out/audit.csv")
        assert [r.to_dict() for r in rows] == original
        # writing over a file asks first
        await pilot.press("e")
        app.screen.query_one("#export-path", Input).value = "out/audit.csv"
        app.screen.query_one("#export-path", Input).focus()
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.press("escape")
        await settle(pilot)
        # reopen the JSON for browsing
        await pilot.press("o")
        assert isinstance(app.screen, PickFileScreen)
        app.screen.query_one("#pick-path", Input).value = "out/audit.json"
        app.screen.query_one("#pick-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert [r.to_dict() for r in app.session.rows] == original
        assert app.session.origin == "audit.json"
        assert app.main_screen.query_one(DataTable).row_count == 4


async def test_unsaved_results_ask_before_they_go(make_app, demo_folder, installed_pair):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await mark_all(pilot)
        await pilot.press("r")
        await wait_run(pilot)
        assert app.session.unsaved
        await pilot.press("r")  # a new run would discard them
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert not app.running and len(app.session.rows) == 4
        await pilot.press("o")  # so would opening a file
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.press("q")  # and quitting
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert app.is_running
        await pilot.press("r")
        await pilot.press("y")
        await wait_run(pilot)
        assert len(app.session.rows) == 4
        await pilot.press("q", "y")
        await pilot.pause()
    assert app.return_value == 0


# ------------------------------------------------------------------ help, palette, settings
async def test_help_screen_lists_every_key(make_app, demo_folder):
    from mint_tui.tui.app import MintApp
    from mint_tui.tui.screens.help import keys_label
    from mint_tui.tui.screens.main import MainScreen
    from mint_tui.tui.widgets.files_pane import ImageTree as Tree
    from mint_tui.tui.widgets.pairs_pane import PairList
    from mint_tui.tui.widgets.results_pane import ResultsTable

    listed = {keys for _, rows in key_sections() for keys, _ in rows}
    listed |= {key for keys in listed for key in keys.split(" / ")}  # "j / k": j and k
    for cls in (MainScreen, MintApp, Tree, PairList, ResultsTable):
        for binding in cls.BINDINGS:
            assert keys_label(binding.key) in listed, binding
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)


async def test_command_palette_has_the_main_actions(make_app, demo_folder):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Run audit", "Export results", "Open result file", "Install pair",
                      "Verify pair", "Remove pair", "Go to Results", "Help", "Theme"):
            assert title in titles
        await palette(pilot, "go to pair")
        await settle(pilot)
        assert app.main_screen.active_tab == "pair"


async def test_settings_are_kept_between_sessions(make_app, demo_folder):
    from mint_tui.tui.settings import load_settings, settings_path

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        app.main_screen.query_one("#device", Select).value = "cpu"
        app.main_screen.query_one("#faces", Select).value = "all"
        app.main_screen.query_one("#batch-size", Input).value = "8"
        app.theme = "nord"
        await settle(pilot)
    assert settings_path().is_file()
    s = load_settings()
    assert (s.device, s.faces, s.batch_size, s.theme) == ("cpu", "all", 8, "nord")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "nord"
        assert app.main_screen.query_one("#device", Select).value == "cpu"
        assert app.main_screen.query_one("#faces", Select).value == "all"
        assert app.main_screen.query_one("#batch-size", Input).value == "8"


async def test_quick_tab_switches_settle_on_the_last_one(make_app, demo_folder):
    """Two tab changes before a refresh must not make the tabs switch back and forth forever."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.show_tab("pair")
        app.show_tab("results")
        app.show_tab("run")
        app.show_tab("results", focus="#filter")
        for _ in range(5):
            await pilot.pause(0.05)
        assert app.main_screen.active_tab == "results"
        assert app.focused is app.main_screen.query_one("#filter")
        await pilot.press("escape", "1")
        await settle(pilot)
        assert app.main_screen.active_tab == "images" and app.focused is app.main_screen.query_one(ImageTree)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_layout_holds_small_and_wide(make_app, demo_folder, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for tab in "1234":
            await pilot.press(tab)
            await settle(pilot)
            screen = app.main_screen
            for name in ("#status-bar", "Footer", "#tabs"):
                widget = screen.query_one(name)
                assert widget.region.width == size[0], name
            assert screen.query_one("#status-bar").region.y == size[1] - 2


async def test_thousands_of_rows_sort_and_filter(make_app, demo_folder):
    """A big result file stays usable: sorting reorders in place, the search refilters."""
    import random

    from mint_tui.audit import ResultRow
    from mint_tui.results import FORMAT, FORMAT_VERSION, results_json

    rng = random.Random(0)
    rows = []
    for i in range(2000):
        s = rng.random()
        verdict = "member" if s >= 0.6 else "non-member" if s < 0.4 else "inconclusive"
        rows.append(ResultRow(f"big/set{i % 7}/img_{i:05d}.jpg", None, 0, None, None, s, verdict))
    header = {"format": FORMAT, "version": FORMAT_VERSION,
              "pair": {"name": "x", "threshold": 0.5, "inconclusive": [0.4, 0.6]}}
    Path("big.json").write_text(results_json(header, rows))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_results("big.json")
        await settle(pilot)
        table = app.main_screen.query_one(DataTable)
        assert table.row_count == 2000
        await pilot.press("s")
        best = max(r.score for r in rows)
        assert str(table.get_row_at(0)[1]) == f"{best:.3f}"
        await pilot.press("slash", *"set3")
        await pilot.pause(0.4)  # the search refilters once typing pauses
        await settle(pilot)
        assert table.row_count == sum(1 for r in rows if "set3" in r.path)
        scores = [float(str(table.get_row_at(i)[1])) for i in range(table.row_count)]
        assert scores == sorted(scores, reverse=True)


async def test_graphics_mode_composes_and_shows_a_preview(make_app, demo_folder):
    """The textual-image path (Kitty/Sixel terminals) builds and takes pictures without error."""
    pytest.importorskip("textual_image")
    app = make_app(image_mode="graphics")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await move_to(pilot, "drawn-1.png")
        view = app.main_screen.query_one("#preview", ImageView)
        assert not view.has_class("-message")
        assert view.pixels.image is not None
