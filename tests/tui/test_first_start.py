"""First start: the app offers the sample photos, audits them with the demo pair; the doctor in the palette."""

from __future__ import annotations

from pathlib import Path

from mint_tui import paths
from mint_tui.session import PER_FOLDER
from tests.test_samples import BANK_FREE_VERDICTS, EXPECTED_PEOPLE
from .conftest import palette, settle, wait_run


def offered(app) -> bool:
    return any("Try the sample photos" in n.message for n in app._notifications)


async def test_first_start_offers_the_samples_and_audits_them(make_app, bundled_pairs):
    app = make_app(None)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.first_start and offered(app)
        await palette(pilot, "try the sample")
        await settle(pilot)
        samples = paths.samples_dir()
        assert app.selection == {samples: True} and app.marks.groups == {samples: PER_FOLDER}
        assert app.marks.images == 12 and app.main_screen.active_tab == "run"
        assert app.pair_name == "demo-lfw-cnn"
        await pilot.press("r")
        await wait_run(pilot)
        rows = app.session.rows
        assert len(rows) == 12
        assert {r.verdict for r in rows} <= BANK_FREE_VERDICTS  # the bank-free default pair: see test_samples
        people = {x["name"]: x["verdict"] for x in app.session.identities}
        assert set(people) == set(EXPECTED_PEOPLE) and people["Jan_Ullrich"] != "member"


async def test_no_offer_with_a_start_folder_or_after_the_first_start(make_app, demo_folder):
    from mint_tui.tui.settings import settings_path

    app = make_app()  # a start folder was given
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not app.first_start and not offered(app)
        await pilot.press("r")  # nothing marked: the hint names the samples
        assert any("try the sample photos" in n.message for n in app._notifications)
    assert settings_path().is_file()
    app = make_app(None)  # settings were saved: not the first start
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not app.first_start and not offered(app)


async def test_doctor_in_the_palette_runs_every_check(make_app, demo_folder, tmp_path, monkeypatch):
    from mint_tui import doctor
    from mint_tui.tui.screens.doctor import DoctorScreen

    monkeypatch.setattr(paths, "builtin_pairs_dir", lambda: tmp_path / "no-bundled-pairs")  # one failure to show
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await palette(pilot, "doctor")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, DoctorScreen)
        for _ in range(600):
            if screen.done:
                break
            await pilot.pause(0.1)
        assert screen.done and [c.name for c in screen.checks] == [name for name, _ in doctor.CHECKS]
        failed = [c for c in screen.checks if not c.ok]
        assert [c.name for c in failed] == ["bundled pairs"] and "reinstall" in failed[0].fix
        shown = str(screen.query_one("#doctor-checks").render())
        assert "ok   torch: torch 2." in shown and "FAIL bundled pairs" in shown and "fix: " in shown
        assert "1 of 9 checks failed" in str(screen.query_one("#doctor-summary").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, DoctorScreen)
