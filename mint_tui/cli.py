"""Command line: argument parsing -> library calls. `mint-tui` with no command opens the TUI."""

from __future__ import annotations

import argparse
import errno
import json
import sys
import threading
from pathlib import Path

from mint_tui import __version__
from mint_tui.cli_args import UsageError, json_arg, ray_without_address
from mint_tui.models_cli import add_preprocess_options, add_models_parser, cmd_models, preprocess_overrides
from mint_tui.options import (DEFAULT_ALPHA, DEFAULT_BATCH_SIZE, DEFAULT_DETECTOR, DEFAULT_FACE_POLICY, DETECTORS,
                              FACE_POLICIES, AuditOptions)
from mint_tui.report import DEFAULT_MAX_CROPS
from mint_tui.safe_text import for_terminal

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_NO_FACE = 3  # audit: images were read, but no face was found (so nothing was scored)


def _add_pair_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pair", metavar="NAME|FILE",
                   help="installed pair name or a .mintpair file (default: the bundled demo pair)")


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

    audit = sub.add_parser(
        "audit", help="audit face images with a pair",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Detect, align and score every face image under PATH (files or folders, recursive). "
                    "Prints a table unless --json/--jsonl/--csv is given.",
        epilog="Results are never lost: --jsonl and --csv stream every row as soon as it is computed (flushed "
               "per row) into FILE.partial,\nwhich is renamed to FILE when the audit ends, whether it completed "
               "or was stopped with Ctrl-C or SIGTERM\n(exit status 130). After a crash or kill -9, FILE.partial "
               "is left: a valid CSV / JSON Lines file with every row\nfinished before it (JSON Lines then lacks "
               "its final {\"end\": true} record). An audit refuses to start while\nFILE.partial exists. --json "
               "streams rows as JSON Lines into FILE.partial too, then writes one document\natomically (temp file + "
               "rename) at the end, also on Ctrl-C (with \"interrupted\": true and every row\ncomputed so far). "
               "Every destination is checked before the audit starts: an output may not be one of\nthe inputs, a "
               "folder or a device; a symbolic link is written through to its target.\n\n"
               "Exit status: 0 when at least one face was scored; 1 when nothing could be read (every row an\n"
               "error) or the pair was refused; 2 for usage errors; 3 when images were read but no face was\n"
               "found in any of them (nothing scored); 130 when interrupted (the rows so far are kept).")
    audit.add_argument("paths", nargs="+", metavar="PATH")
    _add_pair_option(audit)
    audit.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda (default: auto)")
    audit.add_argument("--faces", default=DEFAULT_FACE_POLICY, choices=tuple(FACE_POLICIES),
                       help="largest face per image, every face, or images that are already aligned crops "
                            f"(no detection) (default: {DEFAULT_FACE_POLICY})")
    audit.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N",
                       help=f"faces per model batch (default: {DEFAULT_BATCH_SIZE})")
    audit.add_argument("--workers", type=int, default=None, metavar="N",
                       help="threads that read, decode and detect faces (default: one per 4 CPU cores on --device cpu, "
                            "up to 8 on cuda)")
    audit.add_argument("--threads", type=int, default=None, metavar="N",
                       help="CPU threads of the models on --device cpu (default: torch's own, one per core)")
    audit.add_argument("--detector", default=DEFAULT_DETECTOR, choices=tuple(DETECTORS),
                       help="BlazeFace short-range (close-up faces) or full-range (small/far faces) model")
    ident = audit.add_mutually_exclusive_group()
    ident.add_argument("--identity", metavar="NAME",
                       help="all the given images show one person: also run the identity-level test on them")
    ident.add_argument("--group-by", choices=("folder",),
                       help="one person per folder of images (same-named folders in different places are "
                            "different people): run the identity-level test for each")
    audit.add_argument("--alpha", type=float, default=DEFAULT_ALPHA,
                       help=f"significance level of the identity-level test (default: {DEFAULT_ALPHA:g})")
    audit.add_argument("--json", metavar="FILE|-", help="write results as one JSON document ('-' for standard output)")
    audit.add_argument("--jsonl", metavar="FILE|-",
                       help="stream results as JSON Lines: a header line, then one row per line ('-' for "
                            "standard output)")
    audit.add_argument("--csv", metavar="FILE|-", help="stream results as CSV ('-' for standard output)")
    audit.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                       help="run the audit on Ray Data (pip install 'mint-tui[ray]'): on a Ray started here "
                            "with this machine's CPUs, or on the cluster at ADDRESS (auto or HOST:PORT; every "
                            "node must see the images at the same paths). Each worker "
                            "loads the pair once and uses --threads CPUs (default 1); scores equal those of "
                            "an audit without --ray with the same --batch-size and --threads")

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
                       help='MINT model options as JSON, e.g. \'{"prototypes": 1024, "channels": [4, 8]}\' '
                            "(hidden, dropout, prototypes; channels for cnn; the bundle records the full config)")
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
    _add_pair_option(ev)
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


# ---------------------------------------------------------------- audit
class _ProgressBar:
    """A one-line progress bar on stderr (only when stderr is a terminal). Called from the audit's
    threads: ``lock`` keeps it from writing in the middle of a table line."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.lock = threading.Lock()

    def __call__(self, p) -> None:
        if not self.enabled or p.total == 0:
            return
        with self.lock:
            self._draw(p)

    def _draw(self, p) -> None:
        width = 30
        filled = int(width * p.fraction)
        eta = f"{p.eta:4.0f}s" if p.eta is not None else "   ?"
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {p.prepared}/{p.total} prepared, "
                         f"{p.done} scored  {p.rate:5.1f} img/s  ETA {eta}\033[K")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _table_line(row) -> str:
    score = f"{row.score:.3f}" if row.score is not None else "  -  "
    face = "-" if row.face is None else str(row.face)
    note = f"  ({for_terminal(row.message)})" if row.message else ""
    return f"{row.verdict:<13} {score:>6} {face:>4}  {for_terminal(row.path)}{note}"


def cmd_audit(args: argparse.Namespace) -> int:
    import signal

    from mint_tui.session import AuditRequest, Exports, RequestError, everyone_is, one_person_per_folder, open_audit, run

    try:
        exports = Exports({"json": args.json, "jsonl": args.jsonl, "csv": args.csv})
        extra = {k: v for k, v in (("workers", args.workers), ("threads", args.threads)) if v is not None}
        options = AuditOptions(faces=args.faces, batch_size=args.batch_size, device=args.device,
                               detector=args.detector, **extra)
        people = (everyone_is(args.identity, args.paths) if args.identity
                  else one_person_per_folder(args.paths) if args.group_by else [])
        request = AuditRequest(list(args.paths), args.pair, options, people, args.alpha, ray=args.ray)
    except (RequestError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    try:
        audit = open_audit(request, exports)  # a refused bundle is not a usage error: exit status 1
    except RequestError as exc:
        raise UsageError(str(exc)) from None
    if audit.identity_problem:
        raise UsageError(f"identity test: {audit.identity_problem}")
    table = not exports
    bar = _ProgressBar()
    if table:
        print(f"pair {for_terminal(audit.pair.manifest.pair.name)}  device {audit.device}  "
              f"threshold {audit.pair.manifest.calibration.threshold:.3f}")
        from mint_tui.pairs.card import member_claim

        claim, caveat = member_claim(audit.pair.manifest)
        print(f"member: {claim}. {caveat}".rstrip())
        print(f"{'verdict':<13} {'score':>6} {'face':>4}  path")

    def show(row) -> None:
        bar.close()
        print(_table_line(row), flush=True)

    def on_sigterm(signum, frame):
        raise KeyboardInterrupt

    in_main = threading.current_thread() is threading.main_thread()
    old_term = signal.signal(signal.SIGTERM, on_sigterm) if in_main else None
    try:
        outcome = run(audit, exports, on_row=show if table else None, progress=bar)
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, old_term)
        bar.close()
    out = sys.stdout if table else sys.stderr
    if outcome.interrupted:
        where = f" in {for_terminal(', '.join(outcome.saved))}" if outcome.saved else ""
        print(f"interrupted: {plural(outcome.total, 'result')} kept{where}", file=sys.stderr)
    print(f"{plural(outcome.total, 'result')}: {outcome.summary()}", file=out)
    for result in outcome.identities or ():
        print(f"identity test  {for_terminal(result.explanation)}", file=out)
    if outcome.identities and len(outcome.identities) > 1:
        from mint_tui.identity import people_summary

        print(f"people: {people_summary(outcome.identities)}", file=out)
    if outcome.interrupted:
        return 130  # as a shell reports a process stopped by Ctrl-C
    if not outcome.total or outcome.counts["error"] == outcome.total:
        return EXIT_FAILED
    if not any(outcome.counts[v] for v in ("member", "non-member", "inconclusive")):
        print("no face was found in any image: nothing was scored (exit status 3)", file=sys.stderr)
        return EXIT_NO_FACE
    return EXIT_OK


def plural(n: int, word: str) -> str:
    """"1 result", "2 results"."""
    return f"{n} {word}{'' if n == 1 else 's'}"


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
    torch.manual_seed(args.seed)
    req = PairRequest(
        name=args.name, arch=arch, arch_config=arch_config, audited_state=state,
        members=_image_list(args.members, args.root), external=_image_list(args.external, args.root),
        out=dests["--out"], preprocess=preprocess,
        fit=MintFitConfig(kind=args.kind, taps=taps, mint_config=json_arg(args.mint_config, "--mint-config"),
                          epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
                          seed=args.seed, device=str(resolve_device(args.device))),
        activations=args.activations,
        title=args.title, description=args.description, training_data=args.training_data,
        notes=args.notes, license=args.license,
        splits={"members": args.members, "external": args.external,
                **({"eval_members": args.eval_members, "eval_external": args.eval_external}
                   if args.eval_members else {})},
        eval_members=_image_list(args.eval_members, args.root) if args.eval_members else None,
        eval_external=_image_list(args.eval_external, args.root) if args.eval_external else None,
        eval_data=f"{args.eval_members} vs {args.eval_external}" if args.eval_members else "",
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
    from mint_tui.results import write_output
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
        write_output(str(dests["--json"] or "-"), json.dumps(doc, indent=2) + "\n")
    if args.json != "-":
        c = ev.counts
        print(f"{for_terminal(pair.manifest.pair.name)}: {c['members_scored']} members, {c['external_scored']} external scored "
              f"({c['no_face']} without a face, {c['errors']} unreadable)")
        print(f"{'':34} {'acc':>7} {'bal.acc':>7} {'AUC':>7} {'TPR@1%':>7} {'TPR@.1%':>7}")
        for name, m in ev.metrics.items():
            print(f"{name:34} {m['accuracy']:7.4f} {m['balanced_accuracy']:7.4f} {m['roc_auc']:7.4f} "
                  f"{m['tpr@1%fpr']:7.4f} {m['tpr@0.1%fpr']:7.4f}")
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
                      ("mint_tui.ray_audit", "RayError"))


def _is_user_error(exc: BaseException) -> bool:
    """The errors that are the user's to mend: a refused bundle or manifest, an unknown or unusable
    pair, a checkpoint that does not fit, a file or disk problem. They are reported in one line; any
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
    try:
        return command(args)
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
