"""Audits on Ray (``audit --ray``) against the plain audit: why the batches are cut per chunk, and cost.

    .venv/bin/python bench/ray_audit.py [--images assets/samples] [--cpus 2] [--batch-size 4]

Prints (1) how much the demo MLP pair's outputs move with the batch a face is scored in and with
torch's thread count (the reason an audit never scores a batch across two chunks of batch-size
images), then (2) the seconds to start a local Ray of ``--cpus`` CPUs, to audit the images on it
and without it (one process, ``--threads 1``), and whether every row is the same. Needs the extra
``mint-tui[ray]``. Figures depend on the machine and its load: say both when you quote one.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sensitivity(pair, images: list[str]) -> None:
    import torch

    from mint_tui.audit import run_audit
    from mint_tui.faces import to_tensor_batch
    from mint_tui.options import AuditOptions

    rows = [r for r in run_audit(images, pair, AuditOptions(device="cpu", keep_crops=True)) if r.crop is not None]
    pre = pair.manifest.audited.preprocess
    x = to_tensor_batch([r.crop for r in rows], pre.color, tuple(pre.mean), tuple(pre.std))
    saved = torch.get_num_threads()
    with torch.inference_mode():
        torch.set_num_threads(1)
        feats = pair._extractor(x)
        whole = pair.mint({t: feats[t] for t in pair.taps})
        for size in (1, 4):
            parts = torch.cat([pair.mint({t: feats[t][i:i + size] for t in pair.taps}) for i in range(0, len(x), size)])
            print(f"MINT logits, {len(x)} faces in batches of {size} vs one batch: max |difference| "
                  f"{(parts - whole).abs().max().item():.3g}")
        one = pair.score(x)
        torch.set_num_threads(2)
        two = pair.score(x)
    torch.set_num_threads(saved)
    rel = max(abs(a - b) / max(abs(a), 1e-30) for a, b in zip(one, two))
    print(f"scores with 1 vs 2 torch threads: max relative difference {rel:.3g}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", nargs="+", default=[str(ROOT / "assets" / "samples")])
    ap.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray (default 2)")
    ap.add_argument("--batch-size", type=int, default=4, help="images per chunk (default 4)")
    args = ap.parse_args()
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray

    from mint_tui.audit import run_audit
    from mint_tui.options import AuditOptions
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.paths import assets_dir
    from mint_tui.ray_audit import ray_rows

    bundle = assets_dir() / "pairs" / "demo-lfw-mlp.mintpair"
    pair = load_pair(bundle)
    sensitivity(pair, args.images)

    t = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    print(f"local Ray of {args.cpus} CPUs started in {time.perf_counter() - t:.1f} s")
    options = AuditOptions(device="cpu", batch_size=args.batch_size, threads=1, workers=1)
    t = time.perf_counter()
    on_ray = [asdict(r) for r in ray_rows(args.images, bundle, pair.bundle_sha256, options, "cpu")]
    ray_s = time.perf_counter() - t
    ray.shutdown()
    t = time.perf_counter()
    plain = [asdict(r) for r in run_audit(args.images, pair, options)]
    plain_s = time.perf_counter() - t
    print(f"{len(plain)} rows: on Ray {ray_s:.1f} s (workers started inside), in one process {plain_s:.1f} s; "
          f"every row the same: {on_ray == plain}")
    return 0 if on_ray == plain else 1


if __name__ == "__main__":
    raise SystemExit(main())
