"""The marks and people model (no Textual in it): marking, folders that include, groups, counts."""

from __future__ import annotations

from pathlib import Path

from mint_tui.session import PER_FOLDER
from mint_tui.tui.marks import Marks


def test_marking_folders_and_files():
    m = Marks()
    a, b, photo = Path("/d/a"), Path("/d/b"), Path("/d/a/x.jpg")
    assert not m and m.state(a) == ""
    assert m.toggle(photo, False) and m.state(photo) == "marked" and m.images == 1
    assert m.toggle(a, True)  # a folder takes over the marks below it
    assert m.selection == {a: True} and m.state(photo) == "included" and m.images is None
    assert not m.toggle(photo, False) and m.holder(photo) == a  # already included: nothing changes
    generation = m.generation
    assert m.counted(3, generation) and m.images == 3
    m.toggle(b, True)
    assert not m.counted(5, generation) and m.images is None  # a count of older marks is stale
    assert m.text() == "2 folders (counting…)" and m.root() == "/d"
    m.toggle(a, True)
    assert m.selection == {b: True} and m.root() == "/d/b"
    m.clear()
    assert not m and m.images == 0


def test_people_of_the_marks():
    m = Marks()
    ann, folders, photo = Path("/p/ann"), Path("/p/many"), Path("/p/x.jpg")
    for path, is_dir in ((ann, True), (folders, True), (photo, False)):
        m.toggle(path, is_dir)
    assert m.describe(m.ungrouped()) == "1 marked image + 2 marked folders"
    m.group([ann, photo], "Ann")
    m.group([folders], PER_FOLDER)
    assert m.ungrouped() == [] and m.named_people() == ("Ann",)
    assert m.people_names() == ["Ann", "one person per folder"]
    assert m.people() == [(str(ann), "Ann"), (str(photo), "Ann"), (str(folders), PER_FOLDER)]
    m.toggle(ann, True)  # unmarking forgets the person of that mark
    assert (ann not in m.groups) and m.people() == [(str(photo), "Ann"), (str(folders), PER_FOLDER)]
