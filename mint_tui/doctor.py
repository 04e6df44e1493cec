"""`mint-tui doctor`: check what an audit needs on this machine, and say what to do about each failure.

Each check is real: it loads the system libraries, imports OpenCV, MediaPipe and torch, creates the face
detector and runs it, hashes the detector models, writes a file into each user folder that exists (and
checks that the others can be made) and verifies every bundled pair. The CLI (``mint-tui doctor``) and the TUI's command palette show the same list.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

from mint_tui import paths

#: What OpenCV (opencv-contrib-python) and MediaPipe load from the system: library -> Debian/Ubuntu package.
SYSTEM_LIBRARIES = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libGLESv2.so.2": "libgles2",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libX11.so.6": "libx11-6",
    "libxcb.so.1": "libxcb1",
}
#: The OpenCV distributions on PyPI; all of them install the same `cv2` package over each other.
OPENCV_DISTRIBUTIONS = ("opencv-contrib-python", "opencv-python", "opencv-python-headless",
                        "opencv-contrib-python-headless")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str  # what was found
    fix: str = ""  # what to do, when not ok

    def to_dict(self) -> dict:
        return asdict(self)


class Failed(Exception):
    """A check's failure: the message says what was found, ``fix`` what to do."""

    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.fix = fix


def frozen() -> bool:
    """Running inside the standalone (PyInstaller) executable."""
    return getattr(sys, "_MEIPASS", None) is not None


REINSTALL = ("download the standalone executable again" if frozen()
             else "reinstall mint-tui (pip install --force-reinstall mint-tui, or `make setup` in a checkout)")


def check_system_libraries() -> str:
    if not sys.platform.startswith("linux"):
        return f"not checked on {sys.platform} (the list is for Linux)"
    missing = []
    for lib in SYSTEM_LIBRARIES:
        try:
            ctypes.CDLL(lib)
        except OSError:
            missing.append(lib)
    if missing:
        packages = " ".join(dict.fromkeys(SYSTEM_LIBRARIES[x] for x in missing))
        raise Failed(f"cannot load {', '.join(missing)}",
                     f"install them: sudo apt-get install {packages} (Debian/Ubuntu package names)")
    return f"{len(SYSTEM_LIBRARIES)} load: {', '.join(SYSTEM_LIBRARIES)}"


def check_opencv_distributions() -> str:
    if frozen():
        return "built into the executable (opencv-contrib-python)"
    from importlib.metadata import distributions

    found = sorted({(d.metadata["Name"] or "").lower(): d.version for d in distributions()
                    if (d.metadata["Name"] or "").lower() in OPENCV_DISTRIBUTIONS}.items())
    text = ", ".join(f"{name} {version}" for name, version in found) or "none"
    if len(found) != 1:
        others = " ".join(name for name, _ in found if name != "opencv-contrib-python") or "-"
        fix = ("install it: pip install opencv-contrib-python" if not found else
               f"keep only opencv-contrib-python (mediapipe depends on it): pip uninstall {others}, then "
               "pip install --force-reinstall opencv-contrib-python (the others overwrote its cv2)")
        raise Failed(f"{len(found)} OpenCV distributions installed ({text}); exactly one must be", fix)
    return text


def check_opencv() -> str:
    try:
        import cv2
    except ImportError as exc:
        raise Failed(f"import cv2 failed: {exc}",
                     "a missing lib*.so is a system library (see that check); otherwise " + REINSTALL) from exc
    return f"cv2 {cv2.__version__} imports"


def check_detector_models() -> str:
    from mint_tui.faces.detect import DETECTOR_MODELS, verify_detector_model

    for model in DETECTOR_MODELS:
        try:
            verify_detector_model(model)
        except (OSError, RuntimeError) as exc:
            raise Failed(str(exc), f"the package data in {paths.detector_dir()} is damaged: {REINSTALL}") from exc
    return f"{len(DETECTOR_MODELS)} present, sha256 as in SHA256SUMS ({paths.detector_dir()})"


def check_mediapipe() -> str:
    import numpy as np

    try:
        import mediapipe
        from mint_tui.faces.detect import FaceDetector

        with FaceDetector() as detector:
            detector.detect(np.zeros((128, 128, 3), dtype=np.uint8))
    except (ImportError, OSError, RuntimeError) as exc:
        raise Failed(f"the MediaPipe face detector does not run: {exc}",
                     "a missing lib*.so is a system library (see that check); otherwise " + REINSTALL) from exc
    return f"mediapipe {mediapipe.__version__}: the face detector loads and runs"


def check_torch() -> str:
    try:
        import torch
    except (ImportError, OSError) as exc:
        raise Failed(f"import torch failed: {exc}", REINSTALL) from exc
    devices = [f"cpu ({torch.get_num_threads()} threads)"]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            devices.append(f"cuda:{i} {props.name} {props.total_memory / 2**30:.1f} GiB")
    elif torch.version.cuda:
        devices.append(f"no CUDA device visible (torch built for CUDA {torch.version.cuda})")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return f"torch {torch.__version__}; devices: {', '.join(devices)}"


def _writable(folder: Path) -> str:
    if folder.is_dir():
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
        return "writable"
    parent = next(p for p in folder.parents if p.exists())
    if not (parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)):
        raise PermissionError(f"{folder} does not exist and {parent} is not writable")
    return "will be created"


def check_user_folders() -> str:
    folders = {"data": paths.user_data_dir(), "config": paths.user_config_dir(), "cache": paths.user_cache_dir()}
    found = []
    for name, folder in folders.items():
        try:
            found.append(f"{name} {folder} ({_writable(folder)})")
        except OSError as exc:
            raise Failed(f"{name} folder {folder}: {exc}",
                         f"make it writable, or point {paths.HOME_ENV} at a writable folder") from exc
    return "; ".join(found)


def check_bundled_pairs() -> str:
    from mint_tui.pairs.store import PairStore

    store = PairStore()
    builtin = [e for e in store.list() if e.builtin]
    if not builtin:
        raise Failed(f"no bundled pair in {paths.builtin_pairs_dir()}", REINSTALL)
    for entry in builtin:
        if entry.error is not None:
            raise Failed(f"{entry.name}: {entry.error}", REINSTALL)
        try:
            store.verify(entry.name)
        except Exception as exc:  # BundleError, or whatever else a damaged file raises
            raise Failed(f"{entry.name}: {exc}", REINSTALL) from exc
    return f"{len(builtin)} verify: {', '.join(e.name for e in builtin)}"


def check_samples() -> str:
    photos = sorted(paths.samples_dir().glob("*/*.jpg"))
    if not photos:
        raise Failed(f"no sample photos in {paths.samples_dir()}", REINSTALL)
    people = sorted({p.parent.name for p in photos})
    return f"{len(photos)} photos of {len(people)} people in {paths.samples_dir()}"


#: The checks, in the order they run (the libraries first: the imports after them need them).
CHECKS: list[tuple[str, Callable[[], str]]] = [
    ("system libraries", check_system_libraries),
    ("OpenCV distributions", check_opencv_distributions),
    ("OpenCV", check_opencv),
    ("detector models", check_detector_models),
    ("MediaPipe", check_mediapipe),
    ("torch", check_torch),
    ("user folders", check_user_folders),
    ("bundled pairs", check_bundled_pairs),
    ("sample photos", check_samples),
]


def run_check(name: str, fn: Callable[[], str]) -> Check:
    try:
        return Check(name, True, fn())
    except Failed as exc:
        return Check(name, False, str(exc), exc.fix)
    except Exception as exc:  # an unexpected failure is still a failed check, not a crash
        return Check(name, False, f"{type(exc).__name__}: {exc}", REINSTALL)


def run_checks() -> Iterator[Check]:
    """Run every check in order, yielding each result as it is known."""
    for name, fn in CHECKS:
        yield run_check(name, fn)


def format_check(check: Check) -> str:
    text = f"{'ok' if check.ok else 'FAIL':<5} {check.name:<21} {check.detail}"
    return text if check.ok else f"{text}\n{'':<27}fix: {check.fix}"


def summary(checks: list[Check]) -> str:
    failed = sum(not c.ok for c in checks)
    return "all checks passed" if not failed else f"{failed} of {len(checks)} checks failed"


def print_checks(as_json: bool = False, out: TextIO | None = None) -> bool:
    """``mint-tui doctor``: print each check as it finishes (or all as JSON at the end); True if all passed."""
    out = out or sys.stdout
    checks = []
    for check in run_checks():
        checks.append(check)
        if not as_json:
            print(format_check(check), file=out, flush=True)
    print(json.dumps([c.to_dict() for c in checks], indent=2) if as_json else summary(checks), file=out)
    return all(c.ok for c in checks)
