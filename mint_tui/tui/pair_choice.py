"""The TUI's choice of pairs: the pair in use, several pairs for one audit, and the matrix of the
results of several pairs. A part of :class:`mint_tui.tui.app.MintApp` (a mixin), as ``marking.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mint_tui.tui.state import PairChosen, PairToggled

if TYPE_CHECKING:
    from mint_tui.tui.session import AuditSession
    from mint_tui.tui.settings import Settings
    from mint_tui.tui.widgets.pairs_pane import PairsPane
    from mint_tui.tui.widgets.results_pane import ResultsPane
    from mint_tui.tui.widgets.run_pane import RunPane


class PairChoice:
    """Pair actions of the app (which provides the attributes and panes declared here)."""

    pairs: list[Any]
    pair_name: str | None
    audit_pairs: list[str]
    settings: Settings
    session: AuditSession

    if TYPE_CHECKING:  # the app's own (declared for the type checker only: a stub here would hide them)
        def pairs_pane(self) -> PairsPane: ...
        def run_pane(self) -> RunPane: ...
        def results_pane(self) -> ResultsPane: ...
        def update_status(self) -> None: ...
        def save_settings(self) -> None: ...
        def notify(self, message: str, **kwargs: Any) -> None: ...
        def show_tab(self, name: str, focus: str | None = None) -> None: ...
        def push_screen(self, screen: Any, callback: Any = None) -> Any: ...

    def entry(self, name: str | None) -> Any:
        return next((e for e in self.pairs if e.name == name), None)

    def on_pair_chosen(self, message: PairChosen) -> None:
        self.use_pair(message.name)

    def use_pair(self, name: str) -> None:
        entry = self.entry(name)
        if entry is None:
            return
        if entry.error:
            self.notify(f"{name} cannot be used: {entry.error}", severity="error")
            return
        self.pair_name = name
        self.audit_pairs = [name]
        self.settings.pair = name
        self.save_settings()
        self.pairs_pane().refresh_list()
        self.run_pane().refresh_what()
        self.update_status()
        self.notify(f"Using pair {name}")

    def on_pair_toggled(self, message: PairToggled) -> None:
        self.toggle_pair(message.name)

    def toggle_pair(self, name: str | None) -> None:
        """Add ``name`` to the pairs of the next audit or take it out (never the last one); None:
        every usable pair, or back to the first alone when they are all in already."""
        usable = [e.name for e in self.pairs if e.error is None]
        if name is None:  # the pair in use stays first
            first = self.pair_name if self.pair_name in usable else (usable or [None])[0]
            every = [first, *(n for n in usable if n != first)] if first else []
            self.audit_pairs = every if set(usable) - set(self.audit_pairs) else every[:1]
        else:
            entry = self.entry(name)
            if entry is None or entry.error:
                self.notify(f"{name} cannot be used: {entry.error if entry else 'not found'}", severity="error")
                return
            if name not in self.audit_pairs:
                self.audit_pairs = [*self.audit_pairs, name]
            elif len(self.audit_pairs) > 1:
                self.audit_pairs = [n for n in self.audit_pairs if n != name]
        self.pair_name = self.audit_pairs[0] if self.audit_pairs else None
        self.pairs_pane().refresh_list()
        self.run_pane().refresh_what()
        self.update_status()
        n = len(self.audit_pairs)
        self.notify(f"Auditing with {n} pairs: {', '.join(self.audit_pairs)}" if n > 1
                    else f"Using pair {self.pair_name}")

    # pairs are installed, verified and removed in the Pair tab; the palette asks it
    def action_install_pair(self) -> None:
        self.pairs_pane().install()

    def action_verify_pair(self) -> None:
        self.pairs_pane().verify()

    def action_remove_pair(self) -> None:
        self.pairs_pane().remove()

    def action_pair_matrix(self) -> None:
        """Which pairs know whom: the results of several pairs as a matrix, with drill-down."""
        from mint_tui.tui.screens.matrix import MatrixScreen

        if not self.session.several_pairs:
            self.notify("The matrix shows results of several pairs: choose more than one on the Pair tab "
                        "(space adds a pair, a takes them all), then run")
            return

        def chosen(index: int | None) -> None:
            if index is not None:
                self.show_tab("results")
                self.results_pane().select_row(index)

        self.push_screen(MatrixScreen(self.session), chosen)

