"""How a verdict reads: its colour, the score against the threshold and inconclusive band, and the
pair's measured reliability."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from mint_tui.figures import metric_figure
from mint_tui.safe_text import for_terminal

if TYPE_CHECKING:
    from mint_tui.pairs.manifest import Calibration

VERDICT_STYLES = {
    "member": "bold #ff5f5f",
    "non-member": "bold #5fd75f",
    "inconclusive": "bold #d7af00",
    "no-face": "#8a8a8a",
    "error": "bold #d75fd7",
}
BAND_STYLES = {"non-member": "#3a8a3a", "inconclusive": "#b08c00", "member": "#c04040"}


def verdict_text(verdict: str) -> Text:
    return Text(verdict, style=VERDICT_STYLES.get(verdict, ""))


def explain(row: Any, calibration: Calibration | None, manifest: Any = None) -> Text:
    """One or two sentences that say what the verdict means, with its margin, in the words the
    pair's manifest supports (:func:`mint_tui.pairs.card.member_claim`), and its caveat."""
    from mint_tui.pairs.card import member_claim

    claim, caveat = member_claim(manifest)
    v, s = row.verdict, row.score
    text = Text()
    text.append(v, style=VERDICT_STYLES.get(v, ""))
    text.append(": ")
    if v == "error":
        text.append(f"could not be audited ({for_terminal(row.message or 'no reason given')}).")
        return text
    if v == "no-face":
        text.append(f"{for_terminal(row.message or 'no face found')}; nothing was scored.")
        return text
    if s is None:
        text.append("no score recorded.")
        return text
    if calibration is None:
        text.append(f"score {s:.3f} (the pair's threshold is not known here).")
        return text
    low, high = calibration.low, calibration.high
    if v == "member":
        text.append(f"score {s:.3f} ≥ {high:.3f}, {s - high:+.3f} past the band: {claim}.")
    elif v == "non-member":
        text.append(f"score {s:.3f} < {low:.3f}, {s - low:+.3f} below the band: the pair finds no sign that this "
                    "photo was in the training data.")
    else:
        text.append(f"score {s:.3f} inside the inconclusive band [{low:.3f}, {high:.3f}): the pair cannot tell.")
    if caveat:
        text.append(f"\n{caveat}", style="italic dim")
    return text


def reliability(manifest: Any, note: str = "") -> Text:
    """The pair's measured figures, read for a person: the first data set it was measured on
    (the model card has them all) and what its accuracy means."""
    from mint_tui.pairs.card import metric_label

    text = Text("How far to trust it\n", style="bold")
    if note:
        text.append(note + "\n", style="italic #d7af00")
    if manifest is None:
        if not note:
            text.append("The pair's measured figures are not known here.", style="italic")
        text.rstrip()
        return text
    if not manifest.metrics:
        text.append("This pair records no measured accuracy: treat its verdicts as unmeasured.",
                    style="italic #d7af00")
        return text
    data = manifest.metrics[0].data
    first = [m for m in manifest.metrics if m.data == data]
    for i, metric in enumerate(first):
        if i:
            text.append(" · ", style="dim")
        text.append(f"{metric_label(metric.name)} ", style="#5fafff")
        text.append(metric_figure(metric), style="bold")
    ns = {m.n for m in first if m.n is not None}
    text.append(f"\non {data}" + (f" (n={ns.pop()})" if len(ns) == 1 else ""), style="italic dim")
    acc = next((m for m in first if m.name.lower() == "accuracy"), None)
    if acc is not None and acc.value is not None and 0 <= acc.value <= 1:
        wrong = round((1 - acc.value) * 100)
        text.append(f"\nAt its threshold, about {wrong} in 100 answers were wrong there; verdicts outside the "
                    "inconclusive band are the ones it is surer of.", style="italic")
    others = len(manifest.metrics) - len(first)
    if others:
        text.append(f"\n{others} more figure{'s' * (others != 1)} in the model card (Pair tab).", style="dim")
    return text


class ScoreGauge(Widget):
    """The score on a 0..1 line coloured by region: non-member | inconclusive band | member.

    Drawn line by line (three lines: the score marker, the coloured scale, its ends)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._score: float | None = None
        self._calibration: Calibration | None = None

    def show(self, score: float | None, calibration: Calibration | None) -> None:
        self._score, self._calibration = score, calibration
        self.refresh()

    def lines(self, width: int) -> list[Text]:
        c, s = self._calibration, self._score
        chars = [" "] * width
        if s is not None:
            pos = min(width - 1, max(0, int(s * width)))
            chars[pos] = "▼"
            label = f"{s:.3f}"
            start = pos + 1 if pos + 1 + len(label) <= width else pos - len(label)
            if start >= 0:
                chars[start:start + len(label)] = label
        marker = Text("".join(chars), style="bold")
        scale = Text()
        for i in range(width):
            x = (i + 0.5) / width
            if c is None:
                style = "#606060"
            elif x < c.low:
                style = BAND_STYLES["non-member"]
            elif x < c.high:
                style = BAND_STYLES["inconclusive"]
            else:
                style = BAND_STYLES["member"]
            scale.append("┃" if c is not None and int(c.threshold * width) == i else "━", style=style)
        left, right = "0 non-member", "member 1"
        if width >= len(left) + len(right) + 1:
            ends = Text(left + " " * (width - len(left) - len(right)) + right, style="dim")
        else:
            ends = Text("0" + " " * max(0, width - 2) + "1", style="dim")
        return [marker, scale, ends]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width <= 0:
            return Strip.blank(0)
        lines = self.lines(width)
        if y >= len(lines):
            return Strip.blank(width, self.rich_style)
        segments = list(lines[y].render(self.app.console, end=""))
        return Strip(segments).crop_extend(0, width, self.rich_style).apply_style(self.rich_style)
