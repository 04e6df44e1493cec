"""The ``pair.toml`` manifest of a MINT pair bundle (schema version 1).

A manifest describes an *audited* face-recognition model and the *MINT*
classifier trained on its activations, how inputs must be preprocessed, how
MINT scores are turned into verdicts (calibration), what the pair was
measured to achieve (metrics) and where it came from (provenance).

Parsing is strict: every defect is collected with the exact field path and
reported together in a :class:`ManifestError`.  Wrong types are never coerced
(``true`` is not a number, ``1.5`` is not an integer); the one widening that
is accepted is an integer where a float is expected (``std = [1, 1, 1]``).
"""

from __future__ import annotations

import copy
import math
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

import tomli_w

from mint_tui.preprocess import COLOR_ORDERS, Preprocess

__all__ = [
    "SCHEMA_VERSION",
    "COLOR_ORDERS",
    "ManifestError",
    "PairInfo",
    "Preprocess",
    "AuditedSpec",
    "MintSpec",
    "Calibration",
    "Metric",
    "MemberData",
    "MEMBER_DATA_KINDS",
    "member_data_of",
    "Provenance",
    "Manifest",
    "parse_manifest",
    "manifest_to_toml",
    "manifest_to_dict",
    "verdict",
    "Verdict",
]

SCHEMA_VERSION = 1

def _template_names() -> tuple[str, ...]:
    from mint_tui.faces.align import template_names

    return template_names()

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# A weights entry is a plain file name inside the bundle (no directories).
WEIGHTS_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.safetensors$")
#: ``audited.arch`` of an ONNX audited model; its ``audited.weights`` is then an .onnx file in the bundle.
ONNX_ARCH = "onnx"
ONNX_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.onnx$")
TAP_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_ONNX_CONFIG_KEYS = ("input", "embedding", "taps", "shapes")
RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)

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


# --------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------


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
# Validation helpers
# --------------------------------------------------------------------------

_MISSING = object()


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, (datetime, date, time)):
        return "date/time (write it as a quoted string)"
    return type(value).__name__


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def table(self, parent: dict, key: str, path: str, *, required: bool = True) -> dict | None:
        value = parent.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.error(path, "missing table")
            return None
        if not isinstance(value, dict):
            self.error(path, f"expected a table, got {_type_name(value)}")
            return None
        return value

    def keys(self, table: dict, allowed: tuple[str, ...], path: str) -> None:
        for key in table:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.error(where, f"unknown key (allowed: {', '.join(allowed)})")

    def string(
        self, table: dict, key: str, path: str, *, required: bool = True, nonempty: bool = False
    ) -> str | None:
        value = table.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.error(path, "missing key (expected a string)")
            return None
        if not isinstance(value, str):
            self.error(path, f"expected a string, got {_type_name(value)}")
            return None
        if nonempty and not value.strip():
            self.error(path, "must not be empty")
            return None
        return value

    def number_value(self, value: Any, path: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(path, f"expected a number, got {_type_name(value)}")
            return None
        f = float(value)
        if not math.isfinite(f):
            self.error(path, f"expected a finite number, got {value!r}")
            return None
        return f

    def number(self, table: dict, key: str, path: str, *, required: bool = True) -> float | None:
        value = table.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.error(path, "missing key (expected a number)")
            return None
        return self.number_value(value, path)

    def integer(self, table: dict, key: str, path: str, *, required: bool = True) -> int | None:
        value = table.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.error(path, "missing key (expected an integer)")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(path, f"expected an integer, got {_type_name(value)}")
            return None
        return value

    def number_list(self, table: dict, key: str, path: str, count: int) -> tuple[float, ...] | None:
        value = table.get(key, _MISSING)
        if value is _MISSING:
            self.error(path, f"missing key (expected {count} numbers)")
            return None
        if not isinstance(value, list):
            self.error(path, f"expected an array of {count} numbers, got {_type_name(value)}")
            return None
        if len(value) != count:
            self.error(path, f"expected {count} numbers, got {len(value)}")
            return None
        out = []
        ok = True
        for i, item in enumerate(value):
            f = self.number_value(item, f"{path}[{i}]")
            if f is None:
                ok = False
            else:
                out.append(f)
        return tuple(out) if ok else None

    def sha256(self, table: dict, key: str, path: str) -> str | None:
        value = self.string(table, key, path)
        if value is None:
            return None
        if not SHA256_RE.fullmatch(value.lower()):
            self.error(path, f"expected 64 hexadecimal digits (a SHA-256), got {value!r}")
            return None
        return value.lower()

    def weights_name(self, table: dict, key: str, path: str, suffix: str = ".safetensors") -> str | None:
        value = self.string(table, key, path)
        if value is None:
            return None
        pattern = ONNX_NAME_RE if suffix == ".onnx" else WEIGHTS_NAME_RE
        if not pattern.fullmatch(value):
            self.error(
                path,
                f"expected a plain file name ending in {suffix} "
                f"(letters, digits, '.', '_', '-'), got {value!r}",
            )
            return None
        return value

    def config(self, table: dict, key: str, path: str) -> dict[str, Any] | None:
        value = table.get(key, _MISSING)
        if value is _MISSING:
            return {}
        if not isinstance(value, dict):
            self.error(path, f"expected a table, got {_type_name(value)}")
            return None
        return copy.deepcopy(value)


def _architectures() -> dict:
    from mint_tui.models.audited import ARCHITECTURES

    return ARCHITECTURES


def _mint_kinds() -> Any:
    from mint_tui.models.mint import MINT_KINDS

    return MINT_KINDS


_TOP_KEYS = ("schema_version", "pair", "audited", "mint", "calibration", "metrics", "member_data", "provenance")
_PAIR_KEYS = ("name", "title", "description")
_AUDITED_KEYS = ("arch", "config", "weights", "sha256", "preprocess")
_PREPROCESS_KEYS = ("size", "color", "mean", "std", "template")
_MINT_KEYS = ("kind", "taps", "config", "weights", "sha256")
_CALIBRATION_KEYS = ("threshold", "inconclusive", "on", "scores", "scores_sha256")
_METRIC_KEYS = ("name", "value", "data", "n", "low", "high", "needs")
_MEMBER_DATA_KEYS = ("kind", "count", "taps", "without")
_PROVENANCE_KEYS = ("training_data", "created", "tool_version", "notes", "splits", "license")


def _check_pair(c: _Checker, doc: dict) -> PairInfo | None:
    t = c.table(doc, "pair", "pair")
    if t is None:
        return None
    c.keys(t, _PAIR_KEYS, "pair")
    name = c.string(t, "name", "pair.name")
    if name is not None and not SLUG_RE.fullmatch(name):
        c.error(
            "pair.name",
            f"expected a slug matching {SLUG_RE.pattern} "
            f"(lower-case letters, digits, '.', '_', '-'; at most 64 characters), got {name!r}",
        )
        name = None
    title = c.string(t, "title", "pair.title", nonempty=True)
    description = c.string(t, "description", "pair.description")
    if None in (name, title, description):
        return None
    return PairInfo(name=name, title=title, description=description)


def _check_preprocess(c: _Checker, t: dict, arch_spec: Any) -> Preprocess | None:
    p = c.table(t, "preprocess", "audited.preprocess")
    if p is None:
        return None
    c.keys(p, _PREPROCESS_KEYS, "audited.preprocess")
    ok = True

    size: tuple[int, int] | None = None
    raw = p.get("size", _MISSING)
    if raw is _MISSING:
        c.error("audited.preprocess.size", "missing key (expected [height, width])")
        ok = False
    elif not isinstance(raw, list):
        c.error("audited.preprocess.size", f"expected an array of 2 integers, got {_type_name(raw)}")
        ok = False
    elif len(raw) != 2:
        c.error("audited.preprocess.size", f"expected 2 integers, got {len(raw)}")
        ok = False
    else:
        items_ok = True
        for i, v in enumerate(raw):
            if isinstance(v, bool) or not isinstance(v, int):
                c.error(f"audited.preprocess.size[{i}]", f"expected an integer, got {_type_name(v)}")
                items_ok = False
            elif v <= 0:
                c.error(f"audited.preprocess.size[{i}]", f"expected a positive integer, got {v}")
                items_ok = False
        if items_ok:
            size = (raw[0], raw[1])
            if arch_spec is not None:
                expected = tuple(arch_spec.input_size)
                if size != expected:
                    c.error(
                        "audited.preprocess.size",
                        f"architecture {arch_spec.name!r} expects {list(expected)}, got {list(size)}",
                    )
                    size = None
        ok = ok and size is not None

    color = c.string(p, "color", "audited.preprocess.color")
    if color is not None and color not in COLOR_ORDERS:
        c.error("audited.preprocess.color", f"expected one of {', '.join(COLOR_ORDERS)}, got {color!r}")
        color = None

    mean = c.number_list(p, "mean", "audited.preprocess.mean", 3)
    std = c.number_list(p, "std", "audited.preprocess.std", 3)
    if std is not None:
        for i, v in enumerate(std):
            if v <= 0:
                c.error(f"audited.preprocess.std[{i}]", f"expected a number > 0, got {v:g}")
                std = None
                break

    template = c.string(p, "template", "audited.preprocess.template")
    if template is not None and template not in _template_names():
        c.error("audited.preprocess.template", f"expected one of {', '.join(_template_names())}, got {template!r}")
        template = None

    if not ok or None in (color, mean, std, template):
        return None
    return Preprocess(size=size, color=color, mean=mean, std=std, template=template)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _OnnxTaps:
    """What the MINT section is checked against for an ONNX audited model: the taps its config names."""

    taps: tuple[str, ...]
    name: str = ONNX_ARCH


def _check_onnx_config(c: _Checker, config: dict) -> dict | None:
    """``audited.config`` of an ONNX model: input and embedding tensor names, taps (name -> graph tensor)
    and the per-sample shape of every tap (the bundle check compares the MINT weights with them)."""
    ok = True
    for key in config:
        if key not in _ONNX_CONFIG_KEYS:
            c.error(f"audited.config.{key}", f"unknown key for an ONNX model (accepted: {', '.join(_ONNX_CONFIG_KEYS)})")
            ok = False
    for key in ("input", "embedding"):
        if not isinstance(config.get(key), str) or not config.get(key):
            c.error(f"audited.config.{key}", "expected the name of a graph tensor")
            ok = False
    taps = config.get("taps")
    if not isinstance(taps, dict) or not all(isinstance(v, str) and v for v in taps.values()):
        c.error("audited.config.taps", "expected a table of tap name = graph tensor name")
        return None
    for name in taps:
        if not TAP_NAME_RE.fullmatch(name) or name == "embedding":
            c.error(f"audited.config.taps.{name}", "tap names are letters, digits and '_' ('embedding' is implicit)")
            ok = False
    shapes = config.get("shapes")
    names = [*taps, "embedding"]
    if not isinstance(shapes, dict) or sorted(shapes) != sorted(names):
        c.error("audited.config.shapes", f"expected the shape of each of {', '.join(names)}")
        return None
    for name, shape in shapes.items():
        if (not isinstance(shape, list) or not 1 <= len(shape) <= 3
                or not all(isinstance(d, int) and not isinstance(d, bool) and 0 < d <= 65536 for d in shape)):
            c.error(f"audited.config.shapes.{name}", "expected 1 to 3 positive integers")
            ok = False
    return config if ok else None


def _check_audited(c: _Checker, doc: dict) -> tuple[AuditedSpec | None, Any]:
    t = c.table(doc, "audited", "audited")
    if t is None:
        return None, None
    c.keys(t, _AUDITED_KEYS, "audited")
    arch = c.string(t, "arch", "audited.arch")
    if arch == ONNX_ARCH:
        config = c.config(t, "config", "audited.config")
        config = _check_onnx_config(c, config) if config is not None else None
        weights = c.weights_name(t, "weights", "audited.weights", suffix=".onnx")
        sha = c.sha256(t, "sha256", "audited.sha256")
        preprocess = _check_preprocess(c, t, None)
        taps = _OnnxTaps((*config["taps"], "embedding")) if config is not None else None
        if None in (config, weights, sha, preprocess):
            return None, taps
        return AuditedSpec(arch=arch, config=config, weights=weights, sha256=sha, preprocess=preprocess), taps
    arch_spec = None
    if arch is not None:
        archs = _architectures()
        if arch not in archs:
            c.error("audited.arch", f"unknown architecture {arch!r} (known: {', '.join(sorted(archs))}, "
                                    f"{ONNX_ARCH})")
            arch = None
        else:
            arch_spec = archs[arch]
    config = c.config(t, "config", "audited.config")
    if config is not None and arch_spec is not None:
        accepted = tuple(arch_spec.default_config)
        for key in config:
            if key not in accepted:
                c.error(
                    f"audited.config.{key}",
                    f"unknown key for architecture {arch_spec.name!r} (accepted: {', '.join(accepted)})",
                )
                config = None
    weights = c.weights_name(t, "weights", "audited.weights")
    sha = c.sha256(t, "sha256", "audited.sha256")
    preprocess = _check_preprocess(c, t, arch_spec)
    if None in (arch, config, weights, sha, preprocess):
        return None, arch_spec
    return (
        AuditedSpec(arch=arch, config=config, weights=weights, sha256=sha, preprocess=preprocess),
        arch_spec,
    )


def _check_mint(c: _Checker, doc: dict, arch_spec: Any) -> MintSpec | None:
    t = c.table(doc, "mint", "mint")
    if t is None:
        return None
    c.keys(t, _MINT_KEYS, "mint")
    kind = c.string(t, "kind", "mint.kind")
    if kind is not None:
        kinds = _mint_kinds()
        if kind not in kinds:
            c.error("mint.kind", f"expected one of {', '.join(sorted(kinds))}, got {kind!r}")
            kind = None

    taps: tuple[str, ...] | None = None
    raw = t.get("taps", _MISSING)
    if raw is _MISSING:
        c.error("mint.taps", "missing key (expected an array of tap names)")
    elif not isinstance(raw, list):
        c.error("mint.taps", f"expected an array of strings, got {_type_name(raw)}")
    elif not raw:
        c.error("mint.taps", "must name at least one tap")
    else:
        ok = True
        seen: set[str] = set()
        for i, v in enumerate(raw):
            path = f"mint.taps[{i}]"
            if not isinstance(v, str):
                c.error(path, f"expected a string, got {_type_name(v)}")
                ok = False
                continue
            if v in seen:
                c.error(path, f"duplicate tap {v!r}")
                ok = False
            seen.add(v)
            if arch_spec is not None and v not in arch_spec.taps:
                c.error(
                    path,
                    f"architecture {arch_spec.name!r} has no tap {v!r} "
                    f"(available: {', '.join(arch_spec.taps)})",
                )
                ok = False
        if ok:
            taps = tuple(raw)

    config = c.config(t, "config", "mint.config")
    weights = c.weights_name(t, "weights", "mint.weights")
    sha = c.sha256(t, "sha256", "mint.sha256")
    if None in (kind, taps, config, weights, sha):
        return None
    return MintSpec(kind=kind, taps=taps, config=config, weights=weights, sha256=sha)  # type: ignore[arg-type]


def _check_calibration(c: _Checker, doc: dict) -> Calibration | None:
    t = c.table(doc, "calibration", "calibration")
    if t is None:
        return None
    c.keys(t, _CALIBRATION_KEYS, "calibration")
    threshold = c.number(t, "threshold", "calibration.threshold")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        c.error("calibration.threshold", f"expected a probability in [0, 1], got {threshold:g}")
        threshold = None

    band: tuple[float, float] | None = None
    if "inconclusive" not in t:
        if threshold is not None:
            band = (threshold, threshold)
    else:
        band = c.number_list(t, "inconclusive", "calibration.inconclusive", 2)  # type: ignore[assignment]
        if band is not None:
            low, high = band
            if not 0.0 <= low <= 1.0 or not 0.0 <= high <= 1.0:
                c.error(
                    "calibration.inconclusive",
                    f"expected probabilities in [0, 1], got [{low:g}, {high:g}]",
                )
                band = None
            elif low > high:
                c.error("calibration.inconclusive", f"low {low:g} is above high {high:g}")
                band = None
            elif threshold is not None and not low <= threshold <= high:
                c.error(
                    "calibration.inconclusive",
                    f"band [{low:g}, {high:g}] must contain calibration.threshold {threshold:g} "
                    "(need 0 <= low <= threshold <= high <= 1)",
                )
                band = None

    on = c.string(t, "on", "calibration.on", nonempty=True)
    scores = scores_sha = None
    if "scores" in t or "scores_sha256" in t:
        scores = c.weights_name(t, "scores", "calibration.scores")
        scores_sha = c.sha256(t, "scores_sha256", "calibration.scores_sha256")
        if scores is None or scores_sha is None:
            return None
    if None in (threshold, band, on):
        return None
    return Calibration(threshold=threshold, inconclusive=band, on=on, scores=scores,  # type: ignore[arg-type]
                       scores_sha256=scores_sha)


def _check_metric_list(c: _Checker, raw: Any, where: str) -> tuple[Metric, ...] | None:
    if not isinstance(raw, list):
        c.error(where, f"expected an array of tables ([[{where}]]), got {_type_name(raw)}")
        return None
    out: list[Metric] = []
    ok = True
    for i, m in enumerate(raw):
        path = f"{where}[{i}]"
        if not isinstance(m, dict):
            c.error(path, f"expected a table, got {_type_name(m)}")
            ok = False
            continue
        c.keys(m, _METRIC_KEYS, path)
        name = c.string(m, "name", f"{path}.name", nonempty=True)
        data = c.string(m, "data", f"{path}.data", nonempty=True)
        n = c.integer(m, "n", f"{path}.n", required=False)
        needs = c.integer(m, "needs", f"{path}.needs", required=False)
        value = c.number(m, "value", f"{path}.value", required=needs is None and "needs" not in m)
        low = c.number(m, "low", f"{path}.low", required=False)
        high = c.number(m, "high", f"{path}.high", required=False)
        for key, v in (("n", n), ("needs", needs)):
            if v is not None and v < 0:
                c.error(f"{path}.{key}", f"expected a non-negative integer, got {v}")
                ok = False
        if "value" in m and "needs" in m:
            c.error(path, "a metric has either a value or 'needs' (too little data to resolve it), not both")
            ok = False
        if ("low" in m) != ("high" in m):
            c.error(path, "an interval needs both 'low' and 'high'")
            ok = False
        elif low is not None and high is not None and not low <= high:
            c.error(f"{path}.low", f"interval [{low:g}, {high:g}] is reversed")
            ok = False
        if name is None or data is None or (value is None and needs is None):
            ok = False
            continue
        out.append(Metric(name=name, value=value, data=data, n=n, low=low, high=high, needs=needs))
    return tuple(out) if ok else None


def _check_metrics(c: _Checker, doc: dict) -> tuple[Metric, ...] | None:
    raw = doc.get("metrics", _MISSING)
    if raw is _MISSING:
        return ()
    return _check_metric_list(c, raw, "metrics")


def _check_member_data(c: _Checker, doc: dict, mint: MintSpec | None) -> MemberData | None:
    """The declaration must match what the MINT config stores; a manifest written before the
    declaration existed gets the one its config implies."""
    implied = member_data_of(mint) if mint is not None else None
    t = c.table(doc, "member_data", "member_data", required=False)
    if t is None:
        return None if "member_data" in doc else implied
    c.keys(t, _MEMBER_DATA_KEYS, "member_data")
    kind = c.string(t, "kind", "member_data.kind")
    if kind is not None and kind not in MEMBER_DATA_KINDS:
        c.error("member_data.kind", f"expected one of {', '.join(MEMBER_DATA_KINDS)}, got {kind!r}")
        kind = None
    count = c.integer(t, "count", "member_data.count", required=False)
    taps = t.get("taps", [])
    if not isinstance(taps, list) or not all(isinstance(v, str) for v in taps):
        c.error("member_data.taps", f"expected an array of tap names, got {_type_name(taps)}")
        taps = None
    without = _check_metric_list(c, t["without"], "member_data.without") if "without" in t else ()
    if None in (kind, taps, without) or ("count" in t and count is None):
        return None
    declared = MemberData(kind, count or 0, tuple(taps), without)  # type: ignore[arg-type]
    if implied is not None and (declared.kind, declared.count, declared.taps) != (
            implied.kind, implied.count, implied.taps):
        c.error("member_data", f"declares {declared.kind} (count {declared.count}, taps {list(declared.taps)}) "
                               f"but the MINT config stores {implied.kind} (count {implied.count}, taps "
                               f"{list(implied.taps)})")
        return None
    return declared


def _check_provenance(c: _Checker, doc: dict) -> Provenance | None:
    t = c.table(doc, "provenance", "provenance")
    if t is None:
        return None
    c.keys(t, _PROVENANCE_KEYS, "provenance")
    training_data = c.string(t, "training_data", "provenance.training_data", nonempty=True)
    created = c.string(t, "created", "provenance.created")
    if created is not None:
        valid = bool(RFC3339_RE.fullmatch(created))
        if valid:
            try:
                datetime.fromisoformat(created.replace("z", "Z").replace("t", "T"))
            except ValueError:
                valid = False
        if not valid:
            c.error(
                "provenance.created",
                f"expected an RFC 3339 timestamp such as '2024-05-01T12:00:00Z', got {created!r}",
            )
            created = None
    tool_version = c.string(t, "tool_version", "provenance.tool_version", nonempty=True)
    notes = c.string(t, "notes", "provenance.notes", required=False)
    license_ = c.string(t, "license", "provenance.license", required=False)

    splits: dict[str, str] | None = {}
    raw = t.get("splits", _MISSING)
    if raw is not _MISSING:
        if not isinstance(raw, dict):
            c.error("provenance.splits", f"expected a table of strings, got {_type_name(raw)}")
            splits = None
        else:
            for k, v in raw.items():
                if not isinstance(v, str):
                    c.error(f"provenance.splits.{k}", f"expected a string, got {_type_name(v)}")
                    splits = None
            if splits is not None:
                splits = dict(raw)

    bad_optional = ("notes" in t and notes is None) or ("license" in t and license_ is None)
    if None in (training_data, created, tool_version, splits) or bad_optional:
        return None
    return Provenance(
        training_data=training_data,  # type: ignore[arg-type]
        created=created,  # type: ignore[arg-type]
        tool_version=tool_version,  # type: ignore[arg-type]
        notes=notes,
        splits=splits,  # type: ignore[arg-type]
        license=license_,
    )


def _manifest_from_doc(doc: dict) -> Manifest:
    c = _Checker()
    version = doc.get("schema_version", _MISSING)
    if version is _MISSING:
        raise ManifestError(["schema_version: missing key (expected 1)"])
    if isinstance(version, bool) or not isinstance(version, int):
        raise ManifestError([f"schema_version: expected an integer, got {_type_name(version)}"])
    if version != SCHEMA_VERSION:
        raise ManifestError(
            [f"schema_version: unsupported version {version} (this mint-tui reads version {SCHEMA_VERSION})"]
        )

    c.keys(doc, _TOP_KEYS, "")
    pair = _check_pair(c, doc)
    audited, arch_spec = _check_audited(c, doc)
    mint = _check_mint(c, doc, arch_spec)
    calibration = _check_calibration(c, doc)
    metrics = _check_metrics(c, doc)
    member_data = _check_member_data(c, doc, mint)
    provenance = _check_provenance(c, doc)

    if c.errors:
        raise ManifestError(c.errors)
    assert pair and audited and mint and calibration and provenance and metrics is not None and member_data
    return Manifest(
        schema_version=version,
        pair=pair,
        audited=audited,
        mint=mint,
        calibration=calibration,
        metrics=metrics,
        member_data=member_data,
        provenance=provenance,
    )


def parse_manifest(text: str) -> Manifest:
    """Parse and validate a ``pair.toml`` text.  Raises :class:`ManifestError`."""
    if not isinstance(text, str):
        raise ManifestError([f"<manifest>: expected text, got {type(text).__name__}"])
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError([f"<toml>: not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ManifestError(["<toml>: nested too deeply to be a pair manifest"]) from None
    return _manifest_from_doc(doc)


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

