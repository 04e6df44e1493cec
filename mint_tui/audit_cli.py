"""The ``audit`` command: its arguments, the table and progress bar it prints, and the thin caller of
:mod:`mint_tui.session` that runs it (the session does the work; this module only says what happens
on the terminal and with which exit status)."""

from __future__ import annotations

import argparse
import sys
import threading

from mint_tui.cli_args import (EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_NO_FACE, EXIT_OK, UsageError, plural,
                               quiet_stdout)
from mint_tui.options import (DEFAULT_ALPHA, DEFAULT_BATCH_SIZE, DEFAULT_DETECTOR, DEFAULT_FACE_POLICY,
                              DETECTOR_CHOICES, FACE_POLICIES, AuditOptions)
from mint_tui.safe_text import for_terminal


def add_audit_parser(sub) -> None:
    """The ``audit`` command's arguments."""
    audit = sub.add_parser(
        "audit", help="audit face images with a pair",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Detect, align and score every face image under PATH (files or folders, recursive). "
                    "Prints a table unless --json/--jsonl/--csv is given.",
        epilog="Results are never lost: --jsonl and --csv stream every row as soon as it is computed (flushed "
               "per row) into FILE.partial,\nwhich is renamed to FILE when the audit ends, whether it completed "
               "or was stopped with Ctrl-C or SIGTERM\n(exit status 130). After a crash or kill -9, FILE.partial "
               "is left: a valid CSV / JSON Lines file with every row\nfinished before it (JSON Lines then lacks "
               "its final {\"end\": true} record). An audit refuses to start while\nFILE.partial exists; "
               "--jsonl FILE --resume continues it (or FILE after Ctrl-C), scoring only the images\nnot in it yet. "
               "--json streams rows as JSON Lines into FILE.partial too, then writes one document\natomically (temp "
               "file + rename) at the end, also on Ctrl-C (with \"interrupted\": true and every row\ncomputed so "
               "far). Every destination is checked before the audit starts: an output may not be one of\nthe "
               "inputs, a folder or a device; a symbolic link is written through to its target.\n\n"
               "Exit status: 0 when at least one face was scored; 1 when nothing could be read (every row an\n"
               "error) or the pair was refused (several pairs: none could be used); 2 for usage errors; 3 when\n"
               "images were read but no face was found in any of them (nothing scored); 130 when interrupted (the rows so\n"
               "far are kept).")
    audit.add_argument("paths", nargs="+", metavar="PATH")
    audit.add_argument("--pair", metavar="NAME|FILE[,...]|all",
                       help="installed pair name or a .mintpair file; several joined by commas, or all (every "
                            "installed and bundled pair): each image is prepared once and scored by each pair, "
                            "one row per (image, face, pair); a pair that cannot be loaded is left out with a "
                            "message (default: the bundled demo pair)")
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
    audit.add_argument("--detector", default=DEFAULT_DETECTOR, choices=DETECTOR_CHOICES,
                       help="face detector: auto (default: BlazeFace short-range, with the full-range model and a "
                            "closer look for faces smaller than a quarter of the image, so that a verdict does not "
                            "depend on how much background the photo has), short (short-range only) or full "
                            "(full-range only)")
    ident = audit.add_mutually_exclusive_group()
    ident.add_argument("--identity", metavar="NAME",
                       help="all the given images show one person: also run the identity-level test on them")
    ident.add_argument("--group-by", choices=("folder",),
                       help="one person per folder of images (same-named folders in different places are "
                            "different people): run the identity-level test for each")
    audit.add_argument("--alpha", type=float, default=DEFAULT_ALPHA,
                       help="significance level of the identity-level test; with several pairs, the chance of "
                            f"wrongly naming any of them for a person (Holm) (default: {DEFAULT_ALPHA:g})")
    audit.add_argument("--json", metavar="FILE|-", help="write results as one JSON document ('-' for standard output)")
    audit.add_argument("--jsonl", metavar="FILE|-",
                       help="stream results as JSON Lines: a header line, then one row per line ('-' for "
                            "standard output)")
    audit.add_argument("--csv", metavar="FILE|-", help="stream results as CSV ('-' for standard output)")
    audit.add_argument("--resume", action="store_true",
                       help="continue the audit that --jsonl FILE was written by (its FILE.partial after a crash or "
                            "kill -9, or FILE after Ctrl-C): images already in it with the same path and sha256 are "
                            "not scored again, the rest are appended; with the same pair, options and images the "
                            "finished file is byte for byte an uninterrupted run's. Needs --jsonl FILE (no other "
                            "output); without such a file it starts one")
    audit.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                       help="run the audit on Ray Data (pip install 'mint-tui[ray]'): on a Ray started here "
                            "with this machine's CPUs, or on the cluster at ADDRESS (auto or HOST:PORT; every "
                            "node must see the images at the same paths). Each worker loads the pair once and "
                            "uses --threads CPUs (default 1); scores equal those of an audit without --ray with "
                            "the same --batch-size and --threads")


def ray_without_address(argv: list[str]) -> list[str]:
    """``audit --ray PATH ...``: PATH is an image path, not the optional Ray address (argparse
    would take it as the address): spelt ``--ray=local PATH``."""
    if not argv or argv[0] != "audit" or "--ray" not in argv:
        return argv
    from mint_tui.ray_audit import LOCAL, is_address

    i = argv.index("--ray")
    if i + 1 < len(argv) and not argv[i + 1].startswith("-") and not is_address(argv[i + 1]):
        return [*argv[:i], f"--ray={LOCAL}", *argv[i + 1:]]
    return argv


class ProgressBar:
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


def _table_line(row, pair_width: int = 0) -> str:
    score = f"{row.score:.3f}" if row.score is not None else "  -  "
    face = "-" if row.face is None else str(row.face)
    note = f"  ({for_terminal(row.message)})" if row.message else ""
    pair = f"{for_terminal(row.pair or ''):<{pair_width}}  " if pair_width else ""
    return f"{row.verdict:<13} {score:>6} {face:>4}  {pair}{for_terminal(row.path)}{note}"


def cmd_audit(args: argparse.Namespace) -> int:
    import signal

    from mint_tui.session import (ALL_PAIRS, AuditRequest, Exports, PairUnavailable, RequestError, everyone_is,
                                  one_person_per_folder, open_audit, pair_specs, run)

    if args.identity is not None and not args.identity.strip():
        raise UsageError("--identity needs a name (the person the photos show)")
    if args.resume and args.ray is not None:
        raise UsageError("--resume continues an audit of this process: leave out --ray")
    try:
        exports = Exports({"json": args.json, "jsonl": args.jsonl, "csv": args.csv}, resume=args.resume)
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
    except PairUnavailable as exc:
        if len(pair_specs(args.pair)) == 1 and args.pair != ALL_PAIRS:
            raise UsageError(str(exc)) from None
        print(f"mint-tui: error: {for_terminal(str(exc))}", file=sys.stderr)  # several pairs, none usable
        return EXIT_FAILED
    except RequestError as exc:
        raise UsageError(str(exc)) from None
    for spec, why in audit.failed:  # the other pairs go on
        print(f"mint-tui: pair {for_terminal(spec)} left out: {for_terminal(why)}", file=sys.stderr)
    if audit.identity_problem:
        raise UsageError(f"identity test: {audit.identity_problem}")
    for name, why in audit.identity_problems.items():
        print(f"mint-tui: identity test without pair {for_terminal(name)}: {for_terminal(why)}", file=sys.stderr)
    table = not exports
    bar = ProgressBar()
    several = len(audit.pairs) > 1
    pair_width = max(len(for_terminal(p.name)) for p in audit.pairs) if several else 0
    if table:
        from mint_tui.pairs.card import member_claim

        for pair in audit.pairs:
            print(f"pair {for_terminal(pair.manifest.pair.name)}  device {audit.device}  "
                  f"threshold {pair.manifest.calibration.threshold:.3f}")
            claim, caveat = member_claim(pair.manifest)
            print(f"member: {claim}. {caveat}".rstrip())
            if pair.manifest.member_data.stored:  # a pair that carries member data says so wherever it is shown
                from mint_tui.figures import member_data_lines

                print(f"member data: {for_terminal(member_data_lines(pair.manifest.member_data)[0])}")
        pair_col = f"{'pair':<{pair_width}}  " if several else ""
        print(f"{'verdict':<13} {'score':>6} {'face':>4}  {pair_col}path")

    def show(row) -> None:
        with bar.lock:  # the bar is drawn from the preparation threads too
            bar.close()
            print(_table_line(row, pair_width), flush=True)

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
    if outcome.broken_pipe:
        quiet_stdout()
        return EXIT_BROKEN_PIPE
    out = sys.stdout if table else sys.stderr
    if outcome.resumed_from is not None:
        print(f"resumed {for_terminal(outcome.resumed_from)}: {plural(outcome.resumed, 'result')} read back, "
              f"{outcome.total - outcome.resumed} computed", file=sys.stderr)
    if outcome.interrupted:
        where = f" in {for_terminal(', '.join(outcome.saved))}" if outcome.saved else ""
        print(f"interrupted: {plural(outcome.total, 'result')} kept{where}", file=sys.stderr)
    print(f"{plural(outcome.total, 'result')}: {outcome.summary()}", file=out)
    for result in outcome.identities or ():
        pair = f"[{for_terminal(result.pair)}] " if several else ""
        print(f"identity test  {pair}{for_terminal(result.explanation)}", file=out)
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
