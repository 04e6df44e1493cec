"""The data model of a pair's ``pair.toml`` manifest (schema version 1) and its serialisation:
what :func:`mint_tui.pairs.manifest.parse_manifest` returns after checking a manifest, and what
``manifest_to_toml`` writes back. Import these from :mod:`mint_tui.pairs.manifest`, the manifest's
one front door (it re-exports them beside the checks).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import tomli_w

from mint_tui.preprocess import Preprocess

SCHEMA_VERSION = 1

Verdict = Literal["member", "non-member", "inconclusive"]


class ManifestError(ValueError):
    """A manifest is invalid.  ``errors`` lists every defect found."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        if len(self.errors) == 1:
            msg = f"invalid pair manifest: {self.errors[0]}"
        else:
            msg = "invalid pair manifest:\n" + "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(msg)


@dataclass(frozen=True)
class PairInfo:
    name: str
    title: str
    description: str


@dataclass(frozen=True)
class AuditedSpec:
    arch: str
    config: dict[str, Any]
    weights: str
    sha256: str
    preprocess: Preprocess


@dataclass(frozen=True)
class MintSpec:
    kind: str
    taps: tuple[str, ...]
    config: dict[str, Any]
    weights: str
    sha256: str
    #: A face's score is the mean of the MINT probabilities of its crop and of the crop mirrored
    #: left-right (calibration included). Absent in pairs made before it existed: false.
    mirror: bool = False


@dataclass(frozen=True)
class Calibration:
    """Threshold and inconclusive band; optionally the calibration scores themselves
    (``scores``: a safetensors file in the bundle with ``member``/``external`` score vectors and
    ``member_identity``/``external_identity`` group ids), used by the identity-level test."""

    threshold: float
    inconclusive: tuple[float, float]
    on: str
    scores: str | None = None
    scores_sha256: str | None = None

    @property
    def low(self) -> float:
        return self.inconclusive[0]

    @property
    def high(self) -> float:
        return self.inconclusive[1]


@dataclass(frozen=True)
class Metric:
    """A measured figure. ``low``/``high``: its 95 % interval. ``value`` is ``None`` when the data
    could not resolve it (a TPR at an FPR finer than 1 / non-members); ``needs`` then says how many
    non-members it takes."""

    name: str
    value: float | None
    data: str
    n: int | None = None
    low: float | None = None
    high: float | None = None
    needs: int | None = None


#: What of the members a pair can store: nothing, or member embeddings (the MINT model's bank).
MEMBER_DATA_KINDS = ("none", "embeddings")


@dataclass(frozen=True)
class MemberData:
    """What of the members (the audited model's training data) the bundle stores.

    ``embeddings``: ``count`` member face embeddings of each tap in ``taps``, verbatim, in the
    MINT weights (biometric data: anyone with the file can extract them). ``without``: metrics
    of the same MINT model trained without them (same data and seed), for the card."""

    kind: str = "none"
    count: int = 0
    taps: tuple[str, ...] = ()
    without: tuple[Metric, ...] = ()

    @property
    def stored(self) -> bool:
        return self.kind != "none"


def member_data_of(mint: MintSpec) -> MemberData:
    """The member data a MINT spec implies: its prototype bank (``prototypes`` member embeddings
    of the embedding tap), or none."""
    count = mint.config.get("prototypes", 0)
    if isinstance(count, int) and not isinstance(count, bool) and count > 0 and "embedding" in mint.taps:
        return MemberData("embeddings", count, ("embedding",))
    return MemberData()


@dataclass(frozen=True)
class Provenance:
    training_data: str
    created: str
    tool_version: str
    notes: str | None = None
    splits: dict[str, str] = field(default_factory=dict)
    license: str | None = None


@dataclass(frozen=True)
class Manifest:
    pair: PairInfo
    audited: AuditedSpec
    mint: MintSpec
    calibration: Calibration
    provenance: Provenance
    metrics: tuple[Metric, ...] = ()
    member_data: MemberData = field(default_factory=MemberData)
    schema_version: int = SCHEMA_VERSION

    @property
    def name(self) -> str:
        return self.pair.name


def verdict(score: float, calibration: Calibration) -> Verdict:
    """Turn a membership probability into a verdict.

    ``score >= high`` -> member, ``score < low`` -> non-member, anything in
    between is inconclusive.  With ``low == high == threshold`` this is a plain
    threshold test (``score >= threshold`` -> member).  NaN is inconclusive.
    """
    score = float(score)
    if math.isnan(score):
        return "inconclusive"
    low, high = calibration.inconclusive
    if score >= high:
        return "member"
    if score < low:
        return "non-member"
    return "inconclusive"


# --------------------------------------------------------------------------
# Serialisation
# --------------------------------------------------------------------------


def _manifest_to_doc(m: Manifest) -> dict[str, Any]:
    pp = m.audited.preprocess
    doc: dict[str, Any] = {
        "schema_version": m.schema_version,
        "pair": {"name": m.pair.name, "title": m.pair.title, "description": m.pair.description},
        "audited": {
            "arch": m.audited.arch,
            "weights": m.audited.weights,
            "sha256": m.audited.sha256,
            "config": copy.deepcopy(dict(m.audited.config)),
            "preprocess": {
                "size": list(pp.size),
                "color": pp.color,
                "mean": [float(v) for v in pp.mean],
                "std": [float(v) for v in pp.std],
                "template": pp.template,
            },
        },
        "mint": {
            "kind": m.mint.kind,
            "taps": list(m.mint.taps),
            "weights": m.mint.weights,
            "sha256": m.mint.sha256,
            "config": copy.deepcopy(dict(m.mint.config)),
            "mirror": bool(m.mint.mirror),
        },
        "calibration": {
            "threshold": float(m.calibration.threshold),
            "inconclusive": [float(v) for v in m.calibration.inconclusive],
            "on": m.calibration.on,
        },
    }
    if m.calibration.scores is not None:
        doc["calibration"]["scores"] = m.calibration.scores
        doc["calibration"]["scores_sha256"] = m.calibration.scores_sha256
    if m.metrics:
        doc["metrics"] = [_metric_to_doc(met) for met in m.metrics]
    md = m.member_data
    doc["member_data"] = {"kind": md.kind, "count": md.count, "taps": list(md.taps)}
    if md.without:
        doc["member_data"]["without"] = [_metric_to_doc(met) for met in md.without]
    prov: dict[str, Any] = {
        "training_data": m.provenance.training_data,
        "created": m.provenance.created,
        "tool_version": m.provenance.tool_version,
    }
    if m.provenance.notes is not None:
        prov["notes"] = m.provenance.notes
    if m.provenance.license is not None:
        prov["license"] = m.provenance.license
    if m.provenance.splits:
        prov["splits"] = dict(m.provenance.splits)
    doc["provenance"] = prov
    return doc


def _metric_to_doc(met: Metric) -> dict[str, Any]:
    d: dict[str, Any] = {"name": met.name, "data": met.data}
    if met.value is not None:
        d["value"] = float(met.value)
    for key in ("n", "needs"):
        if getattr(met, key) is not None:
            d[key] = getattr(met, key)
    if met.low is not None and met.high is not None:
        d["low"], d["high"] = float(met.low), float(met.high)
    return d


def manifest_to_dict(m: Manifest) -> dict[str, Any]:
    """The manifest as plain dicts/lists (the ``pair.toml`` document; JSON-friendly)."""
    return _manifest_to_doc(m)


def manifest_to_toml(m: Manifest) -> str:
    """Serialise a manifest to ``pair.toml`` text (does not validate)."""
    return tomli_w.dumps(_manifest_to_doc(m))
