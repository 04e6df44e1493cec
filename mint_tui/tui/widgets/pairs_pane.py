"""Choose a pair: the installed pairs and the model card of the highlighted one."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mint_tui.figures import member_data_lines, metric_figure
from mint_tui.tui.keys import MOVE_KEYS
from mint_tui.tui.session import display_path
from mint_tui.safe_text import for_terminal as t

if TYPE_CHECKING:
    from mint_tui.tui.app import MintApp

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
        Binding("i", "app.install_pair", "Install…", tooltip="install a .mintpair file from disk"),
        Binding("v", "app.verify_pair", "Verify", tooltip="check the pair's bundle: manifest, hashes, weight shapes"),
        Binding("d,delete", "app.remove_pair", "Remove", tooltip="remove the highlighted installed pair (asks first)"),
        *MOVE_KEYS,
    ]


class PairsPane(Horizontal):
    """The "Pair" tab."""

    @property
    def mint(self) -> "MintApp":
        return self.app  # type: ignore[return-value]

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
            self.mint.use_pair(event.option.id)
