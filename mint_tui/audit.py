"""The audit pipeline: paths -> result rows, streamed, with progress and cancellation.

Decoding, detection and alignment run in a small thread pool (one MediaPipe detector per
thread) and overlap with the audited model, which scores aligned crops in batches on the main
thread. Rows come out in input order as soon as their batch is scored; a bad file is one
``error`` row and the audit goes on.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mint_tui.faces import Face, PreparedImage, PrepareSettings, prepare_images, to_tensor_batch
from mint_tui.faces.prepare import StageTimes
from mint_tui.imagefiles import find_images
from mint_tui.options import AuditOptions
from mint_tui.safe_text import printable

if TYPE_CHECKING:
    import torch

    from mint_tui.pairs.loaded import LoadedPair

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
    #: read back from the file of the audit this one resumes (``--resume``), not computed again
    resumed: bool = field(default=False, compare=False)
    #: the pair that scored the row (its name and bundle sha256); None in result files written
    #: before rows named their pair
    pair: str | None = None
    pair_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": printable(self.path),
            "sha256": self.sha256,
            "face": self.face,
            "box": [round(v, 2) for v in self.box] if self.box else None,
            "detection_score": _finite(self.detection_score, 4),
            "score": _finite(self.score),
            "verdict": self.verdict,
            "message": self.message,
            "pair": None if self.pair is None else printable(self.pair),
            "pair_sha256": self.pair_sha256,
        }


def _finite(value: float | None, digits: int | None = None) -> float | None:
    """A number for a result file: None where it is missing or not finite (JSON has no NaN)."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits) if digits is not None else value


@dataclass(frozen=True)
class AuditProgress:
    """Where an audit stands; reported after every image prepared and every image scored.

    Images are prepared (read, decoded, faces found and aligned) one by one, then scored in
    batches, so ``prepared`` leads ``done``. The rate and ETA come from the preparation pace (known
    from the first image) and the measured scoring time per image (once a batch was scored)."""

    done: int  # images finished (scored: all their rows emitted)
    total: int
    faces: int  # faces scored so far
    elapsed: float
    prepared: int = 0  # images read, decoded, detected and aligned (or failed: an error row)
    scoring: float = 0.0  # seconds spent scoring so far

    @property
    def rate(self) -> float:
        """Images prepared per second."""
        return self.prepared / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        if self.done >= self.total:
            return 0.0
        if self.rate <= 0 or (self.prepared >= self.total and not self.scoring):
            return None  # nothing measured yet, or only the scoring left and its pace not yet known
        # the two stages overlap (images are prepared while a batch is scored): the slower one sets the pace
        per_image = self.scoring / self.done if self.done else 0.0
        return max((self.total - self.prepared) / self.rate, (self.total - self.done) * per_image)

    @property
    def fraction(self) -> float:
        """Of the work (each image prepared, then scored) done, 0..1."""
        return (self.prepared + self.done) / (2 * self.total) if self.total else 1.0


def default_workers(device: "torch.device | str") -> int:
    """Preparation threads for a device.

    On the CPU the model and the preparation share the cores: the audited model (torch, one thread
    per core) needs nearly all of them, and one preparation thread per four cores keeps it fed
    (detection costs ~3 ms per image, far less than a face-recognition forward pass) without
    oversubscribing the cores, which stalls torch's threads. On a GPU the CPU only prepares images:
    use most cores, up to 8.
    """
    cores = os.cpu_count() or 1
    if str(device).startswith("cuda"):
        return max(2, min(8, cores - 1))
    return max(1, min(4, cores // 4))


def resolve_device(name: str = "auto") -> "torch.device":
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("CUDA was requested but no CUDA device is available (torch.cuda.is_available() is False)")
    return torch.device(name)


def collect_images(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[ResultRow]]:
    """The image files under ``paths`` (:func:`mint_tui.imagefiles.find_images`) and an ``error``
    row for each folder that cannot be listed."""
    files, problems = find_images(paths)
    return files, [ResultRow(str(folder), message=why) for folder, why in problems]


def starts_image(row: ResultRow, previous: ResultRow | None) -> bool:
    """Whether ``row``, written after ``previous``, is the first row of an image: an image's rows are
    its faces (indices 0, 1, ...), or its one no-face or error row."""
    return (previous is None or row.path != previous.path or row.face is None or previous.face is None
            or row.face != previous.face + 1)


def split_images(rows: Iterable[ResultRow]) -> list[list[ResultRow]]:
    """Rows as an audit writes them, cut into images (:func:`starts_image`)."""
    images: list[list[ResultRow]] = []
    for row in rows:
        if starts_image(row, images[-1][-1] if images else None):
            images.append([row])
        else:
            images[-1].append(row)
    return images


class RecordedRows:
    """The rows of an interrupted audit's file, which a resumed audit replays instead of computing
    them again (:func:`run_audit`): each path's images in file order (the k-th time a path is
    given takes its k-th recorded image)."""

    def __init__(self, rows: Iterable[ResultRow]) -> None:
        """(The rows are marked ``resumed`` in place.)"""
        self._images: dict[str, deque[list[ResultRow]]] = {}
        for image in split_images(rows):
            for row in image:
                row.resumed = True
            self._images.setdefault(image[0].path, deque()).append(image)

    def take(self, path: str) -> list[ResultRow] | None:
        """The next recorded image of ``path`` (its rows, marked ``resumed``), or None."""
        images = self._images.get(path)
        return images.popleft() if images else None


def preprocessing_groups(pairs: Sequence["LoadedPair"], options: AuditOptions
                         ) -> list[tuple[PrepareSettings, list["LoadedPair"]]]:
    """The pairs grouped by how their faces are prepared (detection policy, input size, alignment
    template), in the order the pairs are given: each group's crops are made once and scored by
    every pair in it (colour order and normalisation are per pair, done on the shared crops)."""
    groups: dict[PrepareSettings, list[LoadedPair]] = {}
    for pair in pairs:
        pre = pair.manifest.audited.preprocess
        settings = PrepareSettings(options.faces, options.detector, tuple(pre.size), pre.template)
        groups.setdefault(settings, []).append(pair)
    return list(groups.items())


def run_audit(paths: Iterable[str | os.PathLike[str]], pairs: "LoadedPair | Sequence[LoadedPair]",
              options: AuditOptions | None = None,
              progress: Callable[[AuditProgress], None] | None = None,
              cancel: threading.Event | None = None, stats: StageTimes | None = None,
              recorded: RecordedRows | None = None) -> Iterator[ResultRow]:
    """Audit images with one loaded pair or several; yields rows in input order as they are computed.

    Each row names the pair that scored it. With several pairs, each image is read, decoded,
    detected and aligned once per distinct preprocessing (:func:`preprocessing_groups`) and its
    faces scored by every pair of that group: the rows of one image come together, pair by pair in
    the order given (an unreadable image or one without a face gives one row per pair), and the
    groups follow one another. ``AuditProgress.total`` counts one image per group.

    ``cancel.set()`` (or closing the generator) stops the audit after the current batch; rows
    already yielded stay valid. ``stats`` (optional) collects the time spent per stage.

    ``progress`` gets an :class:`AuditProgress` after every image prepared and every image scored:
    from a preparation thread for the former (the caller may be busy scoring a batch), from the
    caller's thread for the latter, so it must be thread-safe. Nothing calls it once the
    generator is finished or closed.

    Faces are scored in batches of ``options.batch_size``, and no batch spans two chunks of
    ``options.batch_size`` images (images 0..B-1, B..2B-1, ...): a chunk's last partial batch is
    scored when the next chunk starts, and at the end. torch's CPU kernels give results that
    differ in the last bits with the batch a face is scored in (and the thread count), so this
    makes a chunk's scores independent of the images before it: an audit split into chunks
    across workers (:mod:`mint_tui.ray_audit`) gives exactly the scores of one process.

    ``recorded`` (a resumed audit, one pair only): an image whose rows are on record for its path,
    and whose file still hashes to the recorded sha256 (or is still unreadable, as recorded), is not
    decoded; its recorded rows come back in its place, marked ``resumed``. Its faces still take
    their places in the batches, as blanks that are not computed (a batch of only blanks is not
    run), so that every face computed is scored in the batch of the same size, at the same place,
    as in an audit that was never interrupted: its score is the same to the last bit.
    """
    import torch

    pairs = [pairs] if not isinstance(pairs, (list, tuple)) else list(pairs)
    if not pairs:
        raise ValueError("no pair to audit with")
    if recorded is not None and len(pairs) > 1:
        raise ValueError("an audit with several pairs cannot be resumed")
    options = options or AuditOptions()
    files, early_errors = collect_images(paths)
    groups = preprocessing_groups(pairs, options)
    total = len(files) * len(groups) + len(early_errors)
    start = time.perf_counter()
    done = faces_scored = 0
    scoring = 0.0
    for row in early_errors:  # (folders that cannot be listed)
        replay = recorded.take(row.path) if recorded is not None else None
        yield from replay or (dataclasses.replace(row, pair=p.name, pair_sha256=p.bundle_sha256) for p in pairs)
    # a resumed audit: the recorded image each file would replay, and the sha256 it was recorded with
    replays = [recorded.take(str(f)) for f in files] if recorded is not None else None
    done = prepared_count = len(early_errors)
    lock = threading.Lock()
    from mint_tui.pairs.manifest import verdict as verdict_of

    def report() -> None:
        if progress is not None:
            with lock:  # one report at a time, in order
                progress(AuditProgress(done, total, faces_scored, time.perf_counter() - start, prepared_count,
                                       scoring))

    def prepared_one() -> None:  # in a preparation thread
        nonlocal prepared_count
        with lock:
            prepared_count += 1
        report()

    def cancelled() -> bool:
        return cancel is not None and cancel.is_set()

    def audit_group(group: list[LoadedPair], prepared: Iterator[PreparedImage]) -> Iterator[ResultRow]:
        # Images waiting for their rows, in input order: the image, the scores of its faces so far
        # (one tuple per face: a score for each pair of the group), its recorded rows (a resumed
        # audit replays them) and its number of faces.
        pending: deque[tuple[PreparedImage, list[tuple[float, ...]], list[ResultRow] | None, int]] = deque()
        # faces not yet scored, in order (None: a recorded face, a blank in its batch)
        unscored: deque[tuple[list[tuple[float, ...]], Face | None]] = deque()

        def score_batch(n: int) -> None:
            nonlocal faces_scored, scoring
            chunk = [unscored.popleft() for _ in range(min(n, len(unscored)))]
            real = [face for _, face in chunk if face is not None]
            if not real:  # recorded faces only: nothing to compute
                for sink, _ in chunk:
                    sink.append(tuple(math.nan for _ in group))
                return
            t = time.perf_counter()
            blank = np.zeros_like(real[0].crop)
            crops = [blank if face is None else face.crop for _, face in chunk]
            batches: dict[tuple, Any] = {}  # one normalised batch per colour order and mean/std
            per_pair = []
            for pair in group:
                pre = pair.manifest.audited.preprocess
                norm = (pre.color, tuple(pre.mean), tuple(pre.std))
                if norm not in batches:
                    t0 = time.perf_counter()
                    batches[norm] = to_tensor_batch(crops, *norm)
                    if stats is not None:
                        stats.add("batch", time.perf_counter() - t0, len(chunk))
                per_pair.append(pair.score(batches[norm]))
            for i, (sink, _) in enumerate(chunk):
                sink.append(tuple(float(scores[i]) for scores in per_pair))
            faces_scored += len(real)
            scoring += time.perf_counter() - t

        def ready_rows() -> Iterator[ResultRow]:
            nonlocal done
            emitted = False
            while pending and len(pending[0][1]) == pending[0][3]:
                item, scores, replay, _ = pending.popleft()
                if replay is not None:
                    yield from replay
                    scores = []
                for j, pair in enumerate(group if replay is None else ()):
                    named = {"pair": pair.name, "pair_sha256": pair.bundle_sha256}
                    if item.error is not None:
                        yield ResultRow(str(item.path), item.sha256, verdict="error", message=item.error, **named)
                    elif not item.faces:
                        yield ResultRow(str(item.path), item.sha256, verdict="no-face", message="no face found",
                                        **named)
                    for face, face_scores in zip(item.faces, scores):
                        score = face_scores[j]
                        crop = face.crop if options.keep_crops else None
                        if not math.isfinite(score):  # broken weights: never a verdict, never NaN in a file
                            yield ResultRow(str(item.path), item.sha256, face.index, face.box, face.detection_score,
                                            None, "error", f"the pair {pair.name} gave no finite score for this "
                                            f"face ({score}): its models are broken", crop, **named)
                            continue
                        yield ResultRow(str(item.path), item.sha256, face.index, face.box, face.detection_score,
                                        score, verdict_of(score, pair.manifest.calibration), "", crop, **named)
                done += 1
                emitted = True
            if emitted:
                report()

        for i, item in enumerate(prepared):
            if i and i % options.batch_size == 0:  # a new chunk of images: its faces start a new batch
                score_batch(len(unscored))
                yield from ready_rows()
            scores: list[tuple[float, ...]] = []
            replay = replays[i] if replays is not None else None
            if replay is not None and (item.known or (item.error is not None and not replay[0].sha256)):
                faces = sum(row.face is not None for row in replay)  # still unreadable, or the same file
                pending.append((item, scores, replay, faces))
                unscored.extend((scores, None) for _ in range(faces))
            else:
                pending.append((item, scores, None, len(item.faces)))
                unscored.extend((scores, face) for face in item.faces)
            while len(unscored) >= options.batch_size:
                score_batch(options.batch_size)
            yield from ready_rows()
            if cancelled():
                return
        while unscored and not cancelled():
            score_batch(options.batch_size)
        if not cancelled():
            yield from ready_rows()

    report()
    device = pairs[0].device
    saved_threads = torch.get_num_threads()
    if options.threads and device.type == "cpu":
        torch.set_num_threads(options.threads)
    hooks = [hook for pair in pairs for hook in _time_mint(pair, stats)] if stats is not None else []
    workers = options.workers or default_workers(device)
    window = max(options.batch_size * 2, workers * 4)
    known = None if replays is None else [image[0].sha256 if image else None for image in replays]
    try:
        for settings, group in groups:
            if cancelled():
                return
            prepared = prepare_images(files, settings, workers, window, cancel=cancel, stats=stats,
                                      on_prepared=prepared_one, known_sha256=known)
            try:
                yield from audit_group(group, prepared)
            finally:
                prepared.close()
    finally:
        for hook in hooks:
            hook.remove()
        torch.set_num_threads(saved_threads)


def _time_mint(pair: "LoadedPair", stats: StageTimes) -> list[Any]:
    """Hooks that time the MINT model inside ``pair.score``; the rest of it is the forward pass of
    the audited model (taps included)."""
    import torch

    sync = pair.device.type == "cuda"
    box: dict[str, float] = {}

    def started(module: Any, args: Any) -> None:
        if sync:
            torch.cuda.synchronize(pair.device)
        box["mint"] = time.perf_counter()
        box["forward"] = box["mint"] - box.pop("call", box["mint"])

    def finished(module: Any, args: Any, output: Any) -> None:
        if sync:
            torch.cuda.synchronize(pair.device)
        n = int(output.shape[0]) if hasattr(output, "shape") and output.dim() else 1
        stats.add("forward", box.pop("forward", 0.0), n)
        stats.add("mint", time.perf_counter() - box.pop("mint"), n)

    def called(module: Any, args: Any) -> None:
        box["call"] = time.perf_counter()

    return [pair.audited.register_forward_pre_hook(called), pair.mint.register_forward_pre_hook(started),
            pair.mint.register_forward_hook(finished)]
