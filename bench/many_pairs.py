"""One audit with N pairs against N separate audits of the same images, in one run.

    .venv/bin/python bench/many_pairs.py [--lfw ../shared/data/lfw] [--images 64] [--rounds 3]
        [--device cpu] [--threads N]

An audit with several pairs reads, decodes, detects and aligns each image once per distinct
preprocessing and runs each pair's models on the shared crops; N separate audits do all of it N
times. For N = 2 (the two demo pairs) and N = 4 (the demo pairs and two pairs of the same
architecture with RANDOM weights: as fast as trained ones, never shipped) it times, on the same
``--images`` LFW photos (the first of ``mint_test_external.txt``), one ``run_audit`` with the N
pairs and the N ``run_audit`` calls one pair each, in alternating order, ``--rounds`` times, and
prints the median wall seconds and CPU seconds (this process, every thread) of each and their
ratios (separate / together). It checks that both give the same scores. The machine's load
average is printed: other jobs slow both and make the wall-clock ratio noisy; the CPU-time ratio
is what the work itself costs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # random_pair: test scaffolding


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lfw", default=str(ROOT.parent / "shared" / "data" / "lfw"))
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    import torch

    from mint_tui.audit import run_audit
    from mint_tui.options import AuditOptions
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.paths import builtin_pairs_dir
    from random_pair import make_random_pair

    lfw = Path(args.lfw)
    lines = [ln for ln in (lfw / "splits" / "mint_test_external.txt").read_text().splitlines() if ln.strip()]
    images = [lfw / "images" / p for p in lines[: args.images]]
    demo = [load_pair(builtin_pairs_dir() / f"demo-lfw-{k}.mintpair", device=args.device) for k in ("cnn", "mlp")]
    with tempfile.TemporaryDirectory() as tmp:
        audited = demo[0].manifest.audited
        extra = [load_pair(make_random_pair(Path(tmp) / f"random-{i}.mintpair", name=f"random-{i}", seed=i,
                                            arch=audited.arch, audited_config=dict(audited.config),
                                            kind=kind, taps=("layer1", "layer2", "layer3", "layer4", "embedding")),
                           device=args.device)
                 for i, kind in enumerate(("cnn", "mlp"))]
    options = AuditOptions(device=args.device, **({"threads": args.threads} if args.threads else {}))
    print(f"images {len(images)}  device {args.device}  torch threads {args.threads or torch.get_num_threads()}  "
          f"cores {os.cpu_count()}  load average {os.getloadavg()[0]:.1f}")

    def audit(pairs) -> tuple[float, float, dict]:
        t, c = time.perf_counter(), time.process_time()
        scores = {(r.path, r.face, r.pair): r.score for r in run_audit(images, pairs, options)}
        return time.perf_counter() - t, time.process_time() - c, scores

    list(run_audit(images[:4], demo, options))  # warm up: detector, threads
    for n, pairs in ((2, demo), (4, demo + extra)):
        wall: dict[str, list[float]] = {"together": [], "separate": []}
        cpu: dict[str, list[float]] = {"together": [], "separate": []}
        for r in range(args.rounds):
            for how in (("together", "separate") if r % 2 == 0 else ("separate", "together")):
                if how == "together":
                    w, c, joint = audit(pairs)
                else:
                    w = c = 0.0
                    alone: dict = {}
                    for pair in pairs:
                        w1, c1, one = audit([pair])
                        w, c = w + w1, c + c1
                        alone.update(one)
                wall[how].append(w)
                cpu[how].append(c)
            assert joint.keys() == alone.keys()
            assert all(abs(joint[k] - alone[k]) < 1e-5 for k in joint if joint[k] is not None)
        tw, sw = statistics.median(wall["together"]), statistics.median(wall["separate"])
        tc, sc = statistics.median(cpu["together"]), statistics.median(cpu["separate"])
        print(f"{n} pairs: one audit {tw:6.1f} s wall, {tc:6.1f} s CPU; {n} separate audits {sw:6.1f} s wall, "
              f"{sc:6.1f} s CPU; separate / together: wall {sw / tw:.2f}, CPU {sc / tc:.2f}  "
              f"(rounds {args.rounds}, load average {os.getloadavg()[0]:.1f})")

if __name__ == "__main__":
    main()
