"""Run: device, face policy, batch size and the identity test's alpha, and what the audit will look at."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.validation import Integer, Number
from textual.widgets import Button, Input, Label, Select, Static

from mint_tui.options import DEFAULT_ALPHA, FACE_POLICIES, MAX_BATCH_SIZE
from mint_tui.tui.state import MintState, state_of


DEVICE_CHOICES = [("auto (CUDA when found)", "auto"), ("CPU", "cpu"), ("CUDA", "cuda")]
FACE_CHOICES = [(label, policy) for policy, label in FACE_POLICIES.items()]


class RunPane(VerticalScroll):
    """The "Run" tab."""

    @property
    def mint(self) -> MintState:
        return state_of(self)

    def compose(self) -> ComposeResult:
        settings = self.mint.settings
        yield Static("", id="run-what")
        with Horizontal(classes="field"):
            yield Label("Device", classes="field-label")
            yield Select(DEVICE_CHOICES, value=settings.device, allow_blank=False, id="device", type_to_search=False)
        yield Static("looking for devices…", id="device-found", classes="field-note")
        with Horizontal(classes="field"):
            yield Label("Faces", classes="field-label")
            yield Select(FACE_CHOICES, value=settings.faces, allow_blank=False, id="faces", type_to_search=False)
        with Horizontal(classes="field"):
            yield Label("Batch size", classes="field-label")
            yield Input(str(settings.batch_size), type="integer", validators=[Integer(1, MAX_BATCH_SIZE)], id="batch-size",
                        tooltip=f"faces per model batch (1 to {MAX_BATCH_SIZE})")
            yield Label("Alpha", classes="field-label", id="alpha-label")
            yield Input(f"{settings.alpha:g}", type="number", validators=[Number(0, 1)], id="alpha",
                        tooltip=f"significance level of the identity-level test, between 0 and 1 (default {DEFAULT_ALPHA:g}): "
                                "a person is called a member when p ≤ alpha")
            yield Static("identity test: error rate ≤ α", id="alpha-note")
        with Horizontal(id="run-buttons"):
            yield Button("Run audit  r", id="run-start", variant="primary")
            yield Button("Cancel  x", id="run-cancel", variant="error", disabled=True)
        yield Static("", id="run-status")

    def on_mount(self) -> None:
        self.border_title = "Run"
        self.refresh_what()

    def refresh_what(self) -> None:
        app = self.mint
        text = Text()
        n = len(app.marks.selection)
        text.append("Images   ", style="bold")
        if n:
            text.append(app.marks.text())
        else:
            text.append("nothing marked (Images tab, space marks)", style="italic #d7af00")
        text.append("\nPeople   ", style="bold")
        people = app.marks.people_names()
        if people:
            text.append(", ".join(people[:6]) + (f" and {len(people) - 6} more" if len(people) > 6 else ""))
            text.append(" (identity test after the audit)", style="dim")
        else:
            text.append("none (Images tab: p names the marked images as one person)", style="dim")
        text.append("\nPair     ", style="bold")
        if app.pair_name:
            text.append(app.pair_name)
        elif not app.pairs_loaded:
            text.append("loading…", style="italic")
        else:
            text.append("none chosen (Pair tab)", style="italic #d7af00")
        self.query_one("#run-what", Static).update(text)

    def show_devices(self, description: str) -> None:
        self.query_one("#device-found", Static).update(description)

    def set_running(self, running: bool) -> None:
        self.query_one("#run-start", Button).disabled = running
        self.query_one("#run-cancel", Button).disabled = not running
        for widget in self.query("#device, #faces, #batch-size, #alpha"):
            widget.disabled = running

    def set_status(self, text: str | Text) -> None:
        self.query_one("#run-status", Static).update(text)

    def alpha(self) -> float | None:
        """The identity test's alpha, or None when the field does not hold a number in (0, 1)."""
        try:
            value = float(self.query_one("#alpha", Input).value)
        except ValueError:
            return None
        return value if 0 < value < 1 else None

    def options(self) -> tuple[str, str, int | None]:
        device = self.query_one("#device", Select).value
        faces = self.query_one("#faces", Select).value
        batch = self.query_one("#batch-size", Input)
        try:
            size = int(batch.value)
        except ValueError:
            size = None
        if size is not None and not 1 <= size <= 4096:
            size = None
        return str(device), str(faces), size

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id in ("device", "faces") and not event.select.is_blank():
            setattr(self.mint.settings, event.select.id, str(event.value))
            self.mint.save_settings()

    @on(Input.Changed, "#batch-size")
    def _batch_changed(self, event: Input.Changed) -> None:
        _, _, size = self.options()
        if size is not None:
            self.mint.settings.batch_size = size
            self.mint.save_settings()

    @on(Input.Changed, "#alpha")
    def _alpha_changed(self) -> None:
        alpha = self.alpha()
        if alpha is not None:
            self.mint.settings.alpha = alpha
            self.mint.save_settings()

    @on(Button.Pressed, "#run-start")
    def _start(self) -> None:
        self.run_action("app.run_audit")

    @on(Button.Pressed, "#run-cancel")
    def _cancel(self) -> None:
        self.run_action("app.cancel_audit")
