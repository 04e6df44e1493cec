"""Does the cost of building a pair grow linearly with the number of faces? (CPU, demo audited model)

    .venv/bin/python bench/scale_bench.py [--sizes 1000,2000,4000] [--kind cnn] [--epochs 3]
                                          [--activations auto] [--compare-live 1000] [--lfw ../shared/data/lfw]

For each size N it builds a pair from N LFW faces (N/2 members from the demo audited model's training
photos ``fr_train``, N/2 external photos from ``external``), in a fresh process with an empty cache
folder, with the bundled demo pair's audited model and a fixed number of epochs (no early stop).
It prints, per size: seconds per face of the whole build and of each stage (faces: read, detect,
align; activations: the audited model's forward pass into the cache; training; the rest:
calibration and writing the bundle), cache bytes per face (everything the run left in the cache
folder), peak RSS (``ru_maxrss``, which counts the memory-mapped cache pages the process touched)
and peak anonymous RSS (``RssAnon`` sampled every 50 ms: the process's own memory, without file
pages the kernel can drop). Linear: seconds and bytes per face stay the same from size to size;
flat: the anonymous peak does not grow with N.

``--compare-live N`` also trains at size N with ``--activations live`` (the audited model runs
every epoch), to compare with the cached maps: the measurement behind the CPU default.

``--synthetic`` (what ``bench/gpu.sh`` runs): no detection; N crops made from the aligned faces of
200 LFW photos (each copy marked so that every crop is distinct), an audited model of ``--arch``
with random weights (the speed of trained ones), on ``--device``; it times the activation step
and the training (the library's own ``activation_source`` and ``fit_mint``) and reports the
peak GPU memory too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _anon_kib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


class AnonPeak:
    """The highest anonymous RSS seen, sampled every 50 ms by a thread until :meth:`stop`."""

    def __init__(self) -> None:
        self.kib = 0
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.kib = max(self.kib, _anon_kib())

    def stop(self) -> float:
        """Stop sampling; the peak in MiB."""
        self._stop.set()
        return max(self.kib, _anon_kib()) / 1024


def _folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def run_one(args) -> dict:
    """One build in this process (MINT_TUI_HOME is a fresh folder); prints one JSON line."""
    import torch

    from mint_tui.pairs.loaded import load_pair
    from mint_tui.paths import builtin_pairs_dir
    from mint_tui.train.build import PairRequest, build_pair
    from mint_tui.train.data import read_image_list
    from mint_tui.train.fit import MintFitConfig

    peak = AnonPeak()
    images = args.lfw / "images"
    half = args.one // 2
    members = read_image_list(args.lfw / "splits" / "fr_train.txt", images)[:half]
    external = read_image_list(args.lfw / "splits" / "external.txt", images)[:args.one - half]
    source = load_pair(builtin_pairs_dir() / "demo-lfw-cnn.mintpair")
    state = {k: v.detach().clone() for k, v in source.audited.state_dict().items()}
    marks = []

    def log(msg: str) -> None:
        marks.append((time.perf_counter(), msg))

    out = Path(os.environ["MINT_TUI_HOME"]) / "bench.mintpair"
    req = PairRequest(name="bench", arch=source.manifest.audited.arch, arch_config=dict(source.manifest.audited.config),
                      audited_state=state, members=members, external=external, out=out,
                      preprocess=source.manifest.audited.preprocess, activations=args.activations,
                      fit=MintFitConfig(kind=args.kind, epochs=args.epochs, patience=args.epochs + 1, seed=0))
    t0 = time.perf_counter()
    _, report = build_pair(req, log=log)
    total = time.perf_counter() - t0
    anon_mib = peak.stop()

    def at(prefix: str) -> float:
        return next(t for t, m in marks if m.startswith(prefix)) - t0

    faces = report["faces"]["members"] + report["faces"]["external"]
    stages = {"faces": at("faces found"), "activations": at("split:") - at("faces found"),
              "training": at("calibration:") - at("split:"), "rest": total - at("calibration:")}
    cache = Path(os.environ["MINT_TUI_HOME"]) / "cache"
    return {"size": args.one, "faces": faces, "seconds": total, "stages": stages,
            "mode": next(m for _, m in marks if m.startswith("activations of")).split(": ", 1)[1].split(" (")[0],
            "cache_bytes": _folder_bytes(cache), "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_anon_mib": anon_mib, "threads": torch.get_num_threads(),
            "epochs": len(report["history"])}


def run_synthetic(args) -> dict:
    """Activations + training of N synthetic faces with a random-weights audited model (no detection)."""
    import numpy as np
    import torch

    from mint_tui.faces import PrepareSettings
    from mint_tui.models.audited import build_audited
    from mint_tui.models.taps import tap_shapes
    from mint_tui.train.activations import activation_source, choose_mode, state_digest
    from mint_tui.train.data import load_faces, read_image_list
    from mint_tui.train.fit import MintFitConfig, fit_mint

    peak = AnonPeak()
    home = Path(os.environ["MINT_TUI_HOME"])
    base = load_faces(read_image_list(args.lfw / "splits" / "external.txt", args.lfw / "images")[:200],
                      PrepareSettings()).crops
    n = args.one
    crops = np.lib.format.open_memmap(home / "crops.npy", mode="w+", dtype=np.uint8, shape=(n, *base.shape[1:]))
    for i in range(0, n, len(base)):
        crops[i:i + len(base)] = base[: n - i]
        crops[i:i + len(base), 0, 0, 0] = np.arange(i, min(i + len(base), n)) % 256  # every crop distinct
    crops.flush()
    shas = [f"synthetic-{n}-{i}" for i in range(n)]
    torch.manual_seed(0)
    model = build_audited(args.arch, {}).eval()
    taps = ["layer1", "layer2", "layer3", "layer4", "embedding"]
    shapes = tap_shapes(model, taps)
    mode, why = choose_mode(args.kind, args.device, args.activations)
    pre = {"color": "RGB", "mean": [0.5] * 3, "std": [0.5] * 3, "size": [112, 112], "template": "arcface112"}
    model.to(args.device)
    cuda = args.device.startswith("cuda")
    t0 = time.perf_counter()
    acts = activation_source(mode, model, state_digest(model.state_dict()), crops, shas, taps, pre, args.device,
                             label=args.arch)
    if cuda:
        torch.cuda.synchronize()
    t1 = time.perf_counter()
    labels = (np.arange(n) % 2).astype(np.float32)
    order = np.random.default_rng(0).permutation(n)
    train, val = np.sort(order[: int(0.85 * n)]), np.sort(order[int(0.85 * n):])
    fit_mint(acts, shapes, labels, train, val, MintFitConfig(kind=args.kind, taps=tuple(taps), epochs=args.epochs,
                                                               patience=args.epochs + 1, device=args.device),
             log=lambda m: None)
    if cuda:
        torch.cuda.synchronize()
    t2 = time.perf_counter()
    anon_mib = peak.stop()
    cache = _folder_bytes(home / "cache" / "activations")
    return {"size": n, "faces": n, "seconds": t2 - t0, "mode": why.split(" (")[0], "epochs": args.epochs,
            "stages": {"faces": 0.0, "activations": t1 - t0, "training": t2 - t1, "rest": 0.0},
            "cache_bytes": cache, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_anon_mib": anon_mib, "threads": torch.get_num_threads(),
            "gpu_peak_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lfw", type=Path, default=ROOT.parent / "shared" / "data" / "lfw")
    ap.add_argument("--sizes", default="1000,2000,4000")
    ap.add_argument("--kind", choices=("cnn", "mlp"), default="cnn")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--activations", choices=("auto", "cache", "live"), default="auto")
    ap.add_argument("--compare-live", type=int, default=0, metavar="N",
                    help="also train at size N with --activations live")
    ap.add_argument("--synthetic", action="store_true",
                    help="no detection: N distinct crops, random-weights --arch, on --device (bench/gpu.sh)")
    ap.add_argument("--arch", default="iresnet50", help="with --synthetic: the audited model (default iresnet50)")
    ap.add_argument("--device", default="cpu", help="with --synthetic: cpu or cuda")
    ap.add_argument("--work", type=Path, default=None,
                    help="folder for each run's temporary cache (default: the system's temp folder)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one size in this process
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_synthetic(args) if args.synthetic else run_one(args)))
        return 0
    runs = [(int(s), args.activations) for s in args.sizes.split(",")]
    if args.compare_live:
        runs.append((args.compare_live, "live"))
    results = []
    for size, mode in runs:
        with tempfile.TemporaryDirectory(prefix="mint-scale-", dir=args.work) as home:
            cmd = [sys.executable, __file__, "--one", str(size), "--kind", args.kind, "--epochs", str(args.epochs),
                   "--activations", mode, "--lfw", str(args.lfw), "--arch", args.arch, "--device", args.device]
            if args.synthetic:
                cmd.append("--synthetic")
            done = subprocess.run(cmd, env={**os.environ, "MINT_TUI_HOME": home}, capture_output=True, text=True)
            if done.returncode:
                sys.stderr.write(done.stderr)
                return done.returncode
            r = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(r)
        n, s = r["faces"], r["stages"]
        gpu = f", GPU peak {r['gpu_peak_mib']:.0f} MiB" if r.get("gpu_peak_mib") is not None else ""
        print(f"{size:>5} images, {n} faces, {args.kind} MINT, {r['epochs']} epochs, activations {r['mode']}: "
              f"{r['seconds'] / n * 1000:.1f} ms/face (faces {s['faces'] / n * 1000:.1f}, activations "
              f"{s['activations'] / n * 1000:.1f}, training {s['training'] / n * 1000:.1f}, rest "
              f"{s['rest'] / n * 1000:.1f}); cache {r['cache_bytes'] / n / 1000:.1f} KB/face; peak RSS "
              f"{r['peak_rss_mib']:.0f} MiB, anonymous {r['peak_anon_mib']:.0f} MiB{gpu}", flush=True)
    base = [r for r in results if r["mode"] == results[0]["mode"]]
    if len(base) > 1:
        a, b = base[0], base[-1]
        print(f"from {a['faces']} to {b['faces']} faces: seconds/face x{(b['seconds'] / b['faces']) / (a['seconds'] / a['faces']):.2f}, "
              f"cache bytes/face x{(b['cache_bytes'] / b['faces']) / (a['cache_bytes'] / a['faces']):.2f}, "
              f"peak anonymous RSS x{b['peak_anon_mib'] / a['peak_anon_mib']:.2f}, peak RSS x{b['peak_rss_mib'] / a['peak_rss_mib']:.2f} "
              f"(1.00 = linear time and disk, flat memory)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end (other work on the machine slows every figure)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
