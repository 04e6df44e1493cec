"""Command line: argument parsing -> library calls. `mint-tui` with no command opens the TUI."""

from __future__ import annotations

import argparse
import errno
import json
import sys
from pathlib import Path

from mint_tui import __version__
from mint_tui.audit_cli import add_audit_parser, cmd_audit, ray_without_address
from mint_tui.cli_args import (EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, add_pair_option,
                               json_arg, quiet_stdout)
from mint_tui.figures import evaluation_lines, member_bank_notice, member_data_lines
from mint_tui.models_cli import add_preprocess_options, add_models_parser, cmd_models, preprocess_overrides
from mint_tui.report import DEFAULT_MAX_CROPS
from mint_tui.safe_text import for_terminal


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mint-tui",
        description="Membership Inference Test (MINT) for face-recognition models: was this face "
                    "used to train this model? Run without a command (or with just a folder) to open the "
                    "terminal app.",
    )
    parser.add_argument("--version", action="version", version=f"mint-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    tui = sub.add_parser("tui", help="open the terminal app (the default with no command)")
    tui.add_argument("start", nargs="?", help="folder to start the file browser in")

    add_audit_parser(sub)

    train = sub.add_parser(
        "train", help="train and calibrate a MINT model: build a .mintpair",
        description="Train a MINT model on the audited model's activations of member images (its training "
                    "data) vs external images, calibrate its threshold on held-out data, and write a "
                    "complete .mintpair bundle. Faces go through the same detection and alignment as audits. "
                    "Data-parallel on several processes or GPUs: torchrun --nproc-per-node N -m mint_tui train ... "
                    "(same result as one process for the same seed; rank 0 writes the bundle).")
    src = train.add_mutually_exclusive_group()
    src.add_argument("--audited-from", metavar="PAIR", help="use the audited model of an installed pair (or file)")
    src.add_argument("--arch", help="registered architecture of the audited model (see `mint-tui models list`)")
    train.add_argument("--weights", metavar="FILE",
                       help="audited weights: .safetensors, a checkpoint in a layout the architecture accepts "
                            "(.pth/.pt/.ckpt), or an .onnx file (then no --arch: the graph is the architecture)")
    train.add_argument("--arch-config", metavar="JSON", default="{}",
                       help='architecture options as JSON, e.g. \'{"embedding_size": 256, "width": 0.5}\'')
    train.add_argument("--members", required=True, metavar="LIST|DIR", help="images the audited model was trained on")
    train.add_argument("--external", required=True, metavar="LIST|DIR", help="images it never saw")
    train.add_argument("--root", metavar="DIR", help="folder that relative paths in list files are relative to "
                                                    "(default: the list file's folder)")
    train.add_argument("--kind", choices=("cnn", "mlp"), default="cnn", help="CNN MINT or Vanilla (MLP) MINT")
    train.add_argument("--taps", help="comma-separated taps (default: the architecture's, e.g. "
                                      "layer1,layer2,layer3,layer4,embedding; ONNX: also graph tensor names)")
    add_preprocess_options(train)
    train.add_argument("--mint-config", metavar="JSON", default="{}",
                       help='MINT options as JSON, e.g. \'{"dropout": 0.5}\' (hidden, dropout, norms; cnn: channels, flip)')
    train.add_argument("--member-bank", type=int, default=0, metavar="N", help="store N member face embeddings: "
                       "biometric data anyone with the file can extract (declared, with the accuracy without them)")
    train.add_argument("--no-mirror", dest="mirror", action="store_false",
                       help="score each face on its crop only (default: the mean over the crop and its mirror "
                            "image, calibration included: better ROC AUC for twice the audited model's work)")
    train.add_argument("--epochs", type=int, default=40)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--patience", type=int, default=6, help="early-stopping patience in epochs")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="cpu", help="where the MINT model trains: cpu, cuda, auto (default: cpu)")
    train.add_argument("--activations", choices=("auto", "cache", "live"), default="auto",
                       help="auto: MLP MINT caches pooled features, CNN MINT caches feature maps on the CPU and "
                            "computes them on the fly on CUDA; cache: cache maps; live: compute every epoch")
    train.add_argument("--name", required=True, help="pair name (lower-case slug)")
    train.add_argument("--title", default="")
    train.add_argument("--description", default="")
    train.add_argument("--training-data", default="", help="description of the audited model's training data")
    train.add_argument("--notes", help="free text for the model card (limits, credits)")
    train.add_argument("--license", help="licence / terms of use of the pair")
    train.add_argument("--eval-members", metavar="LIST|DIR", help="test members: measure and record metrics")
    train.add_argument("--eval-external", metavar="LIST|DIR", help="test external images")
    train.add_argument("--out", required=True, metavar="FILE", help="where to write the .mintpair")
    train.add_argument("--install", action="store_true", help="also install the bundle into the store")
    train.add_argument("--report", metavar="FILE", help="write the training report (JSON)")

    ev = sub.add_parser("eval", help="measure a pair on labelled member and external images",
                        description="Accuracy at the pair's threshold, balanced accuracy, ROC AUC, TPR at 1%% "
                                    "and 0.1%% FPR, and training-free baselines on the same images.")
    add_pair_option(ev)
    ev.add_argument("--members", required=True, metavar="LIST|DIR")
    ev.add_argument("--external", required=True, metavar="LIST|DIR")
    ev.add_argument("--root", metavar="DIR", help="folder that relative paths in list files are relative to")
    ev.add_argument("--reference-members", metavar="LIST|DIR",
                    help="known training images (e.g. the MINT training members) for the "
                         "max-cosine-to-member-centres baseline")
    ev.add_argument("--json", metavar="FILE|-", help="write the metrics as JSON")
    ev.add_argument("--plot", metavar="FILE", help="write ROC curves and score histograms as PNG")
    ev.add_argument("--device", default="auto")

    doctor = sub.add_parser("doctor", help="check what an audit needs here and say what to fix (exit 0: all is well)")
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")

    pairs = sub.add_parser("pairs", help="list, inspect, install, verify, export or remove pairs")
    psub = pairs.add_subparsers(dest="pairs_command", metavar="ACTION", required=True)
    pl = psub.add_parser("list", help="installed and bundled pairs")
    pl.add_argument("--json", action="store_true", help="machine-readable output")
    pi = psub.add_parser("info", help="a pair's model card")
    pi.add_argument("name")
    pi.add_argument("--json", action="store_true", help="machine-readable output")
    pin = psub.add_parser("install", help="install a .mintpair bundle into the store")
    pin.add_argument("file")
    pin.add_argument("--replace", action="store_true", help="replace an installed pair of the same name")
    prm = psub.add_parser("remove", help="remove an installed pair")
    prm.add_argument("name")
    pv = psub.add_parser("verify", help="check a pair's bundle: structure, manifest, hashes, weight shapes")
    pv.add_argument("name")
    pe = psub.add_parser("export", help="copy a pair's bundle to a file")
    pe.add_argument("name")
    pe.add_argument("file")
    _add_report_parser(sub)
    add_models_parser(sub)

    cache = sub.add_parser("cache", help="show or clear the crop and activation caches, set their size limit",
                           description="Pair building caches aligned faces and the audited model's activations "
                                       "in the user cache folder. Over the size limit, the least recently used "
                                       "entries are evicted (never those of a run still going).")
    csub = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    ci = csub.add_parser("info", help="where the caches are, what they hold and how big they are, per model")
    ci.add_argument("--json", action="store_true", help="machine-readable output")
    cc = csub.add_parser("clear", help="delete cached crops and activations")
    cc.add_argument("kind", nargs="?", choices=("crops", "activations"), help="only this cache (default: both)")
    clim = csub.add_parser("limit", help="show or set the size limit (e.g. 20GB, 500MiB, none)")
    clim.add_argument("size", nargs="?")
    return parser


def _add_report_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "report", help="write a self-contained HTML report of an audit (crops, scores, pair, provenance)",
        description="Write one self-contained HTML file (no network: crops and plots are embedded) with the "
                    "aligned crop of every audited face, its score against the threshold, the identity-level "
                    "test, the pair's model card and calibration-data ROC curve, and the provenance (file "
                    "hashes, bundle hash, tool version, device, time). Crops are made again from the files, "
                    "only where a file's sha256 still equals the one recorded by the audit.")
    p.add_argument("results", metavar="RESULTS", help="an audit result file (.json from --json, .jsonl or .csv)")
    p.add_argument("--html", metavar="FILE",
                   help="where to write the report (default: RESULTS with .html, beside it: out.json -> out.html)")
    p.add_argument("--pair", metavar="NAME|FILE",
                   help="the pair (installed name or .mintpair file) if not the one named in the results; its "
                        "bundle sha256 must equal the recorded one for the model card and ROC to be included")
    p.add_argument("--max-crops", type=int, default=DEFAULT_MAX_CROPS, metavar="N",
                   help=f"embed at most N face crops (default: {DEFAULT_MAX_CROPS})")


# ---------------------------------------------------------------- pairs
def _store():
    from mint_tui.pairs.store import PairStore

    return PairStore()


def resolve_pair_path(spec: str | None) -> Path:
    """A pair name from the store or a path to a .mintpair file -> the bundle path (a usage error
    when there is none)."""
    from mint_tui.session import PairUnavailable, resolve_pair

    try:
        return resolve_pair(spec)
    except PairUnavailable as exc:
        raise UsageError(str(exc)) from None


def cmd_pairs(args: argparse.Namespace) -> int:
    from mint_tui.pairs.manifest import manifest_to_dict

    store = _store()
    action = args.pairs_command
    if action == "list":
        entries = store.list()
        if args.json:
            out = [{"name": e.name, "title": e.title, "path": str(e.path), "builtin": e.builtin,
                    "error": e.error} for e in entries]
            print(json.dumps(out, indent=2))
            return EXIT_OK
        if not entries:
            print("no pairs installed")
        for e in entries:
            flag = "bundled " if e.builtin else "installed"
            status = f"  UNUSABLE: {for_terminal(e.error)}" if e.error else ""
            print(f"{for_terminal(e.name):<28} {flag}  {for_terminal(e.title)}{status}")
        return EXIT_OK
    if action == "info":
        entry = store.get(args.name)
        if entry.error:
            raise UsageError(f"pair {args.name!r} is unusable: {entry.error}")
        if args.json:
            doc = manifest_to_dict(entry.manifest)
            doc["bundle"] = {"path": str(entry.path), "builtin": entry.builtin}
            print(json.dumps(doc, indent=2))
        else:
            from mint_tui.pairs.card import model_card

            print(model_card(entry.manifest, entry.path, entry.builtin))
        return EXIT_OK
    if action == "install":
        entry = store.install(Path(args.file), replace=args.replace)
        print(f"installed {for_terminal(entry.name)} -> {for_terminal(entry.path)}")
        print("member data:", *member_data_lines(entry.manifest.member_data))
        return EXIT_OK
    if action == "remove":
        store.remove(args.name)
        print(f"removed {for_terminal(args.name)}")
        return EXIT_OK
    if action == "verify":
        manifest = store.verify(args.name)
        print(f"{for_terminal(manifest.pair.name)}: OK (manifest valid, sha256 of every weights file matches, weight "
              f"shapes fit {for_terminal(manifest.audited.arch)} + {for_terminal(manifest.mint.kind)} MINT)")
        return EXIT_OK
    if action == "export":
        dest = store.export(args.name, Path(args.file))
        print(f"exported {for_terminal(args.name)} -> {for_terminal(dest)}")
        return EXIT_OK
    raise UsageError(f"unknown pairs action {action!r}")


# ---------------------------------------------------------------- train / eval
def _check_outputs(outputs: dict[str, str | None], inputs: list[str | None], stdout_ok: tuple[str, ...] = ()
                   ) -> dict[str, Path | None]:
    """Every destination checked against the inputs before any work starts (see mint_tui.destinations)."""
    from mint_tui.destinations import check_destinations

    try:
        return check_destinations(outputs, [i for i in inputs if i], stdout_ok=stdout_ok)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _image_list(spec: str, root: str | None) -> list[Path]:
    from mint_tui.train.data import ImageListError, read_image_list

    try:
        return read_image_list(spec, root)
    except (FileNotFoundError, ImageListError) as exc:
        raise UsageError(str(exc)) from None


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from mint_tui.audit import resolve_device
    from mint_tui.model_inspect import open_audited
    from mint_tui.train.build import PairRequest, build_pair
    from mint_tui.train.fit import MintFitConfig

    dests = _check_outputs({"--out": args.out, "--report": args.report},
                           [args.weights, args.audited_from, args.members, args.external, args.eval_members,
                            args.eval_external])
    taps = tuple(t.strip() for t in args.taps.split(",") if t.strip()) if args.taps else None
    try:  # arguments that would write an untrained pair are refused before any work
        MintFitConfig(kind=args.kind, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      patience=args.patience, seed=args.seed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.audited_from:
        if args.weights:
            raise UsageError("--audited-from takes the weights from the pair: leave out --weights")
        source = open_audited(pair=resolve_pair_path(args.audited_from), overrides=preprocess_overrides(args))
    elif not args.weights:
        raise UsageError("give --weights FILE (with --arch, unless FILE is an .onnx model) or --audited-from PAIR")
    else:
        source = open_audited(arch=args.arch, weights=args.weights, taps=taps,
                              config=json_arg(args.arch_config, "--arch-config"), overrides=preprocess_overrides(args))
    arch, arch_config, state, preprocess = source.arch, source.config, source.weights, source.preprocess
    taps = tuple(source.taps)
    if (args.eval_members is None) != (args.eval_external is None):
        raise UsageError("--eval-members and --eval-external go together")
    mint_config = json_arg(args.mint_config, "--mint-config")
    if "prototypes" in mint_config or args.member_bank < 0:
        raise UsageError("the member bank is set with --member-bank N (0 or more), not in --mint-config")
    if args.member_bank:
        print(member_bank_notice(args.member_bank), file=sys.stderr)
    torch.manual_seed(args.seed)
    req = PairRequest(
        name=args.name, arch=arch, arch_config=arch_config, audited_state=state, out=dests["--out"],
        members=_image_list(args.members, args.root), external=_image_list(args.external, args.root),
        preprocess=preprocess, root=args.root,
        fit=MintFitConfig(kind=args.kind, taps=taps, mint_config={**mint_config, "prototypes": args.member_bank},
                          epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
                          seed=args.seed, device=str(resolve_device(args.device)), mirror=args.mirror),
        activations=args.activations,
        title=args.title, description=args.description, training_data=args.training_data,
        notes=args.notes, license=args.license,
        splits={"members": args.members, "external": args.external, **(
            {"eval_members": args.eval_members, "eval_external": args.eval_external} if args.eval_members else {})},
        eval_members=_image_list(args.eval_members, args.root) if args.eval_members else None,
        eval_external=_image_list(args.eval_external, args.root) if args.eval_external else None,
    )
    try:
        path, report = build_pair(req, log=lambda msg: print(for_terminal(msg), file=sys.stderr, flush=True))
    except KeyboardInterrupt:
        print("interrupted: no bundle written", file=sys.stderr)
        return 130
    finally:
        from mint_tui.train.distributed import shutdown

        shutdown()
    if path is None:  # torchrun: a process other than rank 0, which wrote the bundle
        return EXIT_OK
    if args.report:
        from mint_tui.fileio import atomic_write_text

        atomic_write_text(dests["--report"], json.dumps(report, indent=2) + "\n")
    if args.install:
        entry = _store().install(path, replace=True)
        print(f"installed {for_terminal(entry.name)}", file=sys.stderr)
    print(for_terminal(path))
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from mint_tui.audit import resolve_device
    from mint_tui.pairs.loaded import load_pair
    from mint_tui.results import json_safe, write_output
    from mint_tui.train.evaluate import evaluate_pair, plot_evaluation

    if args.plot:  # checked first: matplotlib is optional (the standalone executable leaves it out)
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UsageError("--plot needs matplotlib, which is not installed here (the standalone executable "
                             "does not include it); run eval without --plot, or from the Python package") from None
    pair_path = resolve_pair_path(args.pair)
    dests = _check_outputs({"--json": args.json, "--plot": args.plot},
                           [pair_path, args.members, args.external, args.reference_members], stdout_ok=("--json",))
    pair = load_pair(pair_path, device=str(resolve_device(args.device)))
    ref = _image_list(args.reference_members, args.root) if args.reference_members else None
    ev = evaluate_pair(pair, _image_list(args.members, args.root), _image_list(args.external, args.root),
                       reference_members=ref)
    doc = {"pair": pair.manifest.pair.name, "bundle_sha256": pair.bundle_sha256,
           "threshold": pair.manifest.calibration.threshold, "members": args.members, "external": args.external,
           "counts": ev.counts, "metrics": ev.metrics}
    if args.json:
        write_output(str(dests["--json"] or "-"), json.dumps(json_safe(doc), indent=2, allow_nan=False) + "\n")
    if args.json != "-":
        print("\n".join(evaluation_lines(for_terminal(pair.manifest.pair.name), ev.counts, ev.metrics)))
    if args.plot:
        plot_evaluation(ev, dests["--plot"], title=pair.manifest.pair.title)
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from mint_tui.doctor import print_checks

    return EXIT_OK if print_checks(as_json=args.json) else EXIT_FAILED


# ---------------------------------------------------------------- report
def cmd_report(args: argparse.Namespace) -> int:
    """``mint-tui report``: 0 written, 1 the results could not be read or the report not written,
    2 usage errors."""
    from mint_tui.report import report_from_source

    if args.max_crops < 0:
        print("mint-tui: error: --max-crops must be at least 0", file=sys.stderr)
        return 2
    if args.html is None and args.results == "-":
        print("mint-tui: error: a report of standard input needs --html FILE, e.g. mint-tui report - --html "
              "report.html", file=sys.stderr)
        return 2
    html = args.html if args.html is not None else str(Path(args.results).with_suffix(".html"))
    try:  # before any work: not a folder or a device, not the results file or the pair
        html_path = _check_outputs({"--html": html}, [args.results, args.pair])["--html"]
    except UsageError as exc:
        print(f"mint-tui: error: {for_terminal(exc)}", file=sys.stderr)
        return 2
    try:
        summary = report_from_source(args.results, html_path, args.pair, max_crops=args.max_crops)
    except (OSError, ValueError) as exc:
        print(f"mint-tui: error: {for_terminal(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: no report written", file=sys.stderr)
        return 130
    for warning in summary.warnings:
        print(f"warning: {for_terminal(warning)}", file=sys.stderr)
    print(f"report written to {for_terminal(summary.path)} ({summary.faces} faces, {summary.crops} crops shown)",
          file=sys.stderr)
    return 0


# ---------------------------------------------------------------- cache
def cmd_cache(args: argparse.Namespace) -> int:
    from datetime import datetime

    from mint_tui import cache

    if args.cache_command == "clear":
        n, freed = cache.clear(args.kind)
        print(f"removed {n} cache entries, {cache.format_size(freed)}")
        return EXIT_OK
    if args.cache_command == "limit":
        if args.size is not None:
            try:
                limit = cache.parse_size(args.size)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            path = cache.set_cache_limit(limit)
            ev = cache.enforce_limit(limit)
            print(f"cache limit {cache.format_size(limit)} (in {path}); evicted {ev.removed} entries, "
                  f"{cache.format_size(ev.freed)}")
        else:
            print(f"cache limit {cache.format_size(cache.cache_limit())} (in {cache.settings_path()})")
        return EXIT_OK
    doc = cache.summary()
    if args.json:
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    print(f"cache folder {doc['folder']}")
    print(f"size {cache.format_size(doc['total'])} of limit {cache.format_size(doc['limit'])} "
          f"(set with `mint-tui cache limit SIZE`, kept in {doc['settings']})")
    for g in sorted(doc["groups"], key=lambda g: (g["kind"], -g["bytes"])):
        used = datetime.fromtimestamp(g["last_used"]).strftime("%Y-%m-%d %H:%M") if g["last_used"] else "-"
        if g["kind"] == "crops":
            what = f"aligned faces of {g['faces']} images, settings {g['group']}"
        else:
            what = (f"{'/'.join(g['forms']) or 'maps'} of {g['faces']} faces in {g['entries']} set(s), model "
                    f"{g['group']}, taps {','.join(g['taps']) or '?'}")
        print(f"  {g['kind']:<12} {cache.format_size(g['bytes']):>9}  last used {used}  {what}")
    if not doc["groups"]:
        print("  (empty)")
    return EXIT_OK


# ---------------------------------------------------------------- entry
def cmd_tui(args: argparse.Namespace) -> int:
    try:
        from mint_tui.tui.app import run_app
    except ImportError as exc:
        print(f"the terminal app is not available in this build ({exc}); see `mint-tui --help`", file=sys.stderr)
        return EXIT_FAILED
    return run_app(start=getattr(args, "start", None))


COMMANDS = {"audit": cmd_audit, "pairs": cmd_pairs, "train": cmd_train, "eval": cmd_eval, "report": cmd_report,
            "cache": cmd_cache, "doctor": cmd_doctor, "tui": cmd_tui, "models": cmd_models}


#: OS errors about the user's files and disks (missing, unwritable, full): reported in one line.
_USER_ERRNOS = {errno.ENOENT, errno.EEXIST, errno.EACCES, errno.EPERM, errno.EISDIR, errno.ENOTDIR, errno.EROFS,
                errno.ENOSPC, errno.EDQUOT, errno.ENAMETOOLONG, errno.ELOOP, errno.EMFILE}
#: Known user errors in modules that load torch: looked up when loaded, never imported here.
_HEAVY_USER_ERRORS = (("mint_tui.models.audited.checkpoint", "CheckpointError"),
                      ("mint_tui.models.audited.zoo", "UnknownArchitectureError"),
                      ("mint_tui.train.data", "TrainingDataError"),
                      ("mint_tui.ray_audit", "RayError"))


def _is_user_error(exc: BaseException) -> bool:
    """The errors that are the user's to mend: a refused bundle or manifest, an unknown or unusable
    pair, a checkpoint that does not fit, images that cannot train a pair, a file or disk problem. They are reported in one line; any
    other exception is a bug and keeps its traceback."""
    from mint_tui.pairs.manifest import ManifestError
    from mint_tui.pairs.store import StoreError
    from mint_tui.pairs.verify import BundleError
    from mint_tui.session import RequestError

    known: list[type[BaseException]] = [BundleError, ManifestError, StoreError, RequestError]
    for module, name in _HEAVY_USER_ERRORS:
        if module in sys.modules:
            known.append(getattr(sys.modules[module], name))
    if isinstance(exc, tuple(known)):
        return True
    return isinstance(exc, OSError) and exc.errno in _USER_ERRNOS


def unknown_command(parser: argparse.ArgumentParser, word: str) -> str:
    """What to say for `mint-tui WORD` when WORD is neither a command nor a folder: the commands, in words."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))  # noqa: SLF001
    lines = [f"mint-tui: error: {word!r} is not a command, and not a folder to open the app in. The commands:"]
    lines += [f"  {choice.dest:<8} {choice.help}" for choice in sub._choices_actions]  # noqa: SLF001
    lines.append("`mint-tui COMMAND --help` says more; `mint-tui` alone opens the terminal app.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 1 and argv[0] not in COMMANDS and Path(argv[0]).is_dir():
        argv = ["tui", argv[0]]  # `mint-tui FOLDER` opens the app there
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        print(unknown_command(parser, argv[0]), file=sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(ray_without_address(argv))
    command = COMMANDS.get(args.command or "tui")
    if command is not cmd_pairs:  # commands that run MediaPipe/OpenCV: their log lines stay off the terminal
        from mint_tui import native_log

        native_log.install()
    try:
        return command(args)
    except BrokenPipeError:  # `mint-tui audit ... | head`: the reader has gone; end quietly, as Unix tools do
        quiet_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:  # Ctrl-C before the command could set up its own handling (start-up)
        print("interrupted", file=sys.stderr)
        return 130
    except UsageError as exc:
        print(f"mint-tui: error: {for_terminal(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if not _is_user_error(exc):
            raise
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"mint-tui: error: {for_terminal(message)}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
