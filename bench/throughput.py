"""Throughput of the whole audit against the audited model's own limit, per stage, with memory.

    .venv/bin/python bench/throughput.py [--lfw ../shared/data/lfw] [--images 256] [--batch-size 32]
        [--pairs demo,iresnet50] [--devices cpu,cuda] [--workers N] [--threads N] [--flat 10000]

For each pair (the demo pair; an iResNet-50 pair with RANDOM weights, which is as fast as a trained
one) and each device (CPU; CUDA where torch sees a GPU, otherwise skipped with a message) it prints:

- images/s and faces/s of the whole audit (``run_audit``: read, decode, detect, align, batch,
  audited model, MINT) on ``--images`` LFW photos;
- faces/s of the audited model's forward pass alone on the same aligned crops at the same batch
  size (already normalised tensors; the limit the pipeline cannot beat), measured just before and
  just after the audit, and the ratio of the two (``--rounds N``: the median of N such rounds);
- CPU seconds per face of both (the whole audit also decodes and detects): their ratio is the one
  an idle machine allows, whatever else was running during the measurement;
- time per stage, summed over the threads that ran it (decode and detection run in worker threads
  overlapped with the model, so the stages add up to more than the wall time);
- peak memory: the highest RSS sampled during the run and ``ru_maxrss`` of the process.

``--flat N`` then audits N small generated images (variants of a few LFW photos, written to a
temporary folder outside the project and deleted afterwards), streaming rows to a JSON Lines file
as the CLI does, and prints the RSS at every tenth of the run: memory must stay flat.

The machine's load average is printed: figures measured while other jobs compete for the CPU
understate both rates (their ratio is the meaningful number).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # random_pair: test scaffolding

DEMO_ARCH, DEMO_CONFIG = "mobilefacenet", {"embedding_size": 256, "width": 0.5}
ALL_TAPS = ("layer1", "layer2", "layer3", "layer4", "embedding")
STAGES = ("read", "decode", "detect", "align", "batch", "forward", "mint")


# ---------------------------------------------------------------- memory
def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssSampler:
    """Samples this process's resident memory every ``interval`` seconds in a thread (no tracemalloc:
    it sees what the OS sees, native libraries included)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval, self.peak, self._stop = interval, rss_mib(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_mib())

    def __enter__(self) -> RssSampler:
        self.peak = rss_mib()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib())


# ---------------------------------------------------------------- pairs and images
def demo_bundle(tmp: Path) -> tuple[Path, str]:
    shipped = sorted((ROOT / "mint_tui" / "assets" / "pairs").glob("demo*.mintpair"))
    if shipped:
        return shipped[0], f"{shipped[0].name} (shipped)"
    from random_pair import make_random_pair

    path = make_random_pair(tmp / "demo-shaped.mintpair", name="demo-shaped", arch=DEMO_ARCH, kind="cnn",
                            taps=ALL_TAPS, audited_config=DEMO_CONFIG)
    return path, f"demo-shaped: {DEMO_ARCH} {DEMO_CONFIG} + CNN MINT on all taps, random weights " \
                 "(mint_tui/assets/pairs has no demo pair yet)"


def iresnet_bundle(tmp: Path) -> tuple[Path, str]:
    from random_pair import make_random_pair

    path = make_random_pair(tmp / "iresnet50.mintpair", name="iresnet50-random", arch="iresnet50", kind="mlp",
                            taps=("layer1", "embedding"))
    return path, "iresnet50 + MLP MINT (layer1, embedding), random weights"


def lfw_images(lfw: Path, count: int) -> list[Path]:
    files = sorted((lfw / "images").glob("*/*.jpg"))
    if not files:
        raise SystemExit(f"no LFW images under {lfw / 'images'}")
    step = max(1, len(files) // count)
    return files[::step][:count]


def make_flat_folder(sources: list[Path], count: int, folder: Path, side: int = 128) -> None:
    """``count`` small JPEGs: each a source photo downscaled, shifted and brightened a little, so
    every file is different (different sha256) but still a face."""
    import numpy as np

    from mint_tui.faces.image import cv2, load_image

    bases = [cv2.resize(load_image(p), (side + 16, side + 16), interpolation=cv2.INTER_AREA) for p in sources]
    rng = np.random.default_rng(0)
    for i in range(count):
        base = bases[i % len(bases)]
        dx, dy = rng.integers(0, 17, 2)
        img = cv2.add(base[dy:dy + side, dx:dx + side], int(rng.integers(-20, 21)))
        sub = folder / f"{i // 1000:03d}"
        sub.mkdir(exist_ok=True)
        cv2.imwrite(str(sub / f"img{i:05d}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 90])


# ---------------------------------------------------------------- measurements
def forward_alone(pair, crops, batch_size: int) -> tuple[float, float]:
    """Faces/s of the audited model alone on normalised batches of the given crops, and the CPU
    seconds it used per face."""
    import torch

    from mint_tui.faces import to_tensor_batch

    pre = pair.manifest.audited.preprocess
    batches = [to_tensor_batch(crops[i:i + batch_size], pre.color, tuple(pre.mean), tuple(pre.std)).to(pair.device)
               for i in range(0, len(crops), batch_size)]
    sync = torch.cuda.synchronize if pair.device.type == "cuda" else (lambda: None)
    with torch.inference_mode():
        pair.audited(batches[0])  # warm-up (kernel selection, allocator)
        sync()
        cpu, t = time.process_time(), time.perf_counter()
        for x in batches:
            pair.audited(x)
        sync()
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    return len(crops) / wall, cpu / len(crops)


def whole_audit(pair, files, options):
    from mint_tui.audit import run_audit
    from mint_tui.faces.prepare import StageTimes

    stats = StageTimes()
    with RssSampler() as mem:
        cpu, t = time.process_time(), time.perf_counter()
        rows = list(run_audit(files, pair, options, stats=stats))
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    return rows, wall, cpu, stats.snapshot(), mem.peak


def bench_pair(label: str, bundle: Path, device: str, files: list[Path], args) -> dict:
    import statistics

    import torch

    from mint_tui.audit import AuditOptions, default_workers
    from mint_tui.pairs.loaded import load_pair

    pair = load_pair(bundle, device=device)
    extra = {k: v for k, v in (("workers", args.workers), ("threads", args.threads)) if v is not None}
    options = AuditOptions(batch_size=args.batch_size, device=device, keep_crops=True, **extra)
    rows = whole_audit(pair, files, options)[0]  # warm-up (detectors, model kernels, page cache) and the crops
    crops = [r.crop for r in rows if r.crop is not None]
    if not crops:
        raise SystemExit("no face was found in the benchmark images")
    options.keep_crops = False
    saved = torch.get_num_threads()
    if options.threads and device == "cpu":
        torch.set_num_threads(options.threads)
    threads = torch.get_num_threads()
    load_before = os.getloadavg()[0]
    rounds = []
    for _ in range(args.rounds):  # forward alone, whole audit, forward alone: contention hits both alike
        before, cpu_before = forward_alone(pair, crops, args.batch_size)
        rows, wall, cpu, stages, peak = whole_audit(pair, files, options)
        after, cpu_after = forward_alone(pair, crops, args.batch_size)
        faces = sum(r.score is not None for r in rows)
        rounds.append({"audit_face_s": faces / wall, "audit_img_s": len(files) / wall, "wall": wall,
                       "forward_face_s": (before + after) / 2, "cpu_audit": cpu / faces,
                       "cpu_forward": (cpu_before + cpu_after) / 2, "stages": stages, "peak": peak, "faces": faces})
    torch.set_num_threads(saved)
    for r in rounds:
        r["ratio"] = r["audit_face_s"] / r["forward_face_s"]
    mid = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]  # the median round
    result = {
        "pair": label, "device": device, "images": len(files), "faces": mid["faces"],
        "audit_img_s": mid["audit_img_s"], "audit_face_s": mid["audit_face_s"], "forward_face_s": mid["forward_face_s"],
        "ratio": mid["ratio"], "ratios": [r["ratio"] for r in rounds], "wall": mid["wall"], "stages": mid["stages"],
        "cpu_audit": mid["cpu_audit"], "cpu_forward": mid["cpu_forward"],
        "rss_peak": max(r["peak"] for r in rounds), "maxrss": maxrss_mib(),
        "workers": options.workers or default_workers(device), "threads": threads,
        "load": (load_before, os.getloadavg()[0]), "median_of": statistics.median([r["ratio"] for r in rounds]),
    }
    del pair, rows, crops
    return result


def print_result(r: dict) -> None:
    print(f"\n== {r['pair']} on {r['device']}: {r['images']} images, {r['faces']} faces, batch {r['batch']}, "
          f"{r['workers']} prepare workers, {r['threads']} torch threads (load avg {r['load'][0]:.1f} -> "
          f"{r['load'][1]:.1f} on {os.cpu_count()} CPUs)")
    print(f"   whole audit      {r['audit_img_s']:8.1f} images/s  {r['audit_face_s']:8.1f} faces/s   "
          f"({r['wall']:.1f} s)")
    print(f"   forward alone                       {r['forward_face_s']:8.1f} faces/s")
    rounds = "" if len(r["ratios"]) == 1 else f"   (median of {len(r['ratios'])} rounds: " + \
        ", ".join(f"{x:.2f}" for x in r["ratios"]) + ")"
    print(f"   ratio (audit / forward alone)       {r['ratio']:8.2f}{rounds}")
    print(f"   CPU time per face: whole audit {1000 * r['cpu_audit']:.1f} ms, forward alone "
          f"{1000 * r['cpu_forward']:.1f} ms (ratio {r['cpu_forward'] / r['cpu_audit']:.2f}: what an idle machine "
          "allows)")
    print("   stage times (thread time; ms per item)")
    for stage in STAGES:
        if stage in r["stages"]:
            secs, n = r["stages"][stage]
            print(f"     {stage:<8} {secs:8.2f} s   {1000 * secs / max(n, 1):7.2f} ms x {n}")
    print(f"   memory: peak RSS during the audit {r['rss_peak']:.0f} MiB; ru_maxrss {r['maxrss']:.0f} MiB")


def flat_memory(bundle: Path, label: str, device: str, lfw: Path, count: int, args) -> None:
    from mint_tui.audit import AuditOptions, collect_images, run_audit
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.results import audit_header, open_stream

    pair = load_pair(bundle, device=device)
    extra = {k: v for k, v in (("workers", args.workers), ("threads", args.threads)) if v is not None}
    options = AuditOptions(batch_size=args.batch_size, device=device, **extra)
    with tempfile.TemporaryDirectory(prefix="mint-flat-") as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        t = time.perf_counter()
        make_flat_folder(lfw_images(lfw, 24), count, folder)
        print(f"\n== flat memory: {count} generated 128x128 JPEGs in {folder} ({time.perf_counter() - t:.0f} s to "
              f"write), {label} on {device}, rows streamed to JSON Lines")
        total = len(collect_images([folder])[0])
        stream = open_stream("jsonl", str(Path(tmp) / "out.jsonl"), audit_header(pair, device, options))
        marks = {max(1, total * k // 10) for k in range(1, 11)}
        n, start, first_mark = 0, time.perf_counter(), None
        print(f"   {'images':>7} {'RSS MiB':>8} {'images/s':>9}")
        with RssSampler() as mem:
            last_image = None
            for row in run_audit([folder], pair, options):
                stream.write(row)
                if row.path != last_image:
                    last_image = row.path
                    n += 1
                    if n in marks:
                        now = rss_mib()
                        first_mark = first_mark if first_mark is not None else now
                        print(f"   {n:7d} {now:8.0f} {n / (time.perf_counter() - start):9.1f}", flush=True)
        stream.finish()
        end = rss_mib()
        print(f"   RSS after 10% of the images {first_mark:.0f} MiB, at the end {end:.0f} MiB "
              f"(growth {end - first_mark:+.0f} MiB over {total - total // 10} images); peak {mem.peak:.0f} MiB")
        summary = ", ".join(f"{n} {v}" for v, n in stream.summary().items() if n)
        print(f"   {stream.rows} rows written ({summary}) in {time.perf_counter() - start:.0f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lfw", type=Path, default=ROOT.parent / "shared" / "data" / "lfw")
    ap.add_argument("--images", type=int, default=256, help="LFW photos per measurement (default: 256)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--workers", type=int, help="prepare threads (default: the audit's default)")
    ap.add_argument("--threads", type=int, help="torch threads (default: the audit's default)")
    ap.add_argument("--pairs", default="demo,iresnet50", help="comma-separated: demo, iresnet50")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure forward alone / whole audit / forward alone this many times and report the "
                         "median ratio (use 3 or more on a busy machine)")
    ap.add_argument("--devices", default="cpu,cuda", help="comma-separated: cpu, cuda")
    ap.add_argument("--flat", type=int, default=0, metavar="N",
                    help="also audit N generated small images and print RSS as it goes (e.g. 10000)")
    ap.add_argument("--flat-pair", default="demo", choices=("demo", "iresnet50"))
    args = ap.parse_args()

    import torch

    if not (args.lfw / "images").is_dir():
        print(f"LFW images not found under {args.lfw}; pass --lfw", file=sys.stderr)
        return 1
    devices = []
    for d in args.devices.split(","):
        if d == "cuda" and not torch.cuda.is_available():
            print("CUDA: skipped (torch.cuda.is_available() is False: no GPU or a CPU-only torch build)")
            continue
        devices.append(d)
    files = lfw_images(args.lfw, args.images)
    print(f"mint-tui throughput benchmark: torch {torch.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="mint-bench-") as tmp:
        bundles = {"demo": demo_bundle, "iresnet50": iresnet_bundle}
        made = {name: bundles[name](Path(tmp)) for name in args.pairs.split(",") if name}
        for name, (bundle, label) in made.items():
            for device in devices:
                r = bench_pair(label, bundle, device, files, args)
                r["batch"] = args.batch_size
                print_result(r)
        if args.flat:
            bundle, label = made.get(args.flat_pair) or bundles[args.flat_pair](Path(tmp))
            flat_memory(bundle, label, devices[-1] if "cuda" in devices else "cpu", args.lfw, args.flat, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
