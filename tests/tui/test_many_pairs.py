"""Several pairs in the terminal app: choose them on the Pair tab, run one audit, read the matrix
(people or photos by pairs) and drill down from a cell to that photo's result for that pair."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import _fixed_bundle, calibration_scores, palette, settle, wait_run
from .test_flows import results_file


@pytest.fixture
def two_scored_pairs(home: Path, scored_pair: str, tiny_pair_bundle: Path, tmp_path: Path) -> list[str]:
    """``tiny-scored`` and ``tiny-scored-b`` installed: two different random pairs with calibration
    scores, so the identity test runs with both."""
    from conftest import TINY_AUDITED_CONFIG
    from random_pair import make_random_pair

    from mint_tui.pairs.store import PairStore

    other = make_random_pair(tmp_path / "b.mintpair", name="b", seed=7, audited_config=TINY_AUDITED_CONFIG)
    dest = _fixed_bundle(other, tmp_path / "bundles" / "tiny-scored-b.mintpair", "tiny-scored-b",
                         calibration_scores())
    return [scored_pair, PairStore().install(dest).name]


@pytest.mark.slow
async def test_choose_two_pairs_run_and_drill_down_from_the_matrix(make_app, two_scored_pairs):
    from textual.widgets import DataTable

    from mint_tui.tui.screens.matrix import MatrixScreen

    app = make_app(None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")  # the Pair tab; space adds the highlighted pair, a takes them all
        await pilot.pause(0.2)
        first = app.pair_name
        other = next(n for n in two_scored_pairs if n != first)
        await pilot.press("a")
        assert app.audit_pairs == [first, other]
        await pilot.press("a")  # all in already: back to the one in use
        assert app.audit_pairs == [first]
        pair_list = app.pairs_pane().query_one("#pair-list")
        pair_list.highlighted = [e.name for e in app.pairs].index(other)
        await pilot.press("space")
        assert app.audit_pairs == [first, other]
        assert f"{first}, {other}" in str(app.run_pane().query_one("#run-what").render())
        two_scored_pairs = [first, other]
        await palette(pilot, "Try the sample photos")  # 12 photos, one person per folder
        await settle(pilot)
        await pilot.press("r")
        await wait_run(pilot)
        session = app.session
        assert session.pair_names == two_scored_pairs and session.several_pairs
        assert len(session.rows) == 2 * 12
        assert {r.pair for r in session.rows} == set(two_scored_pairs)
        table = app.main_screen.query_one("#results-table", DataTable)
        assert "pair" in [c.key.value for c in table.ordered_columns]
        people = {(d["name"], d["pair"]): d for d in session.identities}
        assert len(people) == 3 * 2 and all(d["tested_pairs"] == 2 for d in people.values())
        people_table = app.main_screen.query_one("#people-table", DataTable)
        names = [str(people_table.get_row_at(i)[0]) for i in range(people_table.row_count)]
        assert names == [f"{d['name']} · {d['pair']}" for d in session.identities]  # one line per (person, pair)

        await pilot.press("m")  # the matrix: people by pairs
        await pilot.pause(0.3)
        screen = app.screen
        assert isinstance(screen, MatrixScreen) and screen.mode == "people"
        matrix = screen.query_one("#matrix", DataTable)
        assert matrix.row_count == 3 and len(matrix.columns) == 3
        person = screen.lines[0].person
        cell = str(matrix.get_cell_at((0, 2)))
        assert cell.startswith(people[(person, two_scored_pairs[1])]["verdict"])
        assert f"p {people[(person, two_scored_pairs[1])]['p_adjusted']:.4f}" in cell
        await pilot.press("right", "enter")  # that person's photos, in the second pair's column
        await pilot.pause(0.3)
        assert screen.mode == "photos" and screen.person == person and matrix.row_count == 4
        assert matrix.cursor_coordinate.column == 2
        index = screen.lines[0].cells[two_scored_pairs[1]]
        await pilot.press("enter")  # the first photo's result for the second pair
        await pilot.pause(0.3)
        assert not isinstance(app.screen, MatrixScreen)
        assert app.results_pane().current_index() == index
        row = session.rows[index]
        assert row.pair == two_scored_pairs[1] and Path(row.path).parent.name == person
        assert two_scored_pairs[1] in str(app.main_screen.query_one("#row-facts").render())


def two_pair_results(folder: Path) -> Path:
    """results_file's rows scored by two pairs (the second carrying member data), with the identity
    test of two people adjusted across them."""
    import dataclasses

    from mint_tui.audit import ResultRow

    base = json.loads(results_file(folder, name="one.json").read_text())["results"]
    rows = []
    for d in base:
        for pair, shift in (("pair-a", 0.0), ("pair-b", 0.3)):
            row = ResultRow(d["path"], d["sha256"], d["face"], tuple(d["box"]) if d["box"] else None,
                            d["detection_score"], None if d["score"] is None else round(abs(d["score"] - shift), 3),
                            d["verdict"], d["message"], pair=pair, pair_sha256=("a" if pair == "pair-a" else "b") * 64)
            if row.score is not None:
                row = dataclasses.replace(row, verdict="member" if row.score >= 0.6 else
                                          "non-member" if row.score < 0.4 else "inconclusive")
            rows.append(row)
    path = results_file(folder, rows, name="two.json")
    doc = json.loads(path.read_text())
    entry = doc.pop("pair")
    banked = {"member_data": ["this file holds 8 face embeddings of members"], "member_data_stored": True}
    doc["pairs"] = [dict(entry, name="pair-a", bundle_sha256="a" * 64),
                    dict(entry, name="pair-b", bundle_sha256="b" * 64, card=banked)]  # pair-b carries member data
    people = [("audit-demo", "pair-a", 0.0088, 0.0416, "member"), ("audit-demo", "pair-b", 0.0088, 0.0416, "member"),
              ("more", "pair-a", 0.5, 1.0, "not-shown"), ("more", "pair-b", 0.0132, 0.0545, "not-shown")]
    doc["identities"] = [{"name": n, "pair": p, "faces": 2, "statistic": 0.5, "p_value": pv, "alpha": 0.05,
                          "verdict": v, "null_identities": 226, "level": 0.0264, "p_conditional": pa / 2,
                          "p_adjusted": pa, "tested_pairs": 2, "duplicates": 0} for n, p, pv, pa, v in people]
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("size", [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")])
def test_matrix_screen(snap_compare, make_app, demo_folder, size):
    path = two_pair_results(Path("."))

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.open_results(path)
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause(0.3)
        await pilot.press("m")
        await pilot.pause(0.3)
        pilot.app.clear_notifications()
        await pilot.pause(0.3)  # the toasts' fade is over

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)
