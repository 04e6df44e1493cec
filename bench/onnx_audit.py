"""Audit throughput of an ONNX iResNet-50 pair against the same network from the zoo, in one run.

    .venv/bin/python bench/onnx_audit.py [--lfw ../shared/data/lfw] [--images 128] [--batch-size 32]
        [--rounds 3] [--threads N]

The zoo's iResNet-50 (RANDOM weights: as fast as trained ones) is exported the way arcface_torch's
``torch2onnx.py`` does it (legacy exporter, opset 11, BatchNorm folded into the convolutions). Two
pairs share one MINT model (CNN over the five default taps): one audits with the torch module, the
other with the ONNX graph under onnxruntime, its taps found in the graph. The script prints:

- agreement: the largest difference of embeddings (relative to their largest magnitude) and of MINT
  scores between the two pairs on the same faces, and between our ONNX runner and onnxruntime's own
  output of the unmodified graph;
- images/s of the whole audit (read, decode, detect, align, model, MINT) with each pair, alternating
  the two ``--rounds`` times (the median is printed), and faces/s of the audited model's forward
  pass alone (all taps) on the same crops.

The load average is printed: other jobs on the machine slow both sides alike (compare the ratio).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def export_onnx(model, size=(112, 112)) -> bytes:
    """As arcface_torch/torch2onnx.py: legacy exporter, opset 11, constant folding, eval mode."""
    import torch

    buf = io.BytesIO()
    torch.onnx.export(model, torch.randn(1, 3, *size), buf, input_names=["input.1"], opset_version=11,
                      do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL, dynamo=False,
                      dynamic_axes={"input.1": {0: "batch"}})
    return buf.getvalue()


def make_pairs(folder: Path, seed: int = 0) -> tuple[Path, Path, bytes]:
    """(zoo pair, ONNX pair, the .onnx bytes): the same iResNet-50 and the same MINT model."""
    import torch

    from mint_tui.models.audited import ARCHITECTURES, build_audited
    from mint_tui.models.audited.onnx_model import check_onnx, discover_taps, onnx_config
    from mint_tui.models.mint import build_mint
    from mint_tui.models.taps import tap_shapes
    from mint_tui.pairs.bundle import write_bundle
    from mint_tui.pairs.manifest import AuditedSpec, Calibration, Manifest, MintSpec, PairInfo, Provenance

    torch.manual_seed(seed)
    spec = ARCHITECTURES["iresnet50"]
    model = build_audited("iresnet50").eval()
    with torch.no_grad():  # tame random residual branches, so activations (and MINT scores) stay in range
        for block in model.modules():
            if hasattr(block, "bn3"):
                block.bn3.weight.uniform_(0.0, 0.2)
    data = export_onnx(model)
    proto = check_onnx(data)
    config = onnx_config(proto, discover_taps(proto, spec.input_size), spec.input_size)
    taps = spec.tap_names
    shapes = tap_shapes(model, taps, spec.input_size)
    assert {k: list(v) for k, v in shapes.items()} == config["shapes"], (shapes, config["shapes"])
    mint = build_mint("cnn", shapes).eval()

    def manifest(name, audited):
        return Manifest(PairInfo(name, f"{name} (random weights, for benchmarks only)", "benchmark"), audited,
                        MintSpec("cnn", tuple(taps), {}, "mint.safetensors", "0" * 64),
                        Calibration(0.5, (0.4, 0.6), "nothing (benchmark)"),
                        Provenance("none (benchmark)", "2026-01-01T00:00:00Z", "bench"))

    zoo = write_bundle(folder / "zoo.mintpair",
                       manifest("zoo-r50", AuditedSpec("iresnet50", dict(spec.default_config), "audited.safetensors",
                                                       "0" * 64, spec.preprocess)),
                       model.state_dict(), mint.state_dict())
    onnx = write_bundle(folder / "onnx.mintpair",
                        manifest("onnx-r50", AuditedSpec("onnx", config, "audited.onnx", "0" * 64, spec.preprocess)),
                        data, mint.state_dict())
    return zoo, onnx, data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lfw", type=Path, default=ROOT.parent / "shared" / "data" / "lfw")
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch / onnxruntime threads (0: their default)")
    args = parser.parse_args()

    import numpy as np

    os.environ["ORT_DISABLE_TELEMETRY"] = "1"  # onnxruntime's telemetry off, as mint-tui's ONNX runner does
    import onnxruntime as ort
    import torch

    from mint_tui.audit import AuditOptions, run_audit
    from mint_tui.faces import PrepareSettings, prepare_images, to_tensor_batch
    from mint_tui.pairs.loaded import load_pair

    if args.threads:
        torch.set_num_threads(args.threads)
    files = sorted((args.lfw / "images").rglob("*.jpg"))[: args.images]
    if not files:
        print(f"no LFW images under {args.lfw}/images", file=sys.stderr)
        return 1
    print(f"load average {os.getloadavg()[0]:.1f}; torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"onnxruntime {ort.__version__}; {len(files)} LFW images, batch {args.batch_size}")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        zoo_path, onnx_path, data = make_pairs(Path(tmp))
        print(f"export + pairs: {time.perf_counter() - t:.1f} s; ONNX file {len(data) / 1e6:.1f} MB")
        pairs = {"zoo": load_pair(zoo_path), "onnx": load_pair(onnx_path)}
        pre = pairs["zoo"].manifest.audited.preprocess
        crops = [item.faces[0].crop for item in prepare_images(files, PrepareSettings(size=tuple(pre.size)))
                 if item.faces]
        batch = to_tensor_batch(crops[: args.batch_size], pre.color, tuple(pre.mean), tuple(pre.std))

        # Agreement on the same faces.
        scores, embs = {}, {}
        for name, pair in pairs.items():
            scores[name], embs[name] = pair.score_with_embeddings(batch)
        emb_rel = float(np.abs(embs["onnx"] - embs["zoo"]).max() / np.abs(embs["zoo"]).max())
        sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        own = sess.run(None, {sess.get_inputs()[0].name: batch.numpy()})[0]
        ort_rel = float(np.abs(embs["onnx"] - own).max() / np.abs(own).max())
        print(f"agreement on {len(batch)} faces: embedding max |onnx - zoo| / max |zoo| = {emb_rel:.2e}; "
              f"MINT score max |onnx - zoo| = {np.abs(scores['onnx'] - scores['zoo']).max():.2e}; "
              f"our runner vs onnxruntime's own output of the unmodified graph: {ort_rel:.2e}")

        # Throughput, alternating the two pairs.
        audit_rate = {name: [] for name in pairs}
        forward_rate = {name: [] for name in pairs}
        options = AuditOptions(batch_size=args.batch_size, device="cpu")
        for _ in range(args.rounds):
            for name, pair in pairs.items():
                t = time.perf_counter()
                rows = list(run_audit(files, pair, options))
                audit_rate[name].append(len(rows) / (time.perf_counter() - t))
                t = time.perf_counter()
                with torch.inference_mode():
                    for i in range(0, len(crops), args.batch_size):
                        x = to_tensor_batch(crops[i:i + args.batch_size], pre.color, tuple(pre.mean), tuple(pre.std))
                        pair._extractor(x)
                forward_rate[name].append(len(crops) / (time.perf_counter() - t))
        for name in pairs:
            print(f"{name:>5}: whole audit {statistics.median(audit_rate[name]):6.1f} images/s   "
                  f"audited model alone (all taps) {statistics.median(forward_rate[name]):6.1f} faces/s   "
                  f"(rounds: {', '.join(f'{r:.1f}' for r in audit_rate[name])})")
        ratio = statistics.median(audit_rate["onnx"]) / statistics.median(audit_rate["zoo"])
        print(f"onnx / zoo whole-audit ratio {ratio:.2f}; load average now {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
