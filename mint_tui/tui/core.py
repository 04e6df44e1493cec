"""The TUI's one door to the core library, for use from worker threads.

Everything here that touches torch, MediaPipe or OpenCV (``mint_tui.audit``, ``mint_tui.results``,
``mint_tui.pairs.*``, ``mint_tui.faces.*``) imports it inside the function, so importing this
module costs nothing; the functions are meant to run in ``@work(thread=True)`` workers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULT_SUFFIXES = (".json", ".csv", ".jsonl")  # what read_results opens; the app exports JSON or CSV


def warm_up() -> None:
    """Import the heavy core modules (torch, MediaPipe, OpenCV) once, off the UI thread."""
    import mint_tui.audit  # noqa: F401
    import mint_tui.pairs.store  # noqa: F401
    import mint_tui.results  # noqa: F401


# ---------------------------------------------------------------- devices
@dataclass(frozen=True)
class DeviceInfo:
    cuda: bool
    names: tuple[str, ...] = ()
    torch_version: str = ""
    error: str | None = None

    def describe(self) -> str:
        if self.error:
            return f"cannot query devices: {self.error}"
        if self.cuda:
            return f"found CUDA: {', '.join(self.names) or 'a GPU'}; auto uses it"
        return "found CPU only (no CUDA device); auto uses the CPU"


def detect_devices() -> DeviceInfo:
    try:
        import torch

        cuda = bool(torch.cuda.is_available())
        names = tuple(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())) if cuda else ()
        return DeviceInfo(cuda, names, torch.__version__)
    except Exception as exc:  # noqa: BLE001 - shown to the user
        return DeviceInfo(False, error=str(exc))


# ---------------------------------------------------------------- pairs
#: Where bundled pairs are looked for; None: the store's default (``mint_tui/assets/pairs``). Tests set it.
BUILTIN_DIR: Path | None = None


def pair_store():
    from mint_tui.pairs.store import PairStore

    return PairStore(builtin_dir=BUILTIN_DIR)


def samples_dir() -> Path:
    """The sample photos that come with mint-tui (one folder per person)."""
    from mint_tui import paths

    return paths.samples_dir()


def samples_summary() -> str:
    """What the sample photos are ("12 LFW photos of 3 people"), or "" when there are none."""
    photos = sorted(samples_dir().glob("*/*.jpg"))
    people = len({p.parent for p in photos})
    return f"{len(photos)} LFW photos of {people} people" if photos else ""


def list_pairs() -> tuple[list[Any], str | None]:
    store = pair_store()
    return store.list(), store.default_pair_name()


def install_pair(path: str | os.PathLike[str], replace: bool = False):
    return pair_store().install(Path(path), replace=replace)


def remove_pair(name: str) -> None:
    pair_store().remove(name)


def verify_pair(name: str):
    return pair_store().verify(name)


def bundle_sha256(path: str | os.PathLike[str]) -> str:
    from mint_tui.fileio import file_sha256

    return file_sha256(path)


class PairCache:
    """Keeps the last loaded pair, so that a second run with the same pair and device is instant."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._pair: Any = None
        self._lock = threading.Lock()

    def load(self, path: Path, device: str):
        from mint_tui.pairs.loaded import load_pair

        st = path.stat()
        key = (str(path.resolve()), st.st_mtime_ns, st.st_size, device)
        with self._lock:
            if self._key != key:
                self._pair, self._key = None, None
                self._pair = load_pair(path, device=device)
                self._key = key
            return self._pair


# ---------------------------------------------------------------- audit
def identity_note(audit: Any) -> str:
    """Why the people of a run (a :class:`mint_tui.session.Audit`) could not be tested, as the
    Results tab says it; '' when they could."""
    if not audit.identity_problem:
        return ""
    if audit.pair.calibration_scores is None:
        return (f"The pair {audit.pair.name} carries no calibration scores, so the identity-level test cannot "
                "be run with it (a pair rebuilt with mint-tui train has them). The per-image verdicts "
                "are not affected.")
    return f"The identity-level test cannot be run: {audit.identity_problem}."


# ---------------------------------------------------------------- result files
def read_results(path: str | os.PathLike[str]):
    from mint_tui.results import read_results as read

    return read(path)


def write_report(path: str | os.PathLike[str], header: dict[str, Any] | None, rows: list[Any],
                 pair_path: str | os.PathLike[str] | None, progress: Callable[[int, int], None],
                 cancel: threading.Event) -> Path:
    """The HTML audit report (:func:`mint_tui.report.write_report`); rows from a run carry their
    crops, rows read from a file get them made again. Raises ReportCancelled when cancelled."""
    from mint_tui.report import write_report as write

    return write((dict(header or {}), rows), path, str(pair_path) if pair_path is not None else None,
                 progress=progress, cancel=cancel)


def report_cancelled(exc: BaseException) -> bool:
    from mint_tui.report import ReportCancelled

    return isinstance(exc, ReportCancelled)


# ---------------------------------------------------------------- images
def load_preview(path: str | os.PathLike[str], max_side: int = 320,
                 box: tuple[float, float, float, float] | None = None):
    """An image file as an RGB uint8 array no larger than ``max_side``, with a face ``box``
    (x, y, w, h in the file's pixels) outlined when given; raises ImageError."""
    import cv2

    from mint_tui.faces.image import load_image

    image = load_image(path)
    if box is not None:
        x, y, w, h = (int(round(v)) for v in box)
        thick = max(2, round(max(image.shape[:2]) / 80))
        cv2.rectangle(image, (x, y), (x + w, y + h), (0, 215, 255), thick)
    return shrink_bgr_to_rgb(image, max_side)


def shrink_bgr_to_rgb(bgr, max_side: int = 320):
    import cv2

    h, w = bgr.shape[:2]
    scale = max_side / max(h, w)
    if scale < 1:
        bgr = cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
