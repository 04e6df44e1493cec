"""Audits across machines with Ray Data (the optional extra: ``pip install 'mint-tui[ray]'``).

    image paths (driver) -> Ray Dataset -> map_batches(PairWorker actors) -> rows, in input order

The driver lists the images as the plain audit does, puts the bundle's bytes in Ray's object store
once and maps the dataset of paths over a pool of actors. Each actor takes the bundle from the
object store, verifies and loads it like any bundle (:func:`mint_tui.pairs.loaded.load_pair`,
refusing bytes whose sha256 is not the one the driver verified) once, then runs the ordinary
pipeline (:func:`mint_tui.audit.run_audit`) on each chunk of paths: the same detection,
alignment and models, so the same scores. Rows come back in input order (Ray Data's
``preserve_order``) and are handed to the session one by one, which streams them to the exports.

The images are not shipped: every worker reads them at the paths the driver lists (a relative
path from the driver's working folder), so on a cluster they must lie on storage that every node
mounts at the same place. Ray is imported only inside this module's functions. Usage statistics
are off and no dashboard is started; a Ray started here (:data:`LOCAL`) keeps every process on
127.0.0.1 and cannot ask the cloud metadata servers (see :data:`_LOCAL_ENV`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mint_tui.options import AuditOptions

if TYPE_CHECKING:
    from mint_tui.audit import AuditProgress, ResultRow

#: The address of a Ray started here, on this machine's CPUs, for the audit alone.
LOCAL = "local"
#: What ``pip`` needs for :func:`ray_rows`.
EXTRA = "mint-tui[ray]"

_ADDRESS = re.compile(r"(auto|local|ray://\S+|\[?[\w.:-]*\w\]?:\d{1,5})")


def is_address(text: str) -> bool:
    """Whether ``text`` names a Ray cluster (``auto``, ``local``, ``HOST:PORT`` or
    ``ray://HOST:PORT``) rather than an image path."""
    return bool(_ADDRESS.fullmatch(text))


class RayError(RuntimeError):
    """Ray cannot be used as asked (not installed, no cluster at the address, workers that
    cannot load the pair); the message says why."""


#: The environment of a Ray that mint-tui starts on this machine (:data:`LOCAL`). Ray's
#: single-machine mode (its default on macOS and Windows; read when ray is imported) keeps every Ray
#: process on 127.0.0.1. Ray 2.60's head always runs its usage-statistics module, which asks the cloud
#: metadata servers (169.254.169.254, metadata.google.internal) over HTTP whatever the usage-statistics
#: setting: a proxy at a closed port on 127.0.0.1 makes those requests fail on this machine.
_LOCAL_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
_OFFLINE_PROXY = {"HTTP_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
                  "NO_PROXY": "localhost,127.0.0.1", "no_proxy": "localhost,127.0.0.1"}


def _import_ray(local: bool = False) -> Any:
    # Ray reads these when it starts: no usage statistics sent anywhere.
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    if "ray" not in sys.modules:  # read when ray is imported
        if local:
            os.environ.update(_LOCAL_ENV)
        elif (os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
              or (Path.home() / ".ray" / "auth_token").is_file()):
            os.environ.setdefault("RAY_AUTH_MODE", "token")  # a cluster started with a token is joined with it
    os.environ.setdefault("RAY_DATA_LOG_LEVEL", "ERROR")  # no INFO lines from Ray Data on the terminal
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        if getattr(sys, "frozen", False):
            raise RayError(f"the standalone executable leaves Ray out: install the package with "
                           f"pip install '{EXTRA}' to audit with --ray") from None
        raise RayError(f"--ray needs Ray Data: pip install '{EXTRA}'") from None
    return ray


# ---------------------------------------------------------------- on each worker
def _record(row: ResultRow) -> str:
    """A row as one line of JSON (full precision: floats round-trip exactly; no crop)."""
    fields = asdict(replace(row, crop=None))
    del fields["crop"]
    return json.dumps(fields)


def _row(record: str) -> ResultRow:
    from mint_tui.audit import ResultRow

    fields = json.loads(record)
    if fields["box"] is not None:
        fields["box"] = tuple(fields["box"])
    return ResultRow(**fields)


class PairWorker:
    """The Ray Data UDF: one loaded pair per actor, the plain pipeline per batch of paths."""

    def __init__(self, bundle: list[Any], bundle_sha256: str, options: dict[str, Any], device: str,
                 cwd: str | None) -> None:
        import tempfile

        import ray

        from mint_tui.pairs.loaded import load_pair
        from mint_tui.pairs.verify import BundleError

        if cwd is not None:  # relative paths are read from the driver's working folder
            try:
                os.chdir(cwd)
            except OSError as exc:
                raise RayError(f"the images are not visible on this Ray node: cannot enter the driver's working "
                               f"folder {cwd}: {exc.strerror or exc}") from None
        data = ray.get(bundle[0])  # in a list: Ray hands it over as the reference
        with tempfile.TemporaryDirectory(prefix="mint-tui-ray-") as tmp:
            path = Path(tmp) / "pair.mintpair"
            path.write_bytes(data)
            del data
            self.pair = load_pair(path, device=device)  # verified like any bundle
        if self.pair.bundle_sha256 != bundle_sha256:
            raise BundleError(f"the pair received has sha256 {self.pair.bundle_sha256}, not the driver's "
                              f"{bundle_sha256}")
        self.options = AuditOptions(**options)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        from mint_tui.audit import run_audit

        records: list[str] = []
        images: list[int] = []
        for chunk in batch["chunk"]:
            paths = [os.fsdecode(bytes(p)) for p in chunk]
            records += [_record(row) for row in run_audit(paths, self.pair, self.options)]
            images += [0] * (len(records) - len(images) - 1) + [len(paths)]  # progress: on the chunk's last row
        return {"row": np.array(records, dtype=object), "images": np.array(images, dtype=np.int64)}


# ---------------------------------------------------------------- on the driver
def connect(address: str = LOCAL) -> bool:
    """Start a local Ray (:data:`LOCAL`: on this machine's CPUs, on 127.0.0.1) or connect
    to the cluster at ``address``, unless Ray is initialised in this process already; True when
    this call did it. Raises :class:`RayError` saying why not."""
    ray = _import_ray(local=address == LOCAL)
    if ray.is_initialized():
        return False
    common = dict(include_dashboard=False, log_to_driver=False, configure_logging=True, logging_level="ERROR")
    try:
        if address == LOCAL:
            saved = {k: os.environ.get(k) for k in _OFFLINE_PROXY}
            os.environ.update(_OFFLINE_PROXY)  # Ray's processes keep it; this one gets its own back
            try:
                ray.init(num_cpus=os.cpu_count() or 1, **common)
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        else:
            ray.init(address=address, **common)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayError(f"cannot connect to Ray at {address}: {exc} (a cluster with token authentication needs "
                       f"its token here: ~/.ray/auth_token or RAY_AUTH_TOKEN)") from None
    return True


def worker_count(ray: Any, device: str, threads: int) -> int:
    """Actors the cluster can run at once: one per GPU on CUDA, else one per ``threads`` CPUs."""
    resources = ray.cluster_resources()
    if device.startswith("cuda"):
        return max(1, int(resources.get("GPU", 0)))
    return max(1, int(resources.get("CPU", 1) // threads))


def ray_rows(paths: Iterable[str | os.PathLike[str]], bundle: str | os.PathLike[str], bundle_sha256: str,
             options: AuditOptions, device: str, address: str = LOCAL, *,
             progress: Callable[[AuditProgress], None] | None = None,
             cancel: threading.Event | None = None) -> Iterator[ResultRow]:
    """Audit images on Ray: the rows of :func:`mint_tui.audit.run_audit`, in the same order.

    ``bundle`` is the pair's file (its bytes must have ``bundle_sha256``, the sha256 of the pair
    the caller loaded); each actor runs ``options`` with ``options.threads`` CPUs (default 1) and
    one preparation thread, or one GPU on a CUDA ``device``. ``address``: :data:`LOCAL` starts a
    Ray here for this audit; otherwise a cluster's address (``auto``, ``HOST:PORT``). A Ray
    already initialised in this process is used as it is.
    """
    from mint_tui.audit import AuditProgress, collect_images

    ray = _import_ray()
    files, early_errors = collect_images(paths)
    total = len(files) + len(early_errors)
    start = time.perf_counter()
    yield from early_errors
    done, faces = len(early_errors), 0
    if not files:
        return
    data = Path(bundle).read_bytes()
    if hashlib.sha256(data).hexdigest() != bundle_sha256:
        raise RayError(f"{bundle} changed since it was loaded: its sha256 is no longer {bundle_sha256}")
    started = connect(address)
    try:
        threads = options.threads or 1
        worker_options = asdict(replace(options, threads=threads, workers=1, keep_crops=False))
        cuda = device.startswith("cuda")
        n = worker_count(ray, device, threads)
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        relative = any(not p.is_absolute() for p in files)
        # one item per chunk of batch_size images: run_audit never scores a batch across two chunks,
        # so each chunk's scores are those of the single-process audit
        size = options.batch_size
        chunks = [{"chunk": [os.fsencode(p) for p in files[k:k + size]]} for k in range(0, len(files), size)]
        ds = ray.data.from_items(chunks, override_num_blocks=len(chunks))
        ds = ds.map_batches(
            PairWorker, batch_size=1, compute=ray.data.ActorPoolStrategy(size=min(n, len(chunks))),
            num_cpus=0 if cuda else threads, num_gpus=1 if cuda else 0,
            fn_constructor_args=([ray.put(data)], bundle_sha256, worker_options, device,
                                 os.getcwd() if relative else None))
        del data
        for record in ds.iter_rows():
            row = _row(record["row"])
            done += int(record["images"])
            faces += row.score is not None
            yield row
            if progress is not None and record["images"]:
                elapsed = time.perf_counter() - start
                progress(AuditProgress(done, total, faces, elapsed, done))
            if cancel is not None and cancel.is_set():
                return
    except Exception as exc:
        if type(exc).__module__.startswith("ray"):
            raise RayError(f"the Ray audit failed: {exc}") from exc
        raise
    finally:
        if started:
            ray.shutdown()
