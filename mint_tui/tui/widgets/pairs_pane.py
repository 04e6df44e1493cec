"""Choose a pair: the installed pairs and the model card of the highlighted one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mint_tui.figures import member_data_lines, metric_figure
from mint_tui.safe_text import for_terminal as t
from mint_tui.tui import core
from mint_tui.tui.keys import MOVE_KEYS
from mint_tui.tui.session import PairsLoaded, display_path
from mint_tui.tui.state import MintState, PairChosen, state_of

RANDOM_NOTE = "random weights, for tests only"


def metrics_block(metrics: Any) -> list[RenderableType]:
    """Measured figures grouped by the data they were measured on (usually one group)."""
    from mint_tui.pairs.card import metric_label

    groups: dict[str, list[Any]] = {}
    for metric in metrics:
        groups.setdefault(metric.data, []).append(metric)
    out: list[RenderableType] = []
    for data, items in groups.items():
        ns = {m.n for m in items if m.n is not None}
        n = f" (n={ns.pop()})" if len(ns) == 1 else ""
        out.append(Text(f"on {t(data)}{n}", style="italic"))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold #5fafff", no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        grid.add_column(style="dim")
        for m in items:
            grid.add_row(Text(t(metric_label(m.name))), metric_figure(m), f"n={m.n}" if m.n is not None and not n else "")
        out.append(grid)
    return out


def model_card(entry: Any, in_use: bool = False) -> RenderableType:
    """A pair's model card: what was audited, on what data, and how well the pair was measured."""
    if entry.manifest is None:
        return Group(Text(t(entry.name), style="bold"), Text(""), Text(f"Unusable: {t(entry.error)}", style="bold red"))
    from mint_tui.pairs.card import mint_kind_words

    m = entry.manifest
    a, k, c, p = m.audited, m.mint, m.calibration, m.provenance
    head = Text(t(m.pair.title), style="bold")
    head.append(f"  [{t(m.pair.name)}]", style="dim")
    badges = Text()
    badges.append(" bundled " if entry.builtin else " installed ", style="reverse")
    if in_use:
        badges.append("  ")
        badges.append(" in use ", style="reverse bold #5fd75f")
    parts: list[RenderableType] = [head, badges]
    if entry.error:
        parts.append(Text(f"Unusable: {t(entry.error)}", style="bold red"))
    if RANDOM_NOTE in (p.notes or "") or RANDOM_NOTE in m.pair.title:
        parts.append(Text("Random weights: scores mean nothing (test pair).", style="bold red"))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    config = ", ".join(f"{key}={value}" for key, value in a.config.items()) or json.dumps(a.config)
    grid.add_row("Audited model", Text(t(f"{a.arch} ({config})")))
    grid.add_row("Trained on", Text(t(p.training_data)))
    grid.add_row("MINT", Text(t(f"{mint_kind_words(k.kind)} over taps {', '.join(k.taps)}")))
    grid.add_row("Threshold", f"{c.threshold:.3f}; inconclusive from {c.low:.3f} to {c.high:.3f}")
    disclosure = member_data_lines(m.member_data)
    grid.add_row("Member data", Text(t(disclosure[0]), style="bold #d7af00" if m.member_data.stored else ""))
    for line in disclosure[1:]:
        grid.add_row("", Text(t(line), style="#d7af00" if "biometric" in line else ""))
    parts += [Text(""), grid, Text(""), Text("Measured reliability", style="bold")]
    if m.metrics:
        parts += metrics_block(m.metrics)
    else:
        parts.append(Text("none recorded: treat every verdict as unmeasured", style="italic #d7af00"))
    if m.pair.description:
        parts += [Text(""), Text(t(m.pair.description.strip(), keep_newlines=True))]
    tail = Table.grid(padding=(0, 1))
    tail.add_column(style="bold", no_wrap=True)
    tail.add_column()
    tail.add_row("Calibrated on", Text(t(c.on)))
    tail.add_row("Input", f"{a.preprocess.size[0]}×{a.preprocess.size[1]} {a.preprocess.color}, "
                          f"{a.preprocess.template} alignment")
    tail.add_row("Created", Text(t(f"{p.created} by mint-tui {p.tool_version}")))
    for key, value in (p.splits or {}).items():
        tail.add_row(Text(t(f"Split {key}")), Text(t(value)))
    if p.license:
        tail.add_row("Licence", Text(t(p.license)))
    tail.add_row("Bundle", Text(display_path(entry.path)))
    parts += [Text(""), tail]
    if p.notes and RANDOM_NOTE not in p.notes:
        parts += [Text(""), Text(t(p.notes.strip(), keep_newlines=True), style="italic")]
    return Group(*parts)


class PairList(OptionList):
    BINDINGS = [
        Binding("i", "install_pair", "Install…", tooltip="install a .mintpair file from disk"),
        Binding("v", "verify_pair", "Verify", tooltip="check the pair's bundle: manifest, hashes, weight shapes"),
        Binding("d,delete", "remove_pair", "Remove", tooltip="remove the highlighted installed pair (asks first)"),
        *MOVE_KEYS,
    ]

    def action_install_pair(self) -> None:
        self.query_ancestor(PairsPane).install()

    def action_verify_pair(self) -> None:
        self.query_ancestor(PairsPane).verify()

    def action_remove_pair(self) -> None:
        self.query_ancestor(PairsPane).remove()


class PairsPane(Horizontal):
    """The "Pair" tab."""

    @property
    def mint(self) -> MintState:
        return state_of(self)

    def compose(self) -> ComposeResult:
        with Vertical(id="pair-list-col"):
            yield PairList(id="pair-list")
            yield Static(Text.from_markup("[b]Enter[/] use  [b]i[/] install\n[b]v[/] verify  [b]d[/] remove"),
                         id="pair-keys")
        with VerticalScroll(id="pair-card-scroll"):
            yield Static("Loading the pair store…", id="pair-card")

    def on_mount(self) -> None:
        self.query_one("#pair-list", OptionList).border_title = "Pairs"
        self.query_one("#pair-card-scroll").border_title = "Model card"

    def highlighted_name(self) -> str | None:
        pairs = self.query_one("#pair-list", OptionList)
        if pairs.highlighted is None or not self.mint.pairs:
            return None
        option = pairs.get_option_at_index(pairs.highlighted)
        return option.id

    def refresh_list(self) -> None:
        app = self.mint
        pairs = self.query_one("#pair-list", OptionList)
        keep = self.highlighted_name() or app.pair_name
        pairs.clear_options()
        card = self.query_one("#pair-card", Static)
        if app.pairs_error:
            card.update(Text(f"Cannot read the pair store: {t(app.pairs_error)}", style="bold red"))
        if not app.pairs:
            pairs.add_option(Option(Text("no pair installed", style="italic"), disabled=True))
            if not app.pairs_error:
                card.update(Text.from_markup(
                    "No pair is installed.\n\nA pair is an audited face-recognition model with its MINT classifier, "
                    "shipped as a [b].mintpair[/] file. Press [b]i[/] to install one from disk."))
            return
        for entry in app.pairs:
            label = Text()
            label.append("▶ " if entry.name == app.pair_name else "  ", style="bold #5fd75f")
            label.append(t(entry.name), style="strike dim" if entry.error else "bold")
            if entry.builtin:
                label.append(" (bundled)", style="dim")
            if entry.error:
                label.append(" unusable", style="red")
            pairs.add_option(Option(label, id=entry.name))
        names = [e.name for e in app.pairs]
        pairs.highlighted = names.index(keep) if keep in names else 0
        self.show_card(names[pairs.highlighted])

    def show_card(self, name: str | None) -> None:
        entry = next((e for e in self.mint.pairs if e.name == name), None)
        if entry is not None:
            self.query_one("#pair-card", Static).update(model_card(entry, entry.name == self.mint.pair_name))

    @on(OptionList.OptionHighlighted, "#pair-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.show_card(event.option.id)

    @on(OptionList.OptionSelected, "#pair-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.post_message(PairChosen(event.option.id))

    # -------------------------------------------------------------- install, verify, remove
    def entry(self, name: str | None) -> Any:
        return next((e for e in self.mint.pairs if e.name == name), None)

    def highlighted_pair(self) -> str | None:
        return self.highlighted_name() or self.mint.pair_name

    def install(self) -> None:
        from mint_tui.pairs.bundle import BUNDLE_SUFFIX
        from mint_tui.tui.screens.pick_file import PickFileScreen

        def picked(path: Path | None) -> None:
            if path is not None:
                self.install_worker(path, False)

        self.app.push_screen(PickFileScreen("Install a pair (.mintpair file)", (BUNDLE_SUFFIX,),
                                            self.mint.start_folder), picked)

    @work(thread=True, group="pairs-change")
    def install_worker(self, path: Path, replace: bool) -> None:
        from mint_tui.pairs.store import PairExistsError, StoreError
        from mint_tui.pairs.verify import BundleError

        app = self.app
        try:
            entry = core.install_pair(path, replace=replace)
        except PairExistsError as exc:
            app.call_from_thread(self._ask_replace, path, str(exc))
            return
        except (StoreError, BundleError, OSError) as exc:
            app.call_from_thread(app.notify, f"Not installed: {t(exc)}", severity="error", timeout=10)
            return
        app.call_from_thread(app.notify, f"Installed pair {t(entry.name)}")
        self.post_message(PairsLoaded(*core.list_pairs()))

    def _ask_replace(self, path: Path, problem: str) -> None:
        from mint_tui.tui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.install_worker(path, True)

        self.app.push_screen(ConfirmScreen(f"{problem[0].upper()}{problem[1:]}.\nReplace it with {path.name}?",
                                           "Replace", "Keep it", danger=True), answered)

    def verify(self) -> None:
        name = self.highlighted_pair()
        if name is None:
            self.app.notify("No pair to verify", severity="warning")
            return
        self.app.notify(f"Verifying {t(name)}…")
        self.verify_worker(name)

    @work(thread=True, group="pairs-change")
    def verify_worker(self, name: str) -> None:
        app = self.app
        try:
            m = core.verify_pair(name)
        except Exception as exc:  # noqa: BLE001 - BundleError, StoreError, OSError: all shown
            app.call_from_thread(app.notify, f"{t(name)} FAILED verification: {t(exc)}", severity="error", timeout=15)
            return
        app.call_from_thread(app.notify, f"{t(name)}: OK. Manifest valid, sha256 of both weights files matches, "
                                         f"weight shapes fit {t(m.audited.arch)} + {t(m.mint.kind)} MINT.", timeout=8)

    def remove(self) -> None:
        from mint_tui.tui.screens.confirm import ConfirmScreen

        name = self.highlighted_pair()
        entry = self.entry(name)
        if entry is None:
            self.app.notify("No pair to remove", severity="warning")
            return
        if entry.builtin:
            self.app.notify(f"{t(name)} is bundled with mint-tui and cannot be removed", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.remove_worker(entry.name)

        self.app.push_screen(ConfirmScreen(f"Remove the pair {t(name)} from this computer?\n{display_path(entry.path)}",
                                           "Remove", "Keep", danger=True), answered)

    @work(thread=True, group="pairs-change")
    def remove_worker(self, name: str) -> None:
        app = self.app
        try:
            core.remove_pair(name)
        except Exception as exc:  # noqa: BLE001
            app.call_from_thread(app.notify, f"Not removed: {t(exc)}", severity="error")
            return
        app.call_from_thread(app.notify, f"Removed pair {t(name)}")
        self.post_message(PairsLoaded(*core.list_pairs()))
