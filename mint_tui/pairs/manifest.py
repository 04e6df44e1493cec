"""The ``pair.toml`` manifest of a MINT pair bundle (schema version 1).

A manifest describes an *audited* face-recognition model and the *MINT*
classifier trained on its activations, how inputs must be preprocessed, how
MINT scores are turned into verdicts (calibration), what the pair was
measured to achieve (metrics) and where it came from (provenance).

Parsing is strict: every defect is collected with the exact field path and
reported together in a :class:`ManifestError`.  Wrong types are never coerced
(``true`` is not a number, ``1.5`` is not an integer); the one widening that
is accepted is an integer where a float is expected (``std = [1, 1, 1]``).

This module is the manifest's front door: the checks of each section and
:func:`parse_manifest` live here, the data model and the serialisation in
:mod:`mint_tui.pairs.schema` and the checking helpers in
:mod:`mint_tui.pairs.checker`; both are re-exported from here.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mint_tui.pairs.checker import MISSING, Checker, type_name
from mint_tui.pairs.schema import (MEMBER_DATA_KINDS, SCHEMA_VERSION, AuditedSpec, Calibration, Manifest,
                                   ManifestError, MemberData, Metric, MintSpec, PairInfo, Provenance, Verdict,
                                   manifest_to_dict, manifest_to_toml, member_data_of, verdict)
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



def _template_names() -> tuple[str, ...]:
    from mint_tui.faces.align import template_names

    return template_names()


SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
#: ``audited.arch`` of an ONNX audited model; its ``audited.weights`` is then an .onnx file in the bundle.
ONNX_ARCH = "onnx"
TAP_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_ONNX_CONFIG_KEYS = ("input", "embedding", "taps", "shapes")
RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


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
_MINT_KEYS = ("kind", "taps", "config", "weights", "sha256", "mirror")
_CALIBRATION_KEYS = ("threshold", "inconclusive", "on", "scores", "scores_sha256")
_METRIC_KEYS = ("name", "value", "data", "n", "low", "high", "needs")
_MEMBER_DATA_KEYS = ("kind", "count", "taps", "without")
_PROVENANCE_KEYS = ("training_data", "created", "tool_version", "notes", "splits", "license")


def _check_pair(c: Checker, doc: dict) -> PairInfo | None:
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


def _check_preprocess(c: Checker, t: dict, arch_spec: Any) -> Preprocess | None:
    p = c.table(t, "preprocess", "audited.preprocess")
    if p is None:
        return None
    c.keys(p, _PREPROCESS_KEYS, "audited.preprocess")
    ok = True

    size: tuple[int, int] | None = None
    raw = p.get("size", MISSING)
    if raw is MISSING:
        c.error("audited.preprocess.size", "missing key (expected [height, width])")
        ok = False
    elif not isinstance(raw, list):
        c.error("audited.preprocess.size", f"expected an array of 2 integers, got {type_name(raw)}")
        ok = False
    elif len(raw) != 2:
        c.error("audited.preprocess.size", f"expected 2 integers, got {len(raw)}")
        ok = False
    else:
        items_ok = True
        for i, v in enumerate(raw):
            if isinstance(v, bool) or not isinstance(v, int):
                c.error(f"audited.preprocess.size[{i}]", f"expected an integer, got {type_name(v)}")
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


def _check_onnx_config(c: Checker, config: dict) -> dict | None:
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


def _check_audited(c: Checker, doc: dict) -> tuple[AuditedSpec | None, Any]:
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


def _check_mint(c: Checker, doc: dict, arch_spec: Any) -> MintSpec | None:
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
    raw = t.get("taps", MISSING)
    if raw is MISSING:
        c.error("mint.taps", "missing key (expected an array of tap names)")
    elif not isinstance(raw, list):
        c.error("mint.taps", f"expected an array of strings, got {type_name(raw)}")
    elif not raw:
        c.error("mint.taps", "must name at least one tap")
    else:
        ok = True
        seen: set[str] = set()
        for i, v in enumerate(raw):
            path = f"mint.taps[{i}]"
            if not isinstance(v, str):
                c.error(path, f"expected a string, got {type_name(v)}")
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
    mirror = t.get("mirror", False)
    if not isinstance(mirror, bool):
        c.error("mint.mirror", f"expected true or false, got {type_name(mirror)}")
        return None
    if None in (kind, taps, config, weights, sha):
        return None
    return MintSpec(kind=kind, taps=taps, config=config, weights=weights, sha256=sha,  # type: ignore[arg-type]
                    mirror=mirror)


def _check_calibration(c: Checker, doc: dict) -> Calibration | None:
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


def _check_metric_list(c: Checker, raw: Any, where: str) -> tuple[Metric, ...] | None:
    if not isinstance(raw, list):
        c.error(where, f"expected an array of tables ([[{where}]]), got {type_name(raw)}")
        return None
    out: list[Metric] = []
    ok = True
    for i, m in enumerate(raw):
        path = f"{where}[{i}]"
        if not isinstance(m, dict):
            c.error(path, f"expected a table, got {type_name(m)}")
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


def _check_metrics(c: Checker, doc: dict) -> tuple[Metric, ...] | None:
    raw = doc.get("metrics", MISSING)
    if raw is MISSING:
        return ()
    return _check_metric_list(c, raw, "metrics")


def _check_member_data(c: Checker, doc: dict, mint: MintSpec | None) -> MemberData | None:
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
        c.error("member_data.taps", f"expected an array of tap names, got {type_name(taps)}")
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


def _check_provenance(c: Checker, doc: dict) -> Provenance | None:
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
    raw = t.get("splits", MISSING)
    if raw is not MISSING:
        if not isinstance(raw, dict):
            c.error("provenance.splits", f"expected a table of strings, got {type_name(raw)}")
            splits = None
        else:
            for k, v in raw.items():
                if not isinstance(v, str):
                    c.error(f"provenance.splits.{k}", f"expected a string, got {type_name(v)}")
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
    c = Checker()
    version = doc.get("schema_version", MISSING)
    if version is MISSING:
        raise ManifestError(["schema_version: missing key (expected 1)"])
    if isinstance(version, bool) or not isinstance(version, int):
        raise ManifestError([f"schema_version: expected an integer, got {type_name(version)}"])
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
