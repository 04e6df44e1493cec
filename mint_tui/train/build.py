"""From an audited model and two image lists to a complete, installable ``.mintpair``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from mint_tui import __version__
from mint_tui.faces import PrepareSettings
from mint_tui.models.audited import ARCHITECTURES, ONNX, build_loaded, validate_config
from mint_tui.models.mint import mint_config_defaults
from mint_tui.models.taps import tap_shapes as compute_tap_shapes
from mint_tui.pairs.bundle import write_bundle
from mint_tui.pairs.loaded import load_pair
from mint_tui.pairs.manifest import (AuditedSpec, Calibration, Manifest, Metric, MintSpec, PairInfo, Preprocess,
                                     Provenance, member_data_of)
from mint_tui.train.activations import activation_source, choose_mode, state_digest
from mint_tui.train.data import Rows, TrainingDataError, identity_of, load_faces, split_provenance
from mint_tui.train.distributed import current_world, device_for, rank_zero_first
from mint_tui.train.evaluate import evaluate_pair
from mint_tui.train.fit import MintFitConfig, fit_mint, predict, split_three
from mint_tui.metrics import TPR_AT_FPR, best_threshold, binary_metrics, inconclusive_band, min_non_members


@dataclass
class PairRequest:
    name: str
    arch: str
    arch_config: dict
    #: The state dict of a registered architecture, or the ONNX file's bytes (arch "onnx").
    audited_state: dict[str, torch.Tensor] | bytes
    members: list[Path]
    external: list[Path]
    out: Path
    #: None: the architecture's own (the registry's) preprocessing.
    preprocess: Preprocess | None = None
    fit: MintFitConfig = field(default_factory=MintFitConfig)
    title: str = ""
    description: str = ""
    training_data: str = ""
    splits: dict[str, str] = field(default_factory=dict)  # name -> list file or folder (recorded relative)
    root: Path | None = None  # the folder relative image paths are under (with splits: the data set's root)
    license: str | None = None
    notes: str | None = None
    detector: str = "short"
    workers: int = 2
    activations: str = "auto"  # auto, cache or live: see train/activations.py
    eval_members: list[Path] | None = None
    eval_external: list[Path] | None = None
    eval_data: str = ""


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def manifest_metrics(values: dict, data: str, n: int) -> list[Metric]:
    """Manifest metrics (with their 95 % intervals) from :func:`binary_metrics`; a TPR at an FPR that
    the non-members cannot resolve is recorded as needing more of them, with no value."""
    out = []
    for name in ("accuracy", "balanced_accuracy", "roc_auc", *TPR_AT_FPR):
        value = values[name]
        if value is None:
            out.append(Metric(name, None, data, n, needs=min_non_members(TPR_AT_FPR[name])))
        elif np.isfinite(value):
            low, high = values["ci95"].get(name, (None, None))
            out.append(Metric(name, round(float(value), 6), data, n,
                              *(None if v is None else round(float(v), 6) for v in (low, high))))
    return out


def split_parts(n_members: int, external_paths: list[Path], cfg: MintFitConfig):
    """((train, validation, calibration) of the members, the same of the external faces): the split
    `train` makes, external faces kept together by identity (the folder holding each photo)."""
    return (split_three(n_members, None, cfg.val_fraction, cfg.cal_fraction, cfg.seed),
            split_three(len(external_paths), [identity_of(p) for p in external_paths], cfg.val_fraction,
                        cfg.cal_fraction, cfg.seed))


def _calibrate(model, views, cal_labels) -> tuple[np.ndarray, float, tuple[float, float], dict]:
    """Calibration scores (the mean over ``views``: (activations, rows) pairs that each give the
    calibration faces in one order), the threshold, the inconclusive band and the metrics at that threshold."""
    scores = np.mean([predict(model, acts, idx) for acts, idx in views], axis=0)
    return (scores, *calibrate_scores(scores, cal_labels))


def calibrate_scores(scores: np.ndarray, labels: np.ndarray) -> tuple[float, tuple[float, float], dict]:
    """The threshold, the inconclusive band and the metrics at that threshold of calibration ``scores``."""
    threshold = best_threshold(labels, scores)
    return threshold, inconclusive_band(labels, scores, threshold), binary_metrics(labels, scores, threshold)


def recorded_calibration(threshold: float, band: tuple[float, float], on: str) -> Calibration:
    """The calibration as a manifest records it."""
    return Calibration(round(threshold, 6), (round(band[0], 6), round(band[1], 6)), on)


def calibration_score_sets(scores: np.ndarray, labels: np.ndarray, rows: np.ndarray,
                           paths: list[Path]) -> dict[str, np.ndarray]:
    """Calibration scores by class with identity-group ids (numbered over all of ``paths``), as a
    bundle stores them for the identity-level test; ``rows`` index ``paths`` in the order of ``scores``."""
    ids = {name: i for i, name in enumerate(sorted({identity_of(p) for p in paths}))}
    group = np.array([ids[identity_of(paths[i])] for i in rows], dtype=np.int64)
    is_member = labels.astype(bool)
    return {"member": scores[is_member].astype(np.float32), "member_identity": group[is_member],
            "external": scores[~is_member].astype(np.float32), "external_identity": group[~is_member]}


def _evaluate(req: PairRequest, manifest: Manifest, audited_state: dict, mint_state: dict, calibration_scores):
    """Evaluate a pair before it is written: a temporary bundle beside the output, scored on the eval data."""
    tmp = req.out.with_name(f".{req.out.name}.eval.mintpair")
    write_bundle(tmp, manifest, audited_state, mint_state, calibration_scores=calibration_scores)
    try:
        return evaluate_pair(load_pair(tmp), req.eval_members, req.eval_external, req.detector, req.workers)
    finally:
        tmp.unlink(missing_ok=True)


#: Faces of each class that each part of the split (training, validation, calibration) needs.
MIN_PER_PART = 2


def check_training_faces(member_shas: list[str], external_shas: list[str]) -> None:
    """Refuse (ValueError) member and external faces that cannot make a pair: too few, or the same
    photos on both sides (a pair trained so could never tell them apart)."""
    if len(member_shas) < 4 or len(external_shas) < 4:
        raise TrainingDataError(f"too few faces to train a MINT model: {len(member_shas)} members and "
                         f"{len(external_shas)} external faces found (need at least 4 of each; more than 100 of "
                         "each for a useful pair)")
    both = set(member_shas) & set(external_shas)
    if both:
        raise TrainingDataError(f"{len(both)} photo(s) are both members and external (the same file content, sha256): a "
                         "pair cannot learn to tell a photo from itself. Give external images the audited model "
                         "never saw")


def check_split(parts: dict[str, tuple[np.ndarray, np.ndarray]], external_people: int) -> None:
    """Refuse (ValueError) a split in which training, validation or calibration lacks a class or
    has too few faces of one: calibration on one class gives a threshold that never says
    non-member, and an AUC of nan."""
    short = [f"{name} has {len(m)} member and {len(e)} external faces" for name, (m, e) in parts.items()
             if len(m) < MIN_PER_PART or len(e) < MIN_PER_PART]
    if not short:
        return
    hint = ("External images are split by person (the folder holding each photo), so that calibration sees "
            "people training did not: ")
    if external_people < 3:
        hint += (f"they come from {external_people} folder(s). Give them as one folder per person (e.g. "
                 "external/NAME/photo.jpg), or a list file whose lines are NAME/photo.jpg, with at least 3 people "
                 "(dozens for a useful pair).")
    else:
        hint += "give more people and more photos (dozens of each for a useful pair)."
    raise TrainingDataError(f"cannot train and calibrate a pair: {'; '.join(short)} (each needs at least {MIN_PER_PART} of "
                     f"each class). {hint} No bundle was written.")


def _quiet(message: str) -> None:
    pass


def build_pair(req: PairRequest, log: Callable[[str], None] = print) -> tuple[Path | None, dict]:
    """Train, calibrate and write the bundle (atomically); returns (path, report).

    Under torchrun with several processes (train/distributed.py) only rank 0 logs and writes the
    bundle; the other processes return (None, report)."""
    cfg = req.fit
    audited = build_loaded(req.arch, req.arch_config, req.audited_state)
    pre = req.preprocess or ARCHITECTURES[req.arch].preprocess
    pre_dict = pre.to_dict()
    settings = PrepareSettings("largest", req.detector, tuple(pre.size), pre.template)

    world = current_world(cfg.device)
    if not world.main:
        log = _quiet
    log(f"faces: {len(req.members)} member and {len(req.external)} external images"
        + (f" ({world.size} processes)" if world.size > 1 else ""))
    with rank_zero_first(world):  # rank 0 fills the crop cache, the others read it
        mem = load_faces(req.members, settings, req.workers)
        ext = load_faces(req.external, settings, req.workers)
    log(f"faces found: members {len(mem)} (no face {len(mem.no_face)}, errors {len(mem.errors)}), "
        f"external {len(ext)} (no face {len(ext.no_face)}, errors {len(ext.errors)})")
    check_training_faces(mem.shas, ext.shas)
    (m_tr, m_va, m_ca), (e_tr, e_va, e_ca) = split_parts(len(mem), ext.paths, cfg)
    check_split({"training": (m_tr, e_tr), "validation": (m_va, e_va), "calibration": (m_ca, e_ca)},
                len({identity_of(p) for p in ext.paths}))
    off = len(mem)
    train_idx, val_idx, cal_idx = (np.r_[a, b + off] for a, b in ((m_tr, e_tr), (m_va, e_va), (m_ca, e_ca)))
    log(f"split: train {len(train_idx)}, validation {len(val_idx)}, calibration {len(cal_idx)} "
        f"(external split by identity)")

    crops = Rows(mem.crops, ext.crops)
    shas = mem.shas + ext.shas
    labels = np.r_[np.ones(len(mem)), np.zeros(len(ext))].astype(np.float32)
    shapes = compute_tap_shapes(audited, list(cfg.taps), tuple(pre.size))
    mode, why = choose_mode(cfg.kind, cfg.device, req.activations)
    log(f"activations of taps {', '.join(cfg.taps)} for {len(crops)} faces: {why}")
    device = device_for(world, cfg.device)
    audited.to(device)
    with rank_zero_first(world):
        acts = activation_source(mode, audited, state_digest(req.audited_state), crops, shas, list(cfg.taps),
                                 pre_dict, device, label=req.arch)

    cal_sorted = np.sort(cal_idx)
    views = [(acts, cal_sorted)]
    if cfg.mirror:  # the calibration faces mirrored left-right, as LoadedPair scores a mirror pair
        log("calibration: each face scored as the mean over its crop and its mirror image")
        with rank_zero_first(world):
            views.append((activation_source(mode, audited, state_digest(req.audited_state),
                                            np.ascontiguousarray(crops[cal_sorted][:, :, ::-1]),
                                            [f"{shas[i]}:mirror" for i in cal_sorted], list(cfg.taps), pre_dict,
                                            device, label=req.arch), np.arange(len(cal_sorted))))

    model, history = fit_mint(acts, shapes, labels, train_idx, val_idx, cfg, log)
    cal_labels = labels[cal_sorted]
    cal_scores, threshold, (low, high), cal_metrics = _calibrate(model, views, cal_labels)
    log(f"calibration: threshold {threshold:.4f}, inconclusive [{low:.4f}, {high:.4f}), "
        f"accuracy {cal_metrics['accuracy']:.4f}, AUC {cal_metrics['roc_auc']:.4f}")

    splits = split_provenance(req.splits, req.root) if req.splits else {}
    eval_data = req.eval_data or (f"{splits['eval_members']} vs {splits['eval_external']}"
                                  if "eval_members" in splits else "evaluation data")
    cal_desc = (f"calibration part of the MINT training data ({int(cal_labels.sum())} members, "
                f"{int((1 - cal_labels).sum())} external; external split by identity)")
    cal_data = "calibration split of the MINT training data"
    # Record the complete configurations, so that the bundle never depends on library defaults.
    mint_config = {**mint_config_defaults(cfg.kind), **cfg.mint_config}
    arch_config = dict(req.arch_config) if req.arch == ONNX else validate_config(req.arch, req.arch_config)
    mint_spec = MintSpec(cfg.kind, tuple(cfg.taps), mint_config, "mint.safetensors", "0" * 64, cfg.mirror)
    manifest = Manifest(
        pair=PairInfo(req.name, req.title or req.name, req.description),
        audited=AuditedSpec(req.arch, arch_config, "audited.onnx" if req.arch == ONNX else "audited.safetensors",
                            "0" * 64, pre),
        mint=mint_spec,
        calibration=recorded_calibration(threshold, (low, high), cal_desc),
        provenance=Provenance(req.training_data or f"{len(mem)} member and {len(ext)} external images",
                              _now(), __version__, req.notes, splits, req.license),
        metrics=tuple(manifest_metrics(cal_metrics, cal_data, len(cal_idx))),
        member_data=member_data_of(mint_spec),
    )
    calibration_scores = calibration_score_sets(cal_scores, cal_labels, cal_sorted, mem.paths + ext.paths)
    audited_state = (req.audited_state if isinstance(req.audited_state, bytes)
                     else {k: v.contiguous() for k, v in req.audited_state.items()})
    mint_state = {k: v.contiguous() for k, v in model.state_dict().items()}
    report = {"history": history, "calibration": {"threshold": threshold, "inconclusive": [low, high],
                                                  **cal_metrics},
              "faces": {"members": len(mem), "external": len(ext), "no_face": len(mem.no_face) + len(ext.no_face)}}
    if not world.main:
        return None, report  # the bundle is written once, by rank 0
    evaluate = req.eval_members and req.eval_external
    if evaluate:
        ev = _evaluate(req, manifest, audited_state, mint_state, calibration_scores)
        n = ev.counts["members_scored"] + ev.counts["external_scored"]
        test_metrics = manifest_metrics(ev.metrics["mint"], eval_data, n)
        manifest = dataclasses.replace(manifest, metrics=(*test_metrics, *manifest.metrics))
        report["evaluation"] = {"metrics": ev.metrics, "counts": ev.counts}
        log(f"evaluation: accuracy {ev.metrics['mint']['accuracy']:.4f}, AUC {ev.metrics['mint']['roc_auc']:.4f}")
    if manifest.member_data.stored:
        # The card names the bank with what it buys: the same MINT model, data and seed without it.
        log(f"member bank: {manifest.member_data.count} member embeddings are stored in the bundle; training the "
            "same MINT model without them for comparison")
        plain_cfg = dataclasses.replace(cfg, mint_config={**cfg.mint_config, "prototypes": 0})
        plain, _ = fit_mint(acts, shapes, labels, train_idx, val_idx, plain_cfg, log)
        _, p_thr, p_band, p_metrics = _calibrate(plain, views, cal_labels)
        same = "; the same MINT model, data and seed without the bank"
        without = manifest_metrics(p_metrics, cal_data + same, len(cal_idx))
        report["without_member_bank"] = {"calibration": p_metrics}
        if evaluate:
            plain_spec = dataclasses.replace(mint_spec, config={**mint_config, "prototypes": 0})
            plain_manifest = dataclasses.replace(
                manifest, mint=plain_spec, member_data=member_data_of(plain_spec),
                calibration=recorded_calibration(p_thr, p_band, cal_desc))
            plain_state = {k: v.contiguous() for k, v in plain.state_dict().items()}
            p_ev = _evaluate(req, plain_manifest, audited_state, plain_state, None)
            n = p_ev.counts["members_scored"] + p_ev.counts["external_scored"]
            without = [*manifest_metrics(p_ev.metrics["mint"], eval_data + same, n), *without]
            report["without_member_bank"]["evaluation"] = {"metrics": p_ev.metrics, "counts": p_ev.counts}
        manifest = dataclasses.replace(manifest,
                                       member_data=dataclasses.replace(manifest.member_data, without=tuple(without)))
    path = write_bundle(req.out, manifest, audited_state, mint_state, calibration_scores=calibration_scores)
    log(f"wrote {path}")
    return path, report

