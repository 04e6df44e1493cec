"""Evidence for an audit report: the audited pair found again, and each face's crop made again
from the very bytes that were audited (sha256 checked), with what was found along the way."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy, OpenCV and the pipeline load when a report is written, not with the CLI
    import numpy as np

    from mint_tui.audit import ResultRow


class ReportCancelled(Exception):
    """``cancel`` was set while the report was being written; no file was written."""


@dataclass
class ReportSummary:
    """What :func:`render_report` found, for a caller to show (the CLI prints it)."""

    path: Path | None = None
    faces: int = 0
    crops: int = 0
    changed: int = 0  # files whose sha256 differs from the audit's: no crop shown
    unreadable: int = 0  # files that could not be read again
    warnings: list[str] = field(default_factory=list)


@dataclass
class PairInfo:
    """The pair the report describes, if it could be found and is the audited one."""

    spec: str | None = None  # what was looked up
    path: Path | None = None
    builtin: bool = False
    manifest: Any = None
    calibration_scores: dict | None = None
    bundle_sha256: str | None = None
    matches: bool = False
    warning: str | None = None


def find_pair(header: dict[str, Any], spec: str | None) -> PairInfo:
    """Look the pair up (``spec`` or the recorded name), load it, compare its bundle hash."""
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.pairs.store import PairStore
    from mint_tui.pairs.verify import BundleError
    from mint_tui.session import PairUnavailable, names_a_file, resolve_pair

    recorded = header.get("pair") if isinstance(header.get("pair"), dict) else {}
    recorded_name = recorded.get("name") if isinstance(recorded.get("name"), str) else None
    recorded_sha = recorded.get("bundle_sha256") if isinstance(recorded.get("bundle_sha256"), str) else None
    info = PairInfo(spec=spec or recorded_name)
    if info.spec is None:
        info.warning = ("The results file does not record which pair was used (CSV results carry no header); "
                        "the model card and ROC curve are left out. Give --pair to include them.")
        return info
    store = PairStore()
    try:
        info.path = resolve_pair(info.spec, store)
    except PairUnavailable as exc:
        if names_a_file(info.spec):
            info.warning = f"The pair file {info.spec} does not exist; the model card and ROC curve are left out."
        else:
            info.warning = (f"The pair {info.spec!r} used for this audit is not installed here or cannot be used "
                            f"({exc}); the model card and ROC curve are left out. Install the pair, or give "
                            "--pair FILE.")
        return info
    info.builtin = info.path.parent == store.builtin_dir
    try:
        pair = load_pair(info.path, device="cpu")
    except (BundleError, OSError, ValueError) as exc:
        info.warning = f"The pair bundle {info.path} was refused ({exc}); the model card and ROC curve are left out."
        return info
    info.bundle_sha256 = pair.bundle_sha256
    if recorded_sha is None:
        info.warning = ("The results file does not record the bundle sha256 of the audited pair, so the pair "
                        f"found here ({info.path}, sha256 {pair.bundle_sha256}) cannot be confirmed to be the "
                        "audited one; the model card and ROC curve are left out.")
        return info
    if pair.bundle_sha256 != recorded_sha.lower():
        info.warning = (f"The pair bundle found here ({info.path}) is NOT the one used for this audit: its sha256 is "
                        f"{pair.bundle_sha256}, the audit recorded {recorded_sha}. The model card and ROC curve "
                        "are left out; the scores and verdicts shown are the ones recorded by the audit.")
        return info
    info.matches = True
    info.manifest = pair.manifest
    info.calibration_scores = pair.calibration_scores
    del pair
    return info


@dataclass
class FileCheck:
    status: str  # "ok" | "changed" | "unreadable" | "not-checked"
    detail: str = ""


def crop_uri(crop: np.ndarray) -> str:
    from mint_tui.faces.image import cv2

    ok, buf = cv2.imencode(".png", crop)
    if not ok:  # pragma: no cover - a uint8 BGR array always encodes
        raise ValueError("PNG encoding failed")
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def resolve_image_path(path: str, results_dir: Path | None) -> Path:
    """The recorded path; a relative one that is not found from here is tried beside the results
    file (the sha256 check makes either choice safe)."""
    p = Path(path)
    try:
        if not p.is_absolute() and not p.exists() and results_dir is not None and (results_dir / p).exists():
            return results_dir / p
    except (OSError, ValueError):  # e.g. a NUL byte: the preparation gives the reason in its row
        pass
    return p


def crop_jobs(rows: list[ResultRow], max_crops: int
               ) -> tuple[list[tuple[str, str | None]], list[list[int]], set[int]]:
    """What to prepare again for the first ``max_crops`` faces: one job per run of consecutive face
    rows of one image, ([(path, recorded sha256)], [the row indices of each job]), and the rows
    within the limit that carry their own crop (rows straight from an audit run with
    ``keep_crops``: the very crop that was scored, nothing to re-read)."""
    jobs: list[tuple[str, str | None]] = []
    members: list[list[int]] = []
    own: set[int] = set()
    last_face = None
    faces = 0
    for i, row in enumerate(rows):
        if row.face is None:
            continue
        if faces >= max_crops:
            break
        faces += 1
        if row.crop is not None:
            own.add(i)
            continue
        if not jobs or jobs[-1] != (row.path, row.sha256) or last_face is None or row.face <= last_face:
            jobs.append((row.path, row.sha256))
            members.append([])
        last_face = row.face
        members[-1].append(i)
    return jobs, members, own


def prepare_settings(header: dict[str, Any], pair: PairInfo) -> tuple[Any, str | None]:
    """The audit's preparation settings, or (None, why crops cannot be recomputed)."""
    from mint_tui.faces import PrepareSettings
    from mint_tui.options import DETECTORS, FACE_POLICIES

    options = header.get("options")
    if not isinstance(options, dict):
        return None, "the results file does not record the audit's options (face policy, detector)"
    policy, detector = options.get("faces"), options.get("detector")
    if policy not in FACE_POLICIES or detector not in DETECTORS:
        return None, f"the recorded options (faces={policy!r}, detector={detector!r}) are not known to this version"
    if pair.matches:
        pre = pair.manifest.audited.preprocess
        return PrepareSettings(policy, detector, tuple(pre.size), pre.template), None
    return PrepareSettings(policy, detector), None


def check_item(item: Any, job: tuple[str, str | None], job_rows: list[ResultRow]
                ) -> tuple[dict[int, str], FileCheck]:
    """Crops (as data URIs) of the faces the job's rows ask for, if the file is the audited one."""
    path, sha = job
    if item.error is not None:
        return {}, FileCheck("unreadable", item.error)
    if sha is None:
        return {}, FileCheck("unverified", "the results record no sha256 for it")
    if item.sha256 != sha.lower():
        return {}, FileCheck("changed", f"sha256 now {item.sha256}")
    wanted = {r.face for r in job_rows}
    faces = {f.index: f for f in item.faces if f.index in wanted}
    crops = {i: crop_uri(f.crop) for i, f in faces.items()}
    diff = 0.0
    for r in job_rows:
        face = faces.get(r.face)
        if r.box and face is not None and face.box:
            diff = max(diff, max(abs(a - b) for a, b in zip(r.box, face.box)))
    detail = f"re-detected face box differs from the audit's by up to {diff:.0f} px" if diff > 2 else ""
    return crops, FileCheck("ok", detail)
