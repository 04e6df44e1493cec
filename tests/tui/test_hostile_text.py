"""File names, messages and bundle titles with control characters or markup are shown escaped and
literal in the TUI: they can neither move the terminal's cursor nor be read as Rich markup
(issue 18, item 5)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.widgets import DataTable, Static

from .conftest import settle

SPOOF = "audit-demo/x\r\x1b[2Kmember 0.998 [bold]photos_of_bob\u202e.png"
MESSAGE = "cannot decode \x1b[31m[red]this[/red]\x07"


def _results(folder: Path) -> Path:
    from mint_tui.audit import ResultRow

    from .test_flows import results_file

    return results_file(folder, [ResultRow(SPOOF, None, None, None, None, None, "error", MESSAGE),
                                 ResultRow("audit-demo/\x1b]0;title\x07.png", "a" * 64, 0, (1.0, 1.0, 9.0, 9.0), 0.9,
                                           0.1, "non-member")], "hostile.json")


def _plain(renderable) -> str:
    return getattr(renderable, "plain", str(renderable))


async def test_results_table_and_detail_escape_control_characters(make_app, demo_folder):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_results(_results(Path(".")))
        await settle(pilot)
        table = app.main_screen.query_one(DataTable)
        cells = [_plain(c) for i in range(table.row_count) for c in table.get_row_at(i)]
        text = " ".join(cells)
        assert "\x1b" not in text and "\r" not in text and "\x07" not in text and "\u202e" not in text
        assert "0.998 [bold]photos_of_bob\\u202e.png" in text  # literal, not markup (the name's tail is shown)
        assert "cannot decode \\x1b[31m[red]this[/red]\\x07" in text
        explain = str(app.main_screen.query_one("#verdict-explain", Static).render())
        facts = str(app.main_screen.query_one("#row-facts", Static).render())
        for shown in (explain, facts):
            assert "\x1b" not in shown and "\r" not in shown
        assert "\\x1b[31m[red]this[/red]" in explain and "\\r\\x1b[2K" in facts


async def test_pair_card_escapes_a_hostile_title(make_app, demo_folder, pair_file, tmp_path):
    from mint_tui.pairs.bundle import read_manifest, write_bundle
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.pairs.store import PairStore

    m = read_manifest(pair_file)
    pair = load_pair(pair_file)
    m = dataclasses.replace(m, pair=dataclasses.replace(m.pair, title="Nice\r\x1b[2K[b]OK[/b]\x07",
                                                        description="one\ntwo\x1b[5m"))
    hostile = write_bundle(tmp_path / "hostile.mintpair", m, pair.audited.state_dict(), pair.mint.state_dict())
    PairStore().install(hostile)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        pane = app.main_screen.query_one("#pair-card", Static)
        pane_text = "\n".join(line.text for line in pane.render_lines(pane.region.reset_offset))
        assert "\x1b" not in pane_text and "\r" not in pane_text
        assert "Nice\\r\\x1b[2K[b]OK[/b]\\x07" in pane_text and "two\\x1b[5m" in pane_text
