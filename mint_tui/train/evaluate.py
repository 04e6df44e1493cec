"""Evaluating a pair on labelled images (members vs external), baselines, ROC/histogram plots."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mint_tui.faces import PrepareSettings, to_tensor_batch
from mint_tui.train.data import FaceSet, TrainingDataError, identity_of, load_faces
from mint_tui.metrics import best_threshold, binary_metrics, roc_curve


def prepare_settings(pair, detector: str = "short") -> PrepareSettings:
    pre = pair.manifest.audited.preprocess
    return PrepareSettings("largest", detector, tuple(pre.size), pre.template)


def score_faces(pair, faces: FaceSet, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(membership probabilities, embeddings) of every crop in a FaceSet."""
    pre = pair.manifest.audited.preprocess
    probs, embs = [], []
    for i in range(0, len(faces), batch_size):
        x = to_tensor_batch(list(faces.crops[i:i + batch_size]), pre.color, tuple(pre.mean), tuple(pre.std))
        p, e = pair.score_with_embeddings(x)
        probs.append(p)
        embs.append(e)
    if not probs:
        return np.zeros(0), np.zeros((0, 0))
    return np.concatenate(probs), np.concatenate(embs)


def identity_centres(embeddings: np.ndarray, paths: list[Path]) -> np.ndarray:
    """Unit-norm mean embedding per identity (folder name)."""
    ids = [identity_of(p) for p in paths]
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True).clip(1e-12)
    centres = [unit[[i for i, x in enumerate(ids) if x == name]].mean(0) for name in sorted(set(ids))]
    c = np.stack(centres)
    return c / np.linalg.norm(c, axis=1, keepdims=True).clip(1e-12)


@dataclass
class Evaluation:
    metrics: dict
    labels: np.ndarray
    scores: np.ndarray
    baselines: dict[str, np.ndarray]  # name -> baseline scores (same order as labels)
    counts: dict


def evaluate_pair(pair, members: list[Path], external: list[Path], detector: str = "short", workers: int = 2,
                  reference_members: list[Path] | None = None, progress=None) -> Evaluation:
    """MINT metrics at the pair's threshold plus training-free baselines on the same faces.

    Baselines: ``embedding_norm`` (the L2 norm of the audited model's raw embedding), and, when
    ``reference_members`` (known training images, e.g. the MINT training members) are given,
    ``max_cosine_to_member_centres`` (best cosine similarity to the mean embedding of each
    reference identity). Their accuracy is at the threshold that is best on this very data,
    so it is optimistic.
    """
    settings = prepare_settings(pair, detector)
    mem = load_faces(members, settings, workers, progress)
    ext = load_faces(external, settings, workers, progress)
    for what, faces, given in (("member", mem, members), ("external", ext, external)):
        if not len(faces):  # metrics need faces of both classes
            raise TrainingDataError(f"no face was found in the {len(given)} {what} image(s) ({len(faces.no_face)} without a "
                             f"face, {len(faces.errors)} unreadable"
                             + (f", e.g. {faces.errors[0][0]}: {faces.errors[0][1]}" if faces.errors else "")
                             + "): nothing to evaluate")
    p_mem, e_mem = score_faces(pair, mem)
    p_ext, e_ext = score_faces(pair, ext)
    labels = np.r_[np.ones(len(p_mem)), np.zeros(len(p_ext))]
    scores = np.r_[p_mem, p_ext]
    emb = np.concatenate([e_mem, e_ext]) if len(scores) else np.zeros((0, 1))
    cal = pair.manifest.calibration
    metrics = {"mint": binary_metrics(labels, scores, cal.threshold)}
    low, high = cal.inconclusive
    inconclusive = (scores >= low) & (scores < high) if high > low else np.zeros(len(scores), bool)
    decided = ~inconclusive
    metrics["mint"]["inconclusive_rate"] = float(inconclusive.mean()) if len(scores) else float("nan")
    metrics["mint"]["accuracy_when_decided"] = (
        float(((scores[decided] >= cal.threshold) == labels[decided].astype(bool)).mean()) if decided.any() else float("nan"))
    baselines = {"embedding_norm": np.linalg.norm(emb, axis=1)}
    if reference_members:
        ref = load_faces(reference_members, settings, workers, progress)
        if not len(ref):
            raise TrainingDataError(f"no face was found in the {len(reference_members)} --reference-members image(s): the "
                             "member-centres baseline needs faces of known training images")
        _, e_ref = score_faces(pair, ref)
        centres = identity_centres(e_ref, ref.paths)
        unit = emb / np.linalg.norm(emb, axis=1, keepdims=True).clip(1e-12)
        baselines["max_cosine_to_member_centres"] = (unit @ centres.T).max(axis=1)
    for name, b in baselines.items():
        m = binary_metrics(labels, b, best_threshold(labels, b))
        m["note"] = "accuracy at the best threshold on this data (optimistic)"
        metrics[f"baseline:{name}"] = m
    counts = {"members": len(members), "external": len(external), "members_scored": len(mem),
              "external_scored": len(ext), "no_face": len(mem.no_face) + len(ext.no_face),
              "errors": len(mem.errors) + len(ext.errors)}
    return Evaluation(metrics, labels, scores, baselines, counts)


def plot_evaluation(ev: Evaluation, path: Path, title: str = "") -> Path:
    """ROC (linear and log FPR) and score histograms as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    curves = {"MINT": ev.scores, **{f"baseline: {k}": v for k, v in ev.baselines.items()}}
    for name, s in curves.items():
        fpr, tpr, _ = roc_curve(ev.labels, s)
        axes[0].plot(fpr, tpr, label=name)
        axes[1].plot(np.clip(fpr, 1e-4, 1), tpr, label=name)
    axes[0].plot([0, 1], [0, 1], "k:", lw=0.8)
    axes[0].set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    axes[1].set(xscale="log", xlim=(1e-3, 1), xlabel="false positive rate (log)", ylabel="true positive rate",
                title="ROC, log FPR")
    axes[0].legend(loc="lower right", fontsize=8)
    bins = np.linspace(0, 1, 41)
    axes[2].hist(ev.scores[ev.labels == 1], bins=bins, alpha=0.6, label="members")
    axes[2].hist(ev.scores[ev.labels == 0], bins=bins, alpha=0.6, label="external")
    axes[2].set(xlabel="MINT score (probability of membership)", ylabel="images", title="score histogram")
    axes[2].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
