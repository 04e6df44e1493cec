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
from mint_tui.pairs.manifest import (AuditedSpec, Calibration, Manifest, MintSpec, PairInfo, Preprocess, Provenance,
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
            preprocess=Preprocess(size=tuple(spec.input_size)),
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

