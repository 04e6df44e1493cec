"""Opening an auditor's model the one way ``train`` does, and showing what mint-tui sees of it.

:func:`open_audited` turns ``--arch A --weights F``, ``--weights F.onnx`` or ``--pair P`` (plus
preprocessing overrides) into an :class:`AuditedModel`: the built model, its weights, the
preprocessing and default taps, and how the checkpoint was matched. ``train`` builds its pair from
it; :func:`inspect_report` reports it (``mint-tui models inspect``), with the embedding of each
image after the same detection and alignment as an audit, so that an auditor can compare it with
their own code's output.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mint_tui.preprocess import Preprocess, with_overrides

__all__ = ["AuditedModel", "architectures", "inspect_report", "open_audited", "format_report"]


@dataclass
class AuditedModel:
    arch: str
    config: dict
    #: The state dict (a registered architecture) or the ONNX file's bytes.
    weights: object
    preprocess: Preprocess
    #: Tap names, in order (the architecture's, or those found in / named for an ONNX graph).
    taps: tuple[str, ...]
    model: object
    source: str
    checkpoint: dict = field(default_factory=dict)


def architectures() -> list[dict]:
    """The registry as JSON-ready rows (``mint-tui models list --json``)."""
    from mint_tui.models.audited import ARCHITECTURES, ONNX, ONNX_PREPROCESS
    from mint_tui.models.audited.onnx_model import OPSET_RANGE

    rows = [spec.to_dict() for spec in ARCHITECTURES.values()]
    rows.append({"name": ONNX, "description": "any ONNX graph run by onnxruntime (train --weights F.onnx, no "
                                             "--arch); the graph is the architecture",
                 "source": "onnxruntime", "config": {}, "preprocess": ONNX_PREPROCESS.to_dict(),
                 "taps": {"layer1..layer4": "the last cut tensor of each of the four smallest spatial sizes "
                                            "(a residual Add where there is one)", "embedding": "first graph output"},
                 "layouts": [{"name": "ONNX file", "note": f"opset {OPSET_RANGE[0]}..{OPSET_RANGE[1]}, one file "
                                                          "(no external data)"}]})
    return rows


def _check_template(template: str | None) -> None:
    if template is not None:
        from mint_tui.faces.align import template_names

        if template not in template_names():
            raise ValueError(f"unknown alignment template {template!r}; known: {', '.join(template_names())}")


def _read_onnx(path: Path) -> bytes:
    from mint_tui.models.audited.onnx_model import MAX_ONNX_BYTES

    size = path.stat().st_size
    if size > MAX_ONNX_BYTES:
        raise ValueError(f"{path}: {size} bytes is more than the {MAX_ONNX_BYTES}-byte limit for ONNX models")
    return path.read_bytes()


def _onnx_model(path: Path, taps: Sequence[str] | None, overrides: Mapping) -> AuditedModel:
    from mint_tui.models.audited import ONNX, ONNX_PREPROCESS, build_loaded
    from mint_tui.models.audited.onnx_model import (OnnxError, check_onnx, discover_taps, graph_tensors,
                                                    input_size_of, onnx_config, tap_name_for)

    data = _read_onnx(path)
    proto = check_onnx(data, str(path))
    fixed = input_size_of(proto)
    if fixed is not None and overrides.get("size") is not None and tuple(overrides["size"]) != fixed:
        raise ValueError(f"{path}: the graph takes {fixed[0]}x{fixed[1]} images, not {list(overrides['size'])}")
    base = with_overrides(ONNX_PREPROCESS, size=fixed) if fixed else ONNX_PREPROCESS
    pre = with_overrides(base, **overrides)
    found = discover_taps(proto, tuple(pre.size))
    chosen: dict[str, str] = {}
    known = graph_tensors(proto)
    for name in taps or list(found):
        if name in found:
            chosen[name] = found[name]
        elif name in known:
            chosen[tap_name_for(name)] = name
        else:
            raise OnnxError(f"{path}: no tap or graph tensor named {name!r}; default taps: {', '.join(found)}")
    chosen.setdefault("embedding", found["embedding"])
    config = onnx_config(proto, chosen, tuple(pre.size))
    model = build_loaded(ONNX, config, data)
    order = [t for t in chosen if t != "embedding"] + (["embedding"] if not taps or "embedding" in taps else [])
    return AuditedModel(ONNX, config, data, pre, tuple(order), model, str(path),
                        {"layout": "ONNX file", "opset": [o.version for o in proto.opset_import],
                         "nodes": len(proto.graph.node), "tensors": {k: v for k, v in chosen.items()}})


def open_audited(*, arch: str | None = None, weights: str | os.PathLike[str] | None = None,
                 pair: str | os.PathLike[str] | None = None, config: Mapping | None = None,
                 taps: Sequence[str] | None = None, overrides: Mapping | None = None) -> AuditedModel:
    """The audited model as ``train`` uses it.

    Exactly one source: ``pair`` (a .mintpair file), ``weights`` ending in ``.onnx`` (no ``arch``), or
    ``arch`` with ``weights`` (a state dict or checkpoint in one of the architecture's layouts).
    ``overrides`` (size, color, mean, std, template) replace the architecture's (or pair's)
    preprocessing. ``taps`` replace the default taps; for ONNX they may name graph tensors.
    """
    from mint_tui.models.audited import ARCHITECTURES, build_loaded, import_checkpoint_report

    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    _check_template(overrides.get("template"))
    if pair is not None:
        from mint_tui.pairs.loaded import load_pair

        loaded = load_pair(pair)
        a = loaded.manifest.audited
        state = getattr(loaded.audited, "onnx_bytes", None) or {
            k: v.detach().clone() for k, v in loaded.audited.state_dict().items()}
        return AuditedModel(a.arch, dict(a.config), state, with_overrides(a.preprocess, **overrides),
                            tuple(loaded.manifest.mint.taps), loaded.audited, str(pair),
                            {"layout": f"pair {loaded.manifest.pair.name}"})
    if weights is None:
        raise ValueError("give --weights (with --arch unless it is an .onnx file), or --pair")
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"weights not found: {path}")
    if path.suffix.lower() == ".onnx":
        if arch is not None:
            raise ValueError("an .onnx file carries its own architecture: leave out --arch")
        return _onnx_model(path, taps, overrides)
    if arch is None:
        raise ValueError("--weights F needs --arch (see `mint-tui models list`), unless F is an .onnx file")
    if arch not in ARCHITECTURES:
        known = ", ".join(ARCHITECTURES)
        raise ValueError(f"unknown architecture {arch!r}; known: {known} (and .onnx files without --arch)")
    spec = ARCHITECTURES[arch]
    imported = import_checkpoint_report(path, arch, config)
    from mint_tui.models.audited import validate_config

    full = validate_config(arch, config)
    return AuditedModel(arch, full, imported.state, with_overrides(spec.preprocess, **overrides),
                        tuple(taps) if taps else spec.tap_names, build_loaded(arch, full, imported.state), str(path),
                        {"layout": imported.layout.name, "matched": imported.matched,
                         "total": len(imported.state), "ignored": len(imported.ignored)})


def embeddings(am: AuditedModel, images: Sequence[str | os.PathLike[str]], faces: str = "largest",
               detector: str = "short") -> list[dict]:
    """Per image: its path and the model's embedding of its (largest) face, or an error."""
    import torch

    from mint_tui.faces import PrepareSettings, prepare_images, to_tensor_batch
    from mint_tui.models.taps import TapExtractor

    pre = am.preprocess
    settings = PrepareSettings(faces, detector, tuple(pre.size), pre.template)
    rows = []
    with TapExtractor(am.model, ["embedding"]) as extract, torch.inference_mode():
        for item in prepare_images([Path(p) for p in images], settings, workers=1):
            row: dict = {"path": str(item.path)}
            if item.error or not item.faces:
                row["error"] = item.error or "no face found"
            else:
                x = to_tensor_batch([item.faces[0].crop], pre.color, tuple(pre.mean), tuple(pre.std))
                row["embedding"] = [float(v) for v in extract(x)["embedding"].float().reshape(-1)]
            rows.append(row)
    return rows


def inspect_report(am: AuditedModel, images: Sequence[str | os.PathLike[str]] = (), faces: str = "largest",
                   detector: str = "short") -> dict:
    """``{"arch", "source", "checkpoint", "preprocess", "taps": [{"name","shape"}], "images": [...]}``."""
    from mint_tui.models.taps import tap_shapes

    shapes = tap_shapes(am.model, list(am.taps), tuple(am.preprocess.size))
    return {"arch": am.arch, "source": am.source, "config": am.config if am.arch != "onnx" else
            {k: v for k, v in am.config.items() if k != "shapes"},
            "checkpoint": am.checkpoint, "preprocess": am.preprocess.to_dict(),
            "taps": [{"name": name, "shape": list(shape)} for name, shape in shapes.items()],
            "images": embeddings(am, images, faces, detector) if images else []}


def format_report(doc: dict) -> str:
    """The report as text for the terminal."""
    ck = doc["checkpoint"]
    lines = [f"architecture  {doc['arch']}   ({doc['source']})"]
    if "matched" in ck:
        lines.append(f"checkpoint    layout '{ck['layout']}': {ck['matched']} of {ck['total']} tensors matched"
                     + (f", {ck['ignored']} ignored (training-only)" if ck.get("ignored") else ""))
    else:
        lines.append(f"checkpoint    {ck.get('layout', '')}"
                     + (f", opset {ck['opset']}, {ck['nodes']} nodes" if "opset" in ck else ""))
    p = doc["preprocess"]
    lines.append(f"preprocess    {p['size'][0]}x{p['size'][1]} {p['color']}, mean {p['mean']}, std {p['std']}, "
                 f"template {p['template']}")
    lines.append("taps")
    tensors = ck.get("tensors", {})
    for tap in doc["taps"]:
        where = f"  <- {tensors[tap['name']]}" if tap["name"] in tensors else ""
        lines.append(f"  {tap['name']:<12} {'x'.join(map(str, tap['shape']))}{where}")
    for row in doc["images"]:
        if "error" in row:
            lines.append(f"{row['path']}: {row['error']}")
        else:
            e = row["embedding"]
            norm = sum(v * v for v in e) ** 0.5
            head = ", ".join(f"{v:.4f}" for v in e[:6])
            lines.append(f"{row['path']}: embedding [{head}, ...] ({len(e)} values, norm {norm:.4f})")
    return "\n".join(lines)
