"""Forward speed of an audited architecture on the CPU (eval, batch 64, float32, best of 5).

    .venv/bin/python bench/audited_forward.py [--arch mobilefacenet] [--config '{"width": 0.5}']
                                              [--threads 1] [--channels-last]

Prints images per second of the forward pass alone (no detection, no MINT model). Figures depend
on the machine and its load: say both when you quote one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="mobilefacenet")
    ap.add_argument("--config", default="{}", help="architecture options as JSON")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--channels-last", action="store_true", help="channels-last model and input")
    args = ap.parse_args()

    import torch

    from mint_tui.models.audited import build_audited

    torch.set_num_threads(args.threads)
    model = build_audited(args.arch, json.loads(args.config)).eval()
    x = torch.randn(args.batch, 3, 112, 112)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.to(memory_format=torch.channels_last)
    with torch.inference_mode():
        model(x)
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            model(x)
            best = min(best, time.perf_counter() - t0)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.arch} {args.config} threads={args.threads} channels_last={args.channels_last}: "
          f"{args.batch / best:.0f} img/s (load average {load:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
