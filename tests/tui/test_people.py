"""People: marks grouped as one person, the identity-level test in the Results tab, and the HTML
audit report (tiny random pairs: the numbers mean nothing, the plumbing is what is tested)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from textual.widgets import Checkbox, DataTable, Input, RadioButton

from mint_tui.tui.screens.export import ExportScreen
from mint_tui.tui.screens.group import GroupScreen
from mint_tui.tui.screens.report import ReportScreen
from mint_tui.session import PER_FOLDER
from mint_tui.tui.widgets.files_pane import ImageTree

from .conftest import calibration_scores, settle, wait_run
from .test_flows import move_to, results_file, text_of


def expected(name: str, rows, folder: str, alpha: float):
    from mint_tui.identity import IdentityTest

    scores = [r.score for r in rows if os.path.basename(os.path.dirname(r.path)) == folder]
    return IdentityTest(calibration_scores(), alpha)(name, scores).to_dict()


def label_of(app, name: str) -> str:
    from rich.style import Style

    tree = app.main_screen.query_one(ImageTree)
    for line in range(tree.last_line + 1):
        node = tree.get_node_at_line(line)
        if node is not None and node.data is not None and node.data.path.name == name:
            return tree.render_label(node, Style(), Style()).plain
    raise AssertionError(name)


def people_text(app) -> str:
    return text_of(app.main_screen.query_one("#people-explain"))


async def group(pilot, name: str | None) -> None:
    """p on the Images tab, then a name (None: tick one person per folder) and enter."""
    app = pilot.app
    await pilot.press("1", "p")
    assert isinstance(app.screen, GroupScreen)
    if name is None:
        app.screen.query_one("#per-folder", Checkbox).value = True
        await pilot.pause()
        await pilot.click("#group")
    else:
        app.screen.query_one("#person-name", Input).value = name
        await pilot.press("enter")
    await settle(pilot)
    assert not isinstance(app.screen, GroupScreen)


# ------------------------------------------------------------------ flows
async def test_group_a_person_run_and_read_the_identity_test(make_app, people_folder, scored_pair):
    from mint_tui.results import read_results

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await move_to(pilot, "people")
        await pilot.press("enter")  # open the folder
        await settle(pilot)
        await move_to(pilot, "Alvaro_Uribe")
        await pilot.press("space")
        await settle(pilot)
        await pilot.press("p")
        assert isinstance(app.screen, GroupScreen)
        name = app.screen.query_one("#person-name", Input)
        assert name.value == "Alvaro_Uribe"  # the folder's name to start with
        name.value = "  "
        await pilot.press("enter")
        assert isinstance(app.screen, GroupScreen)  # a name is needed
        assert "Type the person's name" in text_of(app.screen.query_one("#group-error"))
        name.value = "Alvaro"
        await pilot.press("enter")
        await settle(pilot)
        alvaro = people_folder / "Alvaro_Uribe"
        assert app.groups == {alvaro: "Alvaro"}
        assert "‹Alvaro›" in label_of(app, "Alvaro_Uribe")
        summary = text_of(app.main_screen.query_one("#selection-summary"))
        assert "1 group" in summary
        # a second person, one per folder; a marked image outside any group is audited, not tested
        app.toggle_mark(people_folder / "Aaron_Peirsol", True)
        await group(pilot, None)
        assert app.groups[people_folder / "Aaron_Peirsol"] == PER_FOLDER
        app.toggle_mark(demo_folder_file(people_folder), False)
        await settle(pilot)
        await pilot.press("p")  # nothing new to group but the file: it asks
        assert isinstance(app.screen, GroupScreen)
        await pilot.press("escape")
        assert demo_folder_file(people_folder) not in app.groups
        await pilot.press("3")
        what = text_of(app.main_screen.query_one("#run-what"))
        assert "People   Alvaro, one person per folder" in what
        app.main_screen.query_one("#alpha", Input).value = "0.2"
        await pilot.press("r")
        await wait_run(pilot)
        rows = app.session.rows
        assert len(rows) == 5
        # the identity test of each person, with the pair's calibration scores
        want = [expected("Alvaro", rows, "Alvaro_Uribe", 0.2), expected("Aaron_Peirsol", rows, "Aaron_Peirsol", 0.2)]
        assert app.session.identities == want and app.session.header["identities"] == want
        assert want[0]["faces"] == 2 and want[0]["null_identities"] == 20
        panel = app.main_screen.query_one("#people")
        assert panel.display
        table = app.main_screen.query_one("#people-table", DataTable)
        assert table.row_count == 2
        cells = [str(c) for c in table.get_row_at(0)]
        assert cells[:5] == ["Alvaro", "2", f"{want[0]['statistic']:.3f}", f"{want[0]['p_value']:.4f}",
                             f"{want[0]['level']:.4f}"]
        assert 0 < want[0]["level"] < 0.2  # the p cut-off: stricter than alpha with 20 null identities
        assert cells[5] == want[0]["verdict"]
        assert "Alvaro:" in people_text(app) and f"{want[0]['p_value']:.4f}" in people_text(app)
        title = text_of(app.main_screen.query_one("#people-title"))
        assert "alpha 0.2" in title and " of 2 people shown in the training data" in title
        # p goes to the people table, down explains the next person, p goes back
        await pilot.press("p")
        await settle(pilot)
        assert table.has_focus
        await pilot.press("down")
        assert people_text(app).startswith(want[1]["verdict"]) and "Aaron_Peirsol:" in people_text(app)
        await pilot.press("p")
        assert app.main_screen.query_one("#results-table").has_focus
        assert app.settings.alpha == 0.2
        # exported JSON carries them; reopened, the panel shows them again
        await pilot.press("e")
        app.screen.query_one("#export-path", Input).value = "out/people.json"
        await pilot.press("enter")
        await settle(pilot)
        doc = json.loads(Path("out/people.json").read_text())
        assert doc["identities"] == want and list(doc)[-1] == "results"
        header, _ = read_results("out/people.json")
        assert header["identities"] == want
        app.open_results("out/people.json")
        await settle(pilot)
        assert app.session.origin == "people.json" and app.session.identities == want
        assert table.row_count == 2 and "Alvaro:" in people_text(app)
        # space on a grouped mark takes it out of its group; c forgets every group
        app.toggle_mark(alvaro, True)
        assert alvaro not in app.groups and alvaro not in app.selection
        await pilot.press("1", "c")
        assert app.groups == {} and app.selection == {}


def demo_folder_file(people_folder: Path) -> Path:
    return people_folder.parent / "drawn-1.png"


async def test_a_pair_without_calibration_scores_says_so(make_app, people_folder, installed_pair):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.toggle_mark(people_folder / "Aaron_Peirsol", True)
        await group(pilot, "Aaron")
        await pilot.press("r")
        await wait_run(pilot)
        assert app.session.identities is None and "no calibration scores" in app.session.identity_note
        assert app.main_screen.query_one("#people").display
        assert "carries no calibration scores" in people_text(app)
        assert not app.main_screen.query_one("#people-table").display
        await pilot.press("e")
        app.screen.query_one("#export-path", Input).value = "out/plain.json"
        await pilot.press("enter")
        await settle(pilot)
        assert "identities" not in json.loads(Path("out/plain.json").read_text())


async def test_results_without_people_hide_the_panel(make_app, demo_folder):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_results(results_file(Path(".")))
        await settle(pilot)
        assert not app.main_screen.query_one("#people").display
        await pilot.press("p")
        assert app.main_screen.query_one("#results-table").has_focus


async def test_html_report_from_a_run_and_from_a_reopened_file(make_app, people_folder, scored_pair):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.toggle_mark(people_folder / "Alvaro_Uribe", True)
        await group(pilot, "Alvaro")
        await pilot.press("r")
        await wait_run(pilot)
        await pilot.press("e")
        assert isinstance(app.screen, ExportScreen)
        app.screen.query_one("#export-path", Input).value = "out/audit.json"
        app.screen.query_one("#fmt-html", RadioButton).value = True
        await settle(pilot)
        assert app.screen.query_one("#export-path", Input).value == "out/audit.html"
        assert "self-contained" in text_of(app.screen.query_one("#export-note"))
        app.screen.query_one("#export-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ReportScreen)
        page = Path("out/audit.html").read_text()
        assert '<section id="identities">' in page and "Alvaro" in page
        assert '<tr class="identity">' in page and app.session.identities[0]["verdict"] in page
        assert '<section id="provenance">' in page and app.session.header["pair"]["bundle_sha256"] in page
        assert page.count(">as scored by the audit</div>") == 2  # the crops the audit kept, used as they are
        assert any("Audit report written" in n.message for n in app._notifications)
        assert app.session.unsaved  # a report cannot be reopened: the results are still to export
        # the results file, reopened, has no crops: the report makes them again from the files
        await pilot.press("e")
        app.screen.query_one("#export-path", Input).value = "out/audit.json"
        await pilot.press("enter")
        await settle(pilot)
        app.open_results("out/audit.json")
        await settle(pilot)
        app.action_export("html")
        await pilot.pause()
        assert app.screen.query_one("#fmt-html", RadioButton).value
        app.screen.query_one("#export-path", Input).value = "out/again.html"
        await pilot.press("enter")
        await settle(pilot)
        again = Path("out/again.html").read_text()
        assert "Alvaro" in again and again.count('src="data:image/png;base64,') == 2
        assert ">as scored by the audit</div>" not in again
        # escape stops a report: nothing is written
        app.write_report(Path("out/stopped.html"))
        assert isinstance(app.screen, ReportScreen)
        app.screen.action_cancel_report()  # what escape does, before the worker can be done
        await settle(pilot)
        assert not isinstance(app.screen, ReportScreen)
        assert not Path("out/stopped.html").exists()
        assert any("Report cancelled" in n.message for n in app._notifications)
