"""The audit session (mint_tui.session): people, the pair, exports; and the shape of the package
(no import circle, no module over 600 lines, the session cheap to import)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mint_tui.audit import ResultRow
from mint_tui.session import (PER_FOLDER, AuditRequest, Exports, OutputError, PairUnavailable, display_path,
                              export_results, group_people, recorded_calibration, resolve_pair)

PACKAGE = Path(__file__).resolve().parent.parent / "mint_tui"


class Row:
    def __init__(self, path: str, score: float | None = None) -> None:
        self.path, self.score = path, score


# ------------------------------------------------------------------ people
def test_group_people_by_name_and_per_folder():
    rows = [Row(p) for p in ("/d/a/x1.jpg", "/d/a/x2.jpg", "/d/b/c/y.jpg", "/d/b/z.jpg", "/e/one.jpg", "/d/lone.jpg",
                             "/f/c/w.jpg")]
    marks = [("/d/a", "Ann"), ("/e/one.jpg", "Ann"), ("/d/b", PER_FOLDER), ("/f", PER_FOLDER)]
    groups = group_people(marks, rows)
    assert {k: [r.path for r in v] for k, v in groups.items()} == {
        "Ann": ["/d/a/x1.jpg", "/d/a/x2.jpg", "/e/one.jpg"],
        "b": ["/d/b/z.jpg"],
        "/d/b/c": ["/d/b/c/y.jpg"],  # two folders called c: their whole paths say which is which
        "/f/c": ["/f/c/w.jpg"],
    }
    assert group_people([("/d/a", "Ann"), ("/q", "Nobody")], rows)["Nobody"] == []
    assert group_people([], rows) == {}


def test_group_people_with_relative_paths_as_the_command_line_gives_them():
    rows = [Row(p) for p in ("a/john/1.jpg", "a/john/2.jpg", "b/john/3.jpg", "solo.jpg")]
    per_folder = group_people([("a", PER_FOLDER), ("./b/", PER_FOLDER), ("solo.jpg", PER_FOLDER)], rows)
    assert {k: len(v) for k, v in per_folder.items()} == {".": 1, "a/john": 2, "b/john": 1}
    named = group_people([("a", "Jo"), ("b", "Jo"), ("solo.jpg", "Jo")], rows)
    assert {k: len(v) for k, v in named.items()} == {"Jo": 4}


def test_display_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "a" / "b.png") == "a/b.png"
    assert display_path(tmp_path) == "."
    assert display_path("rel/x.png") == "rel/x.png"
    assert display_path(Path.home() / "pics", cwd=Path("/nonexistent")) in ("~/pics", str(Path.home() / "pics"))
    assert display_path("/", cwd=Path("/")) == "/"


def test_request_checks_alpha():
    with pytest.raises(ValueError, match="alpha"):
        AuditRequest(["x"], alpha=1.5)


# ------------------------------------------------------------------ the pair
def test_resolve_pair_names_files_and_what_is_missing(tmp_path, tiny_pair_bundle, monkeypatch):
    from mint_tui.pairs.store import PairStore

    store = PairStore(root=tmp_path / "store", builtin_dir=tmp_path / "none")
    assert resolve_pair(str(tiny_pair_bundle), store) == tiny_pair_bundle
    with pytest.raises(PairUnavailable, match="no pair file"):
        resolve_pair(str(tmp_path / "missing.mintpair"), store)
    with pytest.raises(PairUnavailable, match="no pair is installed"):
        resolve_pair(None, store)
    store.install(tiny_pair_bundle)
    assert resolve_pair(None, store) == resolve_pair("tiny-test", store) == store.root / "tiny-test.mintpair"
    with pytest.raises(PairUnavailable, match="no pair named 'other'"):
        resolve_pair("other", store)


def test_recorded_calibration():
    c = recorded_calibration({"pair": {"threshold": 0.5, "inconclusive": [0.4, 0.6]}})
    assert (c.threshold, c.low, c.high) == (0.5, 0.4, 0.6)
    assert recorded_calibration({"format": "mint-tui/audit"}) is None
    assert recorded_calibration(None) is None


# ------------------------------------------------------------------ exports
def test_exports_refuse_unusable_destinations(tmp_path):
    with pytest.raises(OutputError, match="standard output"):
        Exports({"json": "-", "csv": "-"}).check([])
    with pytest.raises(OutputError, match="name the same file"):
        Exports({"json": str(tmp_path / "r"), "csv": str(tmp_path / "r")}).check([])
    (tmp_path / "in.jpg").write_bytes(b"x")
    with pytest.raises(OutputError, match="one of the inputs"):
        Exports({"csv": str(tmp_path / "in.jpg")}).check([tmp_path / "in.jpg"])
    (tmp_path / "r.csv.partial").write_text("rows of an interrupted audit\n")
    with pytest.raises(OutputError, match="r.csv.partial exists"):
        Exports({"csv": str(tmp_path / "r.csv")}).check([])
    assert not Exports({"json": None}) and Exports({"jsonl": "-"})
    with pytest.raises(OutputError, match="unknown output"):
        Exports({"xml": "-"})


def test_export_results_keeps_identities_and_interruption(tmp_path):
    rows = [ResultRow("/d/a/1.jpg", None, 0, None, None, 0.9, "member"),
            ResultRow("/d/a/3.jpg", None, None, None, None, None, "no-face")]
    identities = [{"name": "Ann", "faces": 1, "p_value": 0.5}]
    header = {"format": "mint-tui/audit", "version": 1, "identities": identities, "interrupted": True}
    doc = json.loads(export_results(tmp_path / "r.json", "json", header, rows).read_text())
    assert doc["identities"] == identities and doc["interrupted"] is True
    assert list(doc)[-3:] == ["summary", "identities", "results"]  # as the command line writes it
    assert "identities" in header  # the caller's header is left as it was
    assert export_results(tmp_path / "r.csv", "csv", header, rows).read_text().splitlines()[0].startswith("path,")
    with pytest.raises(ValueError, match="unknown result format"):
        export_results(tmp_path / "r.xml", "xml", header, rows)


# ------------------------------------------------------------------ the package's shape
def test_session_module_imports_no_torch():
    code = ("import sys, mint_tui.session, mint_tui.options, mint_tui.imagefiles, mint_tui.pairs.bundle, "
            "mint_tui.pairs.store; print([m for m in ('torch', 'cv2', 'mediapipe', 'numpy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _modules() -> dict[str, Path]:
    mods = {}
    for f in PACKAGE.rglob("*.py"):
        parts = list(f.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = f
    return mods


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports: at the top, under TYPE_CHECKING and inside
    functions alike (``from package import name`` counts as the submodule when ``name`` is one)."""
    mods = _modules()

    def owner(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for mod, path in mods.items():
        deps: set[str | None] = set()
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(owner(a.name) for a in node.names if a.name.startswith("mint_tui"))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # from .x import y: relative to the module's package
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([node.module] if node.module else []))
                if base.startswith("mint_tui"):
                    for a in node.names:
                        full = f"{base}.{a.name}"
                        deps.add(full if full in mods else owner(base))
        graph[mod] = {d for d in deps if d is not None and d != mod}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_anywhere():
    assert cycles(import_graph()) == []


def test_core_library_imports_no_ui():
    graph = import_graph()
    ui = ("mint_tui.tui", "mint_tui.cli", "mint_tui.models_cli", "mint_tui.audit_cli", "mint_tui.__main__")  # cli: cli_args
    core = [m for m in graph if not m.startswith(ui)]
    assert {m: sorted(d for d in graph[m] if d.startswith(("mint_tui.tui", "mint_tui.cli"))) for m in core
            if any(d.startswith(("mint_tui.tui", "mint_tui.cli")) for d in graph[m])} == {}


def test_no_private_name_imported_across_modules():
    used = []
    for mod, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mint_tui"):
                used += [f"{mod}: {node.module}.{a.name}" for a in node.names
                         if a.name.startswith("_") and not a.name.startswith("__")]
    assert used == []


# ------------------------------------------------------------------ errors
def test_only_known_user_errors_lose_their_traceback(tmp_path):
    import errno

    from mint_tui.cli import UsageError, _is_user_error
    from mint_tui.pairs.store import PairNotFoundError
    from mint_tui.pairs.verify import BundleError

    assert _is_user_error(BundleError("refused")) and _is_user_error(PairNotFoundError("x", []))
    assert _is_user_error(PairUnavailable("no pair")) and _is_user_error(FileNotFoundError(errno.ENOENT, "gone", "f"))
    assert not _is_user_error(ValueError("a bug")) and not _is_user_error(KeyError("a bug"))
    assert not _is_user_error(OSError("no errno: a bug")) and not _is_user_error(UsageError("handled before"))


def test_a_bug_in_a_command_keeps_its_traceback(monkeypatch):
    import mint_tui.cli as cli

    def broken(args):
        raise KeyError("not a user error")

    monkeypatch.setitem(cli.COMMANDS, "pairs", broken)
    with pytest.raises(KeyError):
        cli.main(["pairs", "list"])


def test_an_unreadable_folder_in_a_training_list_is_refused(tmp_path):
    from test_bad_input import _make_deep_folder

    from mint_tui.train.data import ImageListError, read_image_list

    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.jpg").write_bytes(b"x")
    _make_deep_folder(tmp_path / "ok")  # a folder nested beyond PATH_MAX cannot be listed
    with pytest.raises(ImageListError, match="cannot list folder"):
        read_image_list(tmp_path / "ok")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "b.jpg").write_bytes(b"x")
    assert read_image_list(tmp_path / "flat") == [tmp_path / "flat" / "b.jpg"]
