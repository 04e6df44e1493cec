"""The experiments behind the bank-free MINT defaults (docs/RESULTS.md, "What was tried"), on the demo protocol.

    python scripts/bankfree_probes.py pooled  --pair PAIR [--lfw ../shared/data/lfw]
    python scripts/bankfree_probes.py fit     --pair PAIR '{"kind": "cnn", "mint": {"dropout": 0.7}}' ...

The audited model is the one in PAIR (a demo pair). Data: mint_train_members vs mint_train_external only,
split as `mint-tui train` splits it (train / validation / calibration, external split by identity, seed 0);
every figure printed is a validation or calibration ROC AUC; the test splits are never read.

`pooled`: per-face summaries of the cached activations (the embedding, its norm, each map tap's norm and
channel mean/std/max) and a small classifier per feature set (logistic regression or an MLP, AdamW,
early stopping on the validation part). `fit`: the library's `fit_mint`, exactly as `train` runs it, for
each JSON spec (kind, optional mint config and MintFitConfig fields). Crops and activations come from the
user cache (one cache for all runs). Run with OMP_NUM_THREADS=1 on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mint_tui.metrics import roc_auc  # noqa: E402

TAPS = ["layer1", "layer2", "layer3", "layer4", "embedding"]
MAPS = TAPS[:4]
NAMES = {"norm": "embedding log-norm", "embn": "L2-normalised embedding", "embraw": "raw embedding",
         "mapnorm": "log-norm of each map tap", "all.mean": "channel means of each map",
         "all.std": "channel spatial std of each map", "all.max": "channel max of each map"}
POOLED_SPECS = ["norm", "embn", "embn,norm", "embraw", "embn,norm,mapnorm", "embn,norm,all.mean",
                "embn,norm,all.mean,all.std,all.max,mapnorm", "norm,mapnorm,all.std", "norm,mapnorm",
                "embn,norm,mapnorm,all.std", "embn,norm,mapnorm,all.mean"]
POOLED_MODELS = [([], 0.0, 0.01), ([1024], 0.5, 0.01), ([], 0.0, 0.1), ([], 0.0, 0.001), ([64], 0.5, 0.01),
                 ([256], 0.7, 0.05)]


def training_data(pair_path: Path, lfw: Path):
    """(members, external, activations, tap shapes) of mint_train_*, through the caches `train` uses."""
    from mint_tui.faces import PrepareSettings
    from mint_tui.models.taps import tap_shapes
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.train.activations import extract_activations, state_digest
    from mint_tui.train.data import load_faces, read_image_list

    pair = load_pair(pair_path)
    audited = pair.audited.eval()
    pre = pair.manifest.audited.preprocess
    pre_dict = {"color": pre.color, "mean": list(pre.mean), "std": list(pre.std), "size": list(pre.size),
                "template": pre.template}
    settings = PrepareSettings("largest", "short", tuple(pre.size), pre.template)
    splits, images = lfw / "splits", lfw / "images"
    mem = load_faces(read_image_list(splits / "mint_train_members.txt", images), settings, 2)
    ext = load_faces(read_image_list(splits / "mint_train_external.txt", images), settings, 2)
    digest = state_digest({k: v.contiguous() for k, v in audited.state_dict().items()})
    acts = extract_activations(audited, digest, np.concatenate([mem.crops, ext.crops]), mem.shas + ext.shas, TAPS,
                               pre_dict)
    return mem, ext, acts, tap_shapes(audited, TAPS, tuple(pre.size))


def parts(mem, ext, seed: int = 0):
    from mint_tui.train.data import identity_of
    from mint_tui.train.fit import split_three

    m = split_three(len(mem), None, 0.15, 0.2, seed)
    e = split_three(len(ext), [identity_of(p) for p in ext.paths], 0.15, 0.2, seed)
    return tuple(np.r_[a, b + len(mem)] for a, b in zip(m, e))


def pooled_features(acts) -> dict[str, np.ndarray]:
    feats: dict[str, list] = {}
    for t in TAPS:
        a = acts[t]
        for i in range(0, len(a), 256):
            x = torch.from_numpy(np.asarray(a[i:i + 256], dtype=np.float32))
            if x.dim() == 2:
                feats.setdefault(f"{t}.mean", []).append(x)
                feats.setdefault(f"{t}.norm", []).append(x.norm(dim=1, keepdim=True))
                continue
            f = x.flatten(2)
            for key, v in (("mean", f.mean(2)), ("std", f.std(2)), ("max", f.amax(2)),
                           ("norm", f.flatten(1).norm(dim=1, keepdim=True))):
                feats.setdefault(f"{t}.{key}", []).append(v)
    return {k: torch.cat(v).numpy() for k, v in feats.items()}


def feature_matrix(d: dict[str, np.ndarray], spec: str) -> np.ndarray:
    keys = spec.split(",")
    emb = d["embedding.mean"]
    n = np.linalg.norm(emb, axis=1, keepdims=True)
    cols = []
    if "embn" in keys:
        cols.append(emb / n)
    if "embraw" in keys:
        cols.append(emb)
    if "norm" in keys:
        cols.append(np.log(n))
    for t in MAPS:
        cols += [d[f"{t}.{s}"] for s in ("mean", "std", "max") if f"all.{s}" in keys]
        if "mapnorm" in keys:
            cols.append(np.log(d[f"{t}.norm"]))
    return np.concatenate(cols, 1).astype(np.float32)


def probe(X, y, tr, va, ca, hidden, dropout, wd, seed=0, epochs=300, patience=20):
    torch.manual_seed(seed)
    mu, sd = X[tr].mean(0), X[tr].std(0) + 1e-6
    xs, yt = torch.from_numpy((X - mu) / sd), torch.from_numpy(y).float()
    layers, width = [], X.shape[1]
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
        width = h
    model = nn.Sequential(*layers, nn.Linear(width, 1))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=wd)
    rng = np.random.default_rng(seed)
    best, best_loss, stale = None, float("inf"), 0
    for _ in range(epochs):
        model.train()
        order = rng.permutation(tr)
        for i in range(0, len(order), 64):
            b = order[i:i + 64]
            loss = F.binary_cross_entropy_with_logits(model(xs[b]).squeeze(1), yt[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val = float(F.binary_cross_entropy_with_logits(model(xs[va]).squeeze(1), yt[va]))
        if val < best_loss - 1e-4:
            best, best_loss, stale = {k: v.clone() for k, v in model.state_dict().items()}, val, 0
        else:
            stale += 1
            if stale >= patience:
                break
    model.load_state_dict(best)
    model.eval()
    with torch.no_grad():
        s = model(xs).squeeze(1).numpy()
    return roc_auc(y[va], s[va]), roc_auc(y[ca], s[ca])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("pooled", "fit"))
    ap.add_argument("specs", nargs="*", help="fit: JSON specs")
    ap.add_argument("--pair", type=Path, required=True, help="the demo pair whose audited model is probed")
    ap.add_argument("--lfw", type=Path, default=ROOT.parent / "shared" / "data" / "lfw")
    args = ap.parse_args()
    mem, ext, acts, shapes = training_data(args.pair, args.lfw)
    y = np.r_[np.ones(len(mem)), np.zeros(len(ext))].astype(np.float32)
    tr, va, ca = parts(mem, ext)
    if args.what == "pooled":
        d = pooled_features(acts)
        for spec in POOLED_SPECS:
            X = feature_matrix(d, spec)
            for hidden, dropout, wd in POOLED_MODELS:
                v, c = probe(X, y, tr, va, ca, hidden, dropout, wd)
                model = "logistic regression" if not hidden else f"MLP {hidden}, dropout {dropout}"
                print(json.dumps({"features": " + ".join(NAMES[k] for k in spec.split(",")), "dim": X.shape[1],
                                  "model": f"{model}, AdamW weight decay {wd}", "val_auc": round(v, 4),
                                  "cal_auc": round(c, 4)}), flush=True)
        return 0
    from mint_tui.train.fit import MintFitConfig, fit_mint, predict

    for raw in args.specs:
        spec = json.loads(raw)
        cfg = MintFitConfig(kind=spec.pop("kind"), mint_config=spec.pop("mint", {}), **spec)
        t0 = time.perf_counter()
        model, history = fit_mint(acts, shapes, y, tr, va, cfg, log=lambda m: None)
        sv, sc = predict(model, acts, va), predict(model, acts, ca)
        print(json.dumps({"kind": cfg.kind, "mint": cfg.mint_config, "epochs": len(history),
                          "val_auc": round(roc_auc(y[np.sort(va)], sv), 4),
                          "cal_auc": round(roc_auc(y[np.sort(ca)], sc), 4),
                          "seconds": round(time.perf_counter() - t0)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
