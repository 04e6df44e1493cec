"""Files -> aligned faces, in input order, with decoding and detection in a thread pool.

The one path from an image file to the crops a model sees; the audit and MINT training both use
it, so they cannot drift apart. An optional on-disk cache (keyed by the file's sha256 and the
preparation settings) lets training reuse crops across runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mint_tui.faces.detect import FaceDetector
from mint_tui.faces.extract import Face, extract_faces, needs_mesh
from mint_tui.faces.image import ImageError, decode_image, read_image_bytes
from mint_tui.faces.landmarks import FaceMesh
from mint_tui.options import DEFAULT_DETECTOR, FACE_POLICIES


@dataclass(frozen=True)
class PrepareSettings:
    policy: str = "largest"
    detector: str = DEFAULT_DETECTOR
    size: tuple[int, int] = (112, 112)
    template: str = "arcface112"

    def __post_init__(self) -> None:
        if self.policy not in FACE_POLICIES:
            raise ValueError(f"faces must be one of {', '.join(FACE_POLICIES)}, not {self.policy!r}")
        needs_mesh(self.template)  # an unknown template is refused here, not once per image

    @property
    def key(self) -> str:
        """Identifies the settings in cache paths."""
        det = "none" if self.policy == "aligned" else self.detector
        return f"{self.policy}-{det}-{self.size[0]}x{self.size[1]}-{self.template}"


@dataclass
class PreparedImage:
    path: Path
    sha256: str | None = None
    faces: list[Face] = field(default_factory=list)
    error: str | None = None
    #: its content hashes to the sha256 its rows were recorded with (a resumed audit): not decoded
    known: bool = False


class CropCache:
    """Aligned faces of one image stored as ``<root>/<key>/<sha[:2]>/<sha>.npz`` (no face: n = 0).

    A cache that cannot be written (``MINT_TUI_HOME`` naming a file, a read-only or full disk) is
    skipped from its first failure on, with one warning (logger ``mint_tui``): the images are
    prepared all the same."""

    def __init__(self, root: Path, settings: PrepareSettings) -> None:
        self.dir = Path(root) / settings.key
        self.disabled: str | None = None  # why the cache is skipped

    def _path(self, sha: str) -> Path:
        return self.dir / sha[:2] / f"{sha}.npz"

    def get(self, sha: str) -> list[Face] | None:
        path = self._path(sha)
        if self.disabled or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                crops, boxes, scores = z["crops"], z["boxes"], z["scores"]
        except (OSError, ValueError, KeyError):
            return None  # a damaged cache entry is recomputed
        try:
            os.utime(path)  # used now: the cache's least-recently-used budget evicts by this time
        except OSError:
            pass
        return [Face(i, tuple(float(v) for v in boxes[i]) if not np.isnan(boxes[i]).any() else None,
                     None if np.isnan(scores[i]) else float(scores[i]), crops[i]) for i in range(len(crops))]

    def put(self, sha: str, faces: list[Face]) -> None:
        if self.disabled:
            return
        path = self._path(sha)
        crops = np.stack([f.crop for f in faces]) if faces else np.zeros((0, 1, 1, 3), np.uint8)
        boxes = np.array([f.box if f.box else (np.nan,) * 4 for f in faces], dtype=np.float64).reshape(-1, 4)
        scores = np.array([np.nan if f.detection_score is None else f.detection_score for f in faces], np.float64)
        tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                np.savez(fh, crops=crops, boxes=boxes, scores=scores)
            tmp.replace(path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            self._skip(exc)

    def _skip(self, exc: OSError) -> None:
        with _CACHE_WARNING:
            if self.disabled:
                return
            self.disabled = f"{exc.strerror or exc}"
        logging.getLogger("mint_tui").warning(
            "warning: the crop cache in %s cannot be written (%s); going on without it", self.dir, self.disabled)


_CACHE_WARNING = threading.Lock()


class StageTimes:
    """Seconds spent in each pipeline stage, summed over the threads that ran it (so stages that
    overlap can add up to more than the wall time), and how often each ran. Thread-safe; adding a
    measurement costs well under a microsecond, so it can stay on in a real audit.

    Stages: ``read`` (file bytes + sha256), ``decode``, ``detect``, ``align``, ``batch`` (crops ->
    normalised tensor), ``forward`` (the audited model), ``mint`` (the MINT classifier).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def add(self, stage: str, seconds: float, count: int = 1) -> None:
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds
            self.counts[stage] = self.counts.get(stage, 0) + count

    def snapshot(self) -> dict[str, tuple[float, int]]:
        with self._lock:
            return {k: (self.seconds[k], self.counts[k]) for k in self.seconds}


class _TimedDetector:
    """A detector that adds its time to ``stats`` (so alignment can be told apart from detection)."""

    def __init__(self, detector: FaceDetector, stats: StageTimes) -> None:
        self.detector, self.stats, self.spent = detector, stats, 0.0

    def detect(self, image: np.ndarray):
        t = time.perf_counter()
        try:
            return self.detector.detect(image)
        finally:
            spent = time.perf_counter() - t
            self.spent += spent
            self.stats.add("detect", spent)


class ImagePreparer:
    """Read + hash + decode + detect + align one file; one detector (and face mesh, for templates
    that need it) per calling thread."""

    def __init__(self, settings: PrepareSettings, cache: CropCache | None = None,
                 stats: StageTimes | None = None) -> None:
        self.settings, self.cache, self.stats = settings, cache, stats
        self._local = threading.local()
        self._detectors: list[FaceDetector] = []
        self._mesh_wanted = settings.policy != "aligned" and needs_mesh(settings.template)
        self._lock = threading.Lock()

    def _detector(self) -> FaceDetector | None:
        if self.settings.policy == "aligned":
            return None
        det = getattr(self._local, "detector", None)
        if det is None:
            det = FaceDetector(self.settings.detector)
            self._local.detector = det
            with self._lock:
                self._detectors.append(det)
        return det

    def _mesh(self) -> FaceMesh | None:
        if not self._mesh_wanted:
            return None
        mesh = getattr(self._local, "mesh", None)
        if mesh is None:
            mesh = self._local.mesh = FaceMesh()
        return mesh

    def __call__(self, path: Path, expected_sha256: str | None = None,
                 known_sha256: str | None = None) -> PreparedImage:
        """``expected_sha256``: a file whose bytes hash otherwise is not decoded (its faces stay
        empty, its ``sha256`` says what it is now). ``known_sha256``: a file whose bytes hash to
        it is not decoded either, and is marked ``known`` (its rows are on record)."""
        item = PreparedImage(Path(path))
        stats = self.stats
        try:
            t0 = time.perf_counter()
            data = read_image_bytes(path)
            item.sha256 = hashlib.sha256(data).hexdigest()
            if stats:
                t1 = time.perf_counter()
                stats.add("read", t1 - t0)
            if expected_sha256 is not None and item.sha256 != expected_sha256.lower():
                return item  # not the file expected: never handed to a decoder
            if known_sha256 is not None and item.sha256 == known_sha256:
                item.known = True
                return item
            cached = self.cache.get(item.sha256) if self.cache else None
            if cached is not None:
                item.faces = cached
                return item
            image = decode_image(data)
            del data
            s = self.settings
            detector = self._detector()
            if stats:
                t2 = time.perf_counter()
                stats.add("decode", t2 - t1)
                if detector is not None:
                    detector = _TimedDetector(detector, stats)
            item.faces = extract_faces(image, detector, s.policy, s.size, s.template, self._mesh())
            if stats:  # alignment (with the face mesh, if any): what extract_faces spent beyond detection
                detect = detector.spent if detector is not None else 0.0
                stats.add("align", max(time.perf_counter() - t2 - detect, 0.0))
            if self.cache:
                self.cache.put(item.sha256, item.faces)
        except ImageError as exc:
            item.error = str(exc)
        except Exception as exc:  # one bad file must never end a run
            item.error = f"{type(exc).__name__}: {exc}"
        return item

    def close(self) -> None:
        with self._lock:
            for det in self._detectors:
                det.close()
            self._detectors.clear()


def prepare_images(paths: Iterable[Path], settings: PrepareSettings, workers: int = 2, window: int = 64,
                   cache: CropCache | None = None,
                   cancel: threading.Event | None = None,
                   stats: StageTimes | None = None,
                   on_prepared: Callable[[], None] | None = None,
                   expected_sha256: Iterable[str | None] | None = None,
                   known_sha256: Iterable[str | None] | None = None) -> Iterator[PreparedImage]:
    """Prepare files in a thread pool, yielding results in input order; at most ``window``
    files are in flight, so memory stays flat however many files there are. ``on_prepared`` is
    called in the preparing thread as soon as each file is done (before it is yielded: the
    consumer may be busy, e.g. scoring a batch). ``expected_sha256`` (one per path): files whose
    content hashes otherwise are not decoded at all. ``known_sha256`` (one per path): files whose
    content hashes to it are not decoded either, and come back ``known``."""
    preparer = ImagePreparer(settings, cache, stats)
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="mint-prepare")
    queue: deque[Future[PreparedImage]] = deque()
    it = iter(paths)
    shas = iter(expected_sha256) if expected_sha256 is not None else None
    knowns = iter(known_sha256) if known_sha256 is not None else None
    try:
        while True:
            while len(queue) < window and not (cancel and cancel.is_set()):
                path = next(it, None)
                if path is None:
                    break
                future = pool.submit(preparer, path, next(shas) if shas is not None else None,
                                     next(knowns) if knowns is not None else None)
                if on_prepared is not None:
                    future.add_done_callback(lambda f: f.cancelled() or on_prepared())
                queue.append(future)
            if not queue or (cancel and cancel.is_set()):
                return
            yield queue.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        preparer.close()
