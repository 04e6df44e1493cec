"""The audit pipeline: paths -> result rows, streamed, with progress and cancellation.

Decoding, detection and alignment run in a small thread pool (one MediaPipe detector per
thread) and overlap with the audited model, which scores aligned crops in batches on the main
thread. Rows come out in input order as soon as their batch is scored; a bad file is one
``error`` row and the audit goes on.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mint_tui.faces import (DEFAULT_DETECTOR, FACE_POLICIES, PreparedImage, PrepareSettings, is_image_path,
                            prepare_images, to_tensor_batch)

if TYPE_CHECKING:
    import torch

    from mint_tui.pairs.bundle import LoadedPair

VERDICTS = ("member", "non-member", "inconclusive", "no-face", "error")


@dataclass
class AuditOptions:
    faces: str = "largest"
    batch_size: int = 32
    device: str = "auto"
    detector: str = DEFAULT_DETECTOR
    workers: int = 2
    keep_crops: bool = False  # attach the aligned crop to each row (the TUI shows it)
    threads: int = 0  # CPU threads of the models (torch intra-op); 0: leave torch's setting alone

    def __post_init__(self) -> None:
        if self.faces not in FACE_POLICIES:
            raise ValueError(f"faces must be one of {', '.join(FACE_POLICIES)}, not {self.faces!r}")
        if self.batch_size < 1:
            raise ValueError("batch size must be at least 1")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.threads < 0:
            raise ValueError("threads must be at least 1 (or 0 for torch's default)")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"device must be auto, cpu or cuda, not {self.device!r}")


@dataclass
class ResultRow:
    path: str
    sha256: str | None = None
    face: int | None = None
    box: tuple[float, float, float, float] | None = None
    detection_score: float | None = None
    score: float | None = None
    verdict: str = "error"
    message: str = ""
    crop: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": printable(self.path),
            "sha256": self.sha256,
            "face": self.face,
            "box": [round(v, 2) for v in self.box] if self.box else None,
            "detection_score": None if self.detection_score is None else round(self.detection_score, 4),
            "score": self.score,
            "verdict": self.verdict,
            "message": self.message,
        }


def printable(text: str) -> str:
    """Text (a path) as valid UTF-8: bytes of a file name that are not UTF-8 (which Python keeps as
    lone surrogates) become ``\\xNN`` escapes instead of breaking a JSON/CSV encoder or a terminal."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class AuditProgress:
    done: int  # images finished (all their rows emitted)
    total: int
    faces: int  # faces scored so far
    elapsed: float

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate > 0 else None


def resolve_device(name: str = "auto") -> "torch.device":
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("CUDA was requested but no CUDA device is available (torch.cuda.is_available() is False)")
    return torch.device(name)


def collect_images(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[ResultRow]]:
    """Expand files and folders (recursively, sorted) into image files.

    Files named explicitly are kept whatever their suffix (the decoder decides); inside folders
    only image suffixes are taken. Symlinked folders are followed once (loops are cut).
    Missing paths come back as error rows.
    """
    files: list[Path] = []
    errors: list[ResultRow] = []
    seen_dirs: set[str] = set()

    def walk(folder: Path) -> None:
        real = os.path.realpath(folder)
        if real in seen_dirs:
            return
        seen_dirs.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            errors.append(ResultRow(str(folder), message=f"cannot list folder: {exc.strerror or exc}"))
            return
        for entry in entries:
            try:
                if entry.is_dir():
                    walk(Path(entry.path))
                elif entry.is_file() and is_image_path(Path(entry.name)):
                    files.append(Path(entry.path))
            except OSError:
                continue

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            walk(path)
        elif path.exists():
            files.append(path)
        else:
            errors.append(ResultRow(str(path), message="file not found"))
    return files, errors


def run_audit(paths: Iterable[str | os.PathLike[str]], pair: "LoadedPair", options: AuditOptions | None = None,
              progress: Callable[[AuditProgress], None] | None = None,
              cancel: threading.Event | None = None) -> Iterator[ResultRow]:
    """Audit images with a loaded pair; yields rows in input order as they are computed.

    ``cancel.set()`` (or closing the generator) stops the audit after the current batch; rows
    already yielded stay valid.
    """
    options = options or AuditOptions()
    files, early_errors = collect_images(paths)
    total = len(files) + len(early_errors)
    start = time.perf_counter()
    done = faces_scored = 0
    yield from early_errors
    done += len(early_errors)

    pre = pair.manifest.audited.preprocess
    settings = PrepareSettings(options.faces, options.detector, tuple(pre.size), pre.template)
    calibration = pair.manifest.calibration
    from mint_tui.pairs.manifest import verdict as verdict_of

    def report() -> None:
        if progress is not None:
            progress(AuditProgress(done, total, faces_scored, time.perf_counter() - start))

    def rows_for(items: list[PreparedImage]) -> list[ResultRow]:
        crops = [face.crop for item in items for face in item.faces]
        scores: list[float] = []
        for i in range(0, len(crops), options.batch_size):
            batch = to_tensor_batch(crops[i:i + options.batch_size], pre.color, tuple(pre.mean), tuple(pre.std))
            scores.extend(float(s) for s in pair.score(batch))
        rows, k = [], 0
        for item in items:
            if item.error is not None:
                rows.append(ResultRow(str(item.path), item.sha256, verdict="error", message=item.error))
            elif not item.faces:
                rows.append(ResultRow(str(item.path), item.sha256, verdict="no-face", message="no face found"))
            for face in item.faces:
                score = scores[k]
                k += 1
                rows.append(ResultRow(str(item.path), item.sha256, face.index, face.box, face.detection_score,
                                      score, verdict_of(score, calibration), "",
                                      face.crop if options.keep_crops else None))
        return rows

    def _flush() -> Iterator[ResultRow]:
        nonlocal done, faces_scored, pending, pending_faces
        items, pending, pending_faces = pending, [], 0
        if not items:
            return
        for row in rows_for(items):
            faces_scored += row.score is not None
            yield row
        done += len(items)
        report()

    report()
    import torch

    saved_threads = torch.get_num_threads()
    if options.threads and pair.device.type == "cpu":
        torch.set_num_threads(options.threads)
    window = max(options.batch_size * 2, options.workers * 4)
    pending: list[PreparedImage] = []
    pending_faces = 0
    prepared = prepare_images(files, settings, options.workers, window, cancel=cancel)
    try:
        for item in prepared:
            pending.append(item)
            pending_faces += len(item.faces)
            if pending_faces >= options.batch_size or len(pending) >= window:
                yield from _flush()
        if not (cancel and cancel.is_set()):
            yield from _flush()
    finally:
        prepared.close()
        torch.set_num_threads(saved_threads)
