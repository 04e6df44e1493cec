"""One audit with N pairs against N separate audits of the same images, in one run.

    .venv/bin/python bench/many_pairs.py [--lfw ../shared/data/lfw] [--images 64] [--rounds 3]
        [--device cpu] [--threads N]

An audit with several pairs reads, decodes, detects and aligns each image once per distinct
preprocessing and runs each pair's models on the shared crops; N separate audits do all of it N
times. For N = 2 (the two demo pairs) and N = 4 (the demo pairs and two pairs of the same
architecture with RANDOM weights: as fast as trained ones, never shipped) it times, on the same
``--images`` LFW photos (the first of ``mint_test_external.txt``), one ``run_audit`` with the N
pairs and the N ``run_audit`` calls one pair each, in alternating order, ``--rounds`` times, and
prints the median seconds of each and their ratio (separate / together). It checks that both
give the same scores. The machine's load average is printed: other jobs slow both, the ratio is the
figure to read.
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

    def audit(pairs) -> tuple[float, dict]:
        t = time.perf_counter()
        scores = {(r.path, r.face, r.pair): r.score for r in run_audit(images, pairs, options)}
        return time.perf_counter() - t, scores

    list(run_audit(images[:4], demo, options))  # warm up: detector, threads
    for n, pairs in ((2, demo), (4, demo + extra)):
        together_s, separate_s = [], []
        for r in range(args.rounds):
            order = ("together", "separate") if r % 2 == 0 else ("separate", "together")
            for how in order:
                if how == "together":
                    seconds, joint = audit(pairs)
                    together_s.append(seconds)
                else:
                    seconds, alone = 0.0, {}
                    for pair in pairs:
                        s, one = audit([pair])
                        seconds += s
                        alone.update(one)
                    separate_s.append(seconds)
            assert joint.keys() == alone.keys() and all(abs(joint[k] - alone[k]) < 1e-5 for k in joint if joint[k] is not None)
        t, s = statistics.median(together_s), statistics.median(separate_s)
        print(f"{n} pairs: one audit {t:6.1f} s ({len(images) / t:5.2f} images/s), {n} separate audits {s:6.1f} s "
              f"({len(images) / s:5.2f} images/s); separate / together {s / t:.2f}  "
              f"(rounds {args.rounds}, load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
