"""The command line and the TUI run one audit session: the same folders give the same rows, the
same people and the same p-values, same-named people in different parents included."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import picture, settle, wait_run, write_png
from .test_people import group


async def test_cli_and_tui_give_the_same_rows_people_and_p_values(make_app, scored_pair):
    from mint_tui.cli import main
    from mint_tui.tui.settings import Settings

    root = Path("crowd").resolve()
    for seed, rel in enumerate(("a/john/1.png", "a/john/2.png", "b/john/3.png", "b/mary/4.png", "b/mary/5.png")):
        write_png(root / rel, picture(96, seed))
    # the command line: one person per folder
    assert main(["audit", str(root), "--pair", scored_pair, "--faces", "aligned", "--device", "cpu",
                 "--group-by", "folder", "--alpha", "0.2", "--json", "cli.json"]) == 0
    doc = json.loads(Path("cli.json").read_text(encoding="utf-8"))
    # the TUI: the same folder marked, one person per folder, the same options
    app = make_app(str(root), settings=Settings(faces="aligned", device="cpu", alpha=0.2), persist=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.toggle_mark(root, True)
        await group(pilot, None)
        await pilot.press("3", "r")
        await wait_run(pilot)
        rows = [r.to_dict() for r in app.session.rows]
        identities = app.session.identities
    assert rows == doc["results"] and len(rows) == 5 and all(r["score"] is not None for r in rows)
    assert identities == doc["identities"]
    # two people called john (a/john, b/john), not one with three photos
    assert {(i["name"], i["faces"]) for i in identities} == {("crowd/a/john", 2), ("crowd/b/john", 1), ("mary", 2)}
    assert all(0 < i["p_value"] <= 1 for i in identities)
