"""Bundles with RANDOM weights: test and benchmark scaffolding, never shipped.

Lives with the tests (``bench/`` and ``scripts/exe_smoke.py`` put this folder on ``sys.path``):
a pair made here must never be shipped or presented as an audit result.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from mint_tui import __version__
from mint_tui.pairs.bundle import write_bundle
from mint_tui.pairs.manifest import (AuditedSpec, Calibration, Manifest, MintSpec, PairInfo, Provenance,
                                     member_data_of)

RANDOM_PAIR_NOTE = "random weights, for tests only"


def make_random_pair(
    path: str | os.PathLike[str],
    name: str = "tiny-test",
    arch: str = "mobilefacenet",
    kind: str = "mlp",
    taps: tuple[str, ...] = ("layer1", "embedding"),
    seed: int = 0,
    *,
    audited_config: dict[str, Any] | None = None,
    mint_config: dict[str, Any] | None = None,
) -> Path:
    """Write a bundle with RANDOM weights (test/benchmark scaffolding only).

    Its title and description say "random weights, for tests only"; it must
    never be shipped or presented as an audit result.
    """
    from mint_tui.models.audited import ARCHITECTURES, build_audited
    from mint_tui.models.mint import build_mint, mint_config_defaults
    from mint_tui.models.taps import tap_shapes

    spec = ARCHITECTURES[arch]
    a_cfg = dict(spec.default_config)
    a_cfg.update(audited_config or {})
    m_cfg = {**mint_config_defaults(kind), **(mint_config or {})}  # recorded in full, as `train` does
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        audited = build_audited(arch, a_cfg).eval()
        with torch.no_grad():
            shapes = tap_shapes(audited, list(taps), tuple(spec.input_size))
        mint = build_mint(kind, shapes, m_cfg).eval()
    mint_spec = MintSpec(kind=kind, taps=tuple(taps), config=m_cfg, weights="mint.safetensors", sha256="0" * 64)
    manifest = Manifest(
        pair=PairInfo(
            name=name,
            title=f"{name} ({RANDOM_PAIR_NOTE})",
            description=f"{arch} + {kind} MINT with {RANDOM_PAIR_NOTE}; meaningless scores.",
        ),
        audited=AuditedSpec(
            arch=arch,
            config=a_cfg,
            weights="audited.safetensors",
            sha256="0" * 64,
            preprocess=spec.preprocess,
        ),
        mint=mint_spec,
        member_data=member_data_of(mint_spec),
        calibration=Calibration(threshold=0.5, inconclusive=(0.4, 0.6), on=f"nothing ({RANDOM_PAIR_NOTE})"),
        provenance=Provenance(
            training_data=f"none ({RANDOM_PAIR_NOTE})",
            created=datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            tool_version=__version__,
            notes=RANDOM_PAIR_NOTE,
        ),
    )
    return write_bundle(path, manifest, audited.state_dict(), mint.state_dict())



def export_onnx(model: torch.nn.Module, size: tuple[int, int] = (112, 112)) -> bytes:
    """A model as arcface_torch's torch2onnx.py exports it: legacy exporter, opset 11, BatchNorm folded,
    dynamic batch."""
    import io

    buf = io.BytesIO()
    torch.onnx.export(model.eval(), torch.randn(1, 3, *size), buf, input_names=["input.1"], opset_version=11,
                      do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL, dynamo=False,
                      dynamic_axes={"input.1": {0: "batch"}})
    return buf.getvalue()


def make_onnx_pair(path: str | os.PathLike[str], data: bytes | None = None, name: str = "onnx-test",
                   kind: str = "mlp", seed: int = 0, mutate=None) -> Path:
    """A bundle carrying an ONNX audited model (``data``; default: a small MobileFaceNet exported as
    torch2onnx.py does) with its default taps and a RANDOM MINT model (tests only). ``mutate(manifest)``
    returns a changed manifest, written without verification (hostile-bundle tests)."""
    from mint_tui.models.audited import ONNX_PREPROCESS, build_audited
    from mint_tui.models.audited.onnx_model import check_onnx, discover_taps, input_size_of, onnx_config
    from mint_tui.models.mint import build_mint, mint_config_defaults
    from mint_tui.preprocess import with_overrides

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if data is None:
            data = export_onnx(build_audited("mobilefacenet", {"width": 0.25, "embedding_size": 32}))
        proto = check_onnx(data)
        size = input_size_of(proto) or (112, 112)
        config = onnx_config(proto, discover_taps(proto, size), size)
        taps = (*config["taps"], "embedding")
        mint = build_mint(kind, {k: tuple(config["shapes"][k]) for k in taps}).eval()
    manifest = Manifest(
        pair=PairInfo(name, f"{name} ({RANDOM_PAIR_NOTE})", f"ONNX audited model + {kind} MINT with "
                                                             f"{RANDOM_PAIR_NOTE}; meaningless scores."),
        audited=AuditedSpec("onnx", config, "audited.onnx", "0" * 64, with_overrides(ONNX_PREPROCESS, size=size)),
        mint=MintSpec(kind, taps, mint_config_defaults(kind), "mint.safetensors", "0" * 64),  # recorded in full
        calibration=Calibration(threshold=0.5, inconclusive=(0.4, 0.6), on=f"nothing ({RANDOM_PAIR_NOTE})"),
        provenance=Provenance(f"none ({RANDOM_PAIR_NOTE})", "2026-01-01T00:00:00Z", __version__,
                              notes=RANDOM_PAIR_NOTE))
    if mutate is not None:
        manifest = mutate(manifest)
    return write_bundle(Path(path), manifest, data, mint.state_dict(), verify=mutate is None)
