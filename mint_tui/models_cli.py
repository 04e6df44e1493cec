"""``mint-tui models list|inspect``: the registry of audited architectures and what mint-tui sees of a model."""

from __future__ import annotations

import argparse
import json


def add_preprocess_options(p: argparse.ArgumentParser) -> None:
    """Overrides of the architecture's preprocessing (shared by train and models inspect)."""
    p.add_argument("--input-size", type=int, nargs="+", metavar="N",
                   help="model input size: N (square) or H W (default: the architecture's)")
    p.add_argument("--color", type=str.lower, choices=("rgb", "bgr"), help="colour order the model expects")
    p.add_argument("--mean", type=float, nargs="+", metavar="M", help="per-channel mean on the 0..1 scale (1 or 3)")
    p.add_argument("--std", type=float, nargs="+", metavar="S", help="per-channel std on the 0..1 scale (1 or 3)")
    p.add_argument("--template", help="alignment template (see `mint-tui models list`)")


def preprocess_overrides(args: argparse.Namespace) -> dict:
    return {"size": args.input_size, "color": args.color, "mean": args.mean, "std": args.std,
            "template": args.template}


def add_models_parser(sub) -> None:
    models = sub.add_parser("models", help="audited architectures: list the registry, inspect a model")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ml = msub.add_parser("list", help="the audited architectures: preprocessing, taps, checkpoint layouts")
    ml.add_argument("--json", action="store_true", help="machine-readable output")
    mi = msub.add_parser(
        "inspect", help="load a model exactly as train would and show taps, preprocessing and embeddings",
        description="Load the audited model as `train` would (--arch A --weights F, --weights F.onnx, or --pair P) "
                    "and report the checkpoint keys matched, each tap's name and shape, the preprocessing and, for "
                    "each IMAGE (after the same detection and alignment as an audit), the embedding vector.")
    mi.add_argument("images", nargs="*", metavar="IMAGE")
    mi.add_argument("--arch", help="registered architecture (see `mint-tui models list`)")
    mi.add_argument("--weights", metavar="FILE", help="state dict / checkpoint, or an .onnx file (then no --arch)")
    mi.add_argument("--pair", metavar="FILE", help="a .mintpair: its audited model")
    mi.add_argument("--arch-config", metavar="JSON", default="{}", help="architecture options as JSON")
    mi.add_argument("--taps", help="comma-separated taps (ONNX: default taps or graph tensor names)")
    mi.add_argument("--faces", choices=("largest", "aligned"), default="largest",
                    help="detect and align the largest face, or take images that are already aligned crops")
    mi.add_argument("--detector", default="short", choices=("short", "full"))
    mi.add_argument("--json", metavar="FILE|-", help="write the report as JSON ('-' for standard output)")
    add_preprocess_options(mi)


def cmd_models(args: argparse.Namespace) -> int:
    from mint_tui.model_inspect import architectures, format_report, inspect_report, open_audited

    if args.models_command == "list":
        rows = architectures()
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        for row in rows:
            p = row["preprocess"]
            print(f"{row['name']:<20} {row['description']}")
            print(f"{'':<20} input {p['size'][0]}x{p['size'][1]} {p['color']} mean {p['mean']} std {p['std']}, "
                  f"template {p['template']}")
            print(f"{'':<20} taps {', '.join(f'{k}={v}' for k, v in row['taps'].items())}")
            print(f"{'':<20} checkpoints: {'; '.join(lay['name'] for lay in row['layouts'])}")
        return 0
    from mint_tui.cli_args import UsageError, json_arg

    if args.pair and (args.weights or args.arch):
        raise UsageError("--pair goes alone (without --arch/--weights)")
    taps = [t.strip() for t in args.taps.split(",") if t.strip()] if args.taps else None
    am = open_audited(arch=args.arch, weights=args.weights, pair=args.pair,
                      config=json_arg(args.arch_config, "--arch-config"), taps=taps,
                      overrides=preprocess_overrides(args))
    doc = inspect_report(am, args.images, args.faces, args.detector)
    if args.json:
        from mint_tui.results import write_output

        write_output(args.json, json.dumps(doc, indent=2) + "\n")
    if args.json != "-":
        print(format_report(doc))
    failed = sum("error" in row for row in doc["images"])
    return 1 if doc["images"] and failed == len(doc["images"]) else 0
