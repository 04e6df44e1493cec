"""Hostile or broken pair bundles, beyond tests/test_pairs.py: manifests refused through the bundle
path before any weight is loaded, size lies in the zip directory, concurrent installs in separate
processes, kill -9 in the middle of an install, and property-based tests of the manifest parser.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
import tomli_w
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mint_tui.pairs.bundle import inspect_bundle, read_manifest
from mint_tui.pairs.loaded import load_pair
from mint_tui.pairs.manifest import manifest_to_toml, ManifestError, parse_manifest
from mint_tui.pairs.store import PairStore
from mint_tui.pairs.verify import BundleError
from random_pair import make_random_pair

TINY = {"width": 0.25, "embedding_size": 32}


def _entries(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _write_zip(dest: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return dest


def _edit_manifest(bundle: Path, dest: Path, edit) -> Path:
    entries = _entries(bundle)
    doc = tomllib.loads(entries["pair.toml"].decode())
    edit(doc)
    entries["pair.toml"] = tomli_w.dumps(doc).encode()
    return _write_zip(dest, entries)


@pytest.fixture
def no_weight_loading(monkeypatch):
    """Any attempt to deserialise weights or build a real (non-meta) model fails the test."""
    import safetensors.torch

    def boom(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("weights were loaded")

    monkeypatch.setattr(safetensors.torch, "load", boom)
    monkeypatch.setattr(safetensors.torch, "load_file", boom)
    monkeypatch.setattr(torch, "load", boom)
    monkeypatch.setattr(pickle, "loads", boom)
    monkeypatch.setattr(pickle, "load", boom)


@pytest.fixture
def store(tmp_path) -> PairStore:
    return PairStore(root=tmp_path / "store", builtin_dir=tmp_path / "no-builtins")


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.name != ".lock"} \
        if directory.exists() else {}


# ---------------------------------------------------------------- manifests refused via the bundle
def _set(path: tuple, value):
    def edit(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


MANIFEST_DEFECTS = [
    ("schema-version", _set(("schema_version",), 2), r"schema_version: unsupported version 2"),
    ("schema-type", _set(("schema_version",), "1"), r"schema_version: expected an integer, got string"),
    ("unknown-arch", _set(("audited", "arch"), "vit-huge"), r"audited.arch: unknown architecture 'vit-huge'"),
    ("unknown-tap", _set(("mint", "taps"), ["layer1", "layer9"]),
     r"mint.taps\[1\]: architecture 'mobilefacenet' has no tap 'layer9'"),
    ("unknown-kind", _set(("mint", "kind"), "transformer"), r"mint.kind: expected one of"),
    ("threshold-type", _set(("calibration", "threshold"), "0.5"), r"calibration.threshold: expected a number, got string"),
    ("size-type", _set(("audited", "preprocess", "size"), "112x112"), r"audited.preprocess.size: expected an array"),
    ("pair-table-type", _set(("pair",), "demo"), r"pair: expected a table, got string"),
    ("weights-path", _set(("mint", "weights"), "/etc/passwd"), r"mint.weights: expected a plain file name"),
    ("weights-pickle", _set(("mint", "weights"), "mint.pkl"), r"mint.weights: expected a plain file name ending in .safetensors"),
    ("config-value", _set(("audited", "config", "width"), "wide"), r"cannot build audited architecture 'mobilefacenet'"),
]


@pytest.mark.parametrize(("edit", "message"), [d[1:] for d in MANIFEST_DEFECTS], ids=[d[0] for d in MANIFEST_DEFECTS])
def test_bad_manifest_refused_before_any_weight_is_loaded(tiny_pair_bundle, tmp_path, store, no_weight_loading,
                                                          edit, message):
    bad = _edit_manifest(tiny_pair_bundle, tmp_path / "bad.mintpair", edit)
    with pytest.raises(BundleError, match=message):
        inspect_bundle(bad)
    with pytest.raises(BundleError, match=message):
        load_pair(bad)
    with pytest.raises(BundleError, match=message):
        store.install(bad)
    assert _snapshot(store.root) == {}


# ---------------------------------------------------------------- zip directory lies (bombs)
def _patch_declared_size(data: bytes, name: str, size: int) -> bytes:
    """Set the uncompressed size of entry ``name`` in both its local header and the central directory."""
    out = bytearray(data)
    raw = name.encode()
    local = out.find(b"PK\x03\x04" + b"")
    while local >= 0:
        (nlen,) = struct.unpack_from("<H", out, local + 26)
        if out[local + 30:local + 30 + nlen] == raw:
            struct.pack_into("<I", out, local + 22, size)
            break
        local = out.find(b"PK\x03\x04", local + 4)
    central = out.find(b"PK\x01\x02")
    while central >= 0:
        (nlen,) = struct.unpack_from("<H", out, central + 28)
        if out[central + 46:central + 46 + nlen] == raw:
            struct.pack_into("<I", out, central + 24, size)
            break
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def test_entry_that_inflates_beyond_its_declared_size_is_refused(tiny_pair_bundle, tmp_path, no_weight_loading):
    entries = _entries(tiny_pair_bundle)
    real = len(entries["mint.safetensors"])
    bad = tmp_path / "liar.mintpair"
    with zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    bad.write_bytes(_patch_declared_size(bad.read_bytes(), "mint.safetensors", real // 4))
    with pytest.raises(BundleError, match=r"'mint.safetensors' (is corrupt|decompresses to more)"):
        inspect_bundle(bad)


def test_declared_total_over_the_limit_is_refused_without_reading(tiny_pair_bundle, tmp_path, no_weight_loading):
    bad = tmp_path / "huge.mintpair"
    bad.write_bytes(_patch_declared_size(tiny_pair_bundle.read_bytes(), "audited.safetensors", 3 * 1024**3))
    with pytest.raises(BundleError, match=r"declares more than \d+ bytes of content|suspicious compression ratio"):
        inspect_bundle(bad)


def test_manifest_entry_over_its_limit_is_refused(tiny_pair_bundle, tmp_path):
    entries = _entries(tiny_pair_bundle)
    entries["pair.toml"] += b"\n" + b"#" * (1024**2 + 10) + b"\n"
    with pytest.raises(BundleError, match=r"pair.toml is larger than"):
        inspect_bundle(_write_zip(tmp_path / "big-manifest.mintpair", entries))


def test_nested_zip_or_torchscript_named_safetensors_with_matching_sha_is_refused(tiny_pair_bundle, tmp_path,
                                                                                   no_weight_loading):
    """A TorchScript archive (a zip holding a pickle) under the audited weights name, its sha256 in
    the manifest: still refused from the safetensors header, before torch sees a byte."""
    buf = tmp_path / "ts.pt"
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model/data.pkl", pickle.dumps({"__reduce__": "os.system"}))
        zf.writestr("model/code/__torch__.py", "import os\nos.system('echo pwned')\n")
    payload = buf.read_bytes()
    entries = _entries(tiny_pair_bundle)
    doc = tomllib.loads(entries["pair.toml"].decode())
    doc["audited"]["sha256"] = hashlib.sha256(payload).hexdigest()
    entries["pair.toml"] = tomli_w.dumps(doc).encode()
    entries["audited.safetensors"] = payload
    with pytest.raises(BundleError, match=r"'audited.safetensors' \(audited weights\) is not a safetensors file"):
        load_pair(_write_zip(tmp_path / "ts.mintpair", entries))


# ---------------------------------------------------------------- the store under concurrency and crashes
CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from mint_tui.pairs.store import PairExistsError, PairStore
    import mint_tui.pairs.store as store_mod

    root, bundle, replace, mode = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
    if mode == "slow-copy":  # copy 64 KiB at a time, slowly, so the parent can kill us mid-copy
        import shutil
        def slow(src, dst, length=0):
            while chunk := src.read(65536):
                dst.write(chunk)
                dst.flush()
                time.sleep(0.02)
        store_mod.shutil.copyfileobj = slow
    elif mode == "slow-inspect":  # the copy is done; stall while it is being inspected
        real = store_mod.inspect_bundle
        def stalled(path):
            print("INSPECTING", flush=True)
            time.sleep(60)
            return real(path)
        store_mod.inspect_bundle = stalled
    store = PairStore(root=Path(root), builtin_dir=Path(root) / "no-builtins")
    print("START", flush=True)
    try:
        entry = store.install(Path(bundle), replace=replace)
        print("INSTALLED", entry.path.read_bytes() == Path(bundle).read_bytes(), flush=True)
    except PairExistsError:
        print("EXISTS", flush=True)
""")


def _child(store: PairStore, bundle: Path, replace: bool, mode: str = "plain") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(store.root), str(bundle), "1" if replace else "0", mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _assert_consistent(store: PairStore) -> None:
    """Every listed pair verifies, no temporary file is mistaken for a pair."""
    for entry in store.list():
        assert entry.error is None, entry.error
        inspect_bundle(entry.path)


@pytest.fixture
def two_bundles(tmp_path):
    """Two different valid bundles with the same pair name."""
    a = make_random_pair(tmp_path / "a.mintpair", name="same", seed=1, audited_config=TINY)
    b = make_random_pair(tmp_path / "b.mintpair", name="same", seed=2, audited_config=TINY)
    assert a.read_bytes() != b.read_bytes()
    return a, b


def test_two_installs_at_once_in_separate_processes(store, two_bundles):
    a, b = two_bundles
    # Without replace: exactly one wins, the other is told the pair exists.
    procs = [_child(store, a, False), _child(store, b, False)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]
    assert sorted(o.split()[-1] if "EXISTS" in o else "INSTALLED" for o in outs) == ["EXISTS", "INSTALLED"], outs
    winner = a if "INSTALLED" in outs[0] else b
    assert (store.root / "same.mintpair").read_bytes() == winner.read_bytes()
    # With replace: both succeed one after the other; the store holds one of them, whole.
    procs = [_child(store, a, True), _child(store, b, True)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert all("INSTALLED True" in o for o in outs), outs
    assert (store.root / "same.mintpair").read_bytes() in (a.read_bytes(), b.read_bytes())
    assert sorted(p.name for p in store.root.iterdir()) == [".lock", "same.mintpair"]
    _assert_consistent(store)


@pytest.mark.parametrize("phase", ["slow-copy", "slow-inspect"])
def test_kill_9_in_the_middle_of_an_install_leaves_the_store_consistent(store, tmp_path, two_bundles, phase):
    old, new = two_bundles
    store.install(old)
    before = _snapshot(store.root)
    # A bigger bundle (full-width MobileFaceNet, several MiB) so that the copy takes a while.
    big = make_random_pair(tmp_path / "big.mintpair", name="same", seed=3)
    assert big.stat().st_size > 2 * 1024**2
    child = _child(store, big, True, phase)
    assert child.stdout.readline().strip() == "START"
    deadline = time.monotonic() + 60
    if phase == "slow-copy":  # wait until the temporary copy is partly written
        while time.monotonic() < deadline:
            temps = list(store.root.glob(".install-*.tmp"))
            if temps and 0 < temps[0].stat().st_size < big.stat().st_size // 2:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the install never started copying")
    else:
        assert child.stdout.readline().strip() == "INSPECTING"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    # The old pair is untouched and still the one listed; the leftover copy is not a pair.
    assert _snapshot(store.root) == {**before, **{p.name: p.read_bytes() for p in store.root.glob(".install-*")}}
    assert [e.name for e in store.list()] == ["same"]
    assert (store.root / "same.mintpair").read_bytes() == old.read_bytes()
    _assert_consistent(store)
    # The killed process's lock died with it: the next install goes through and sweeps the leftover.
    entry = store.install(new, replace=True)
    assert entry.path.read_bytes() == new.read_bytes()
    assert sorted(p.name for p in store.root.iterdir()) == [".lock", "same.mintpair"]


def test_replace_with_a_broken_bundle_keeps_the_installed_pair(store, tmp_path, two_bundles):
    old, new = two_bundles
    store.install(old)
    entries = _entries(new)
    data = bytearray(entries["mint.safetensors"])
    data[-1] ^= 0x55
    entries["mint.safetensors"] = bytes(data)
    with pytest.raises(BundleError, match="SHA-256 mismatch"):
        store.install(_write_zip(tmp_path / "broken.mintpair", entries), replace=True)
    assert (store.root / "same.mintpair").read_bytes() == old.read_bytes()
    assert sorted(p.name for p in store.root.iterdir()) == [".lock", "same.mintpair"]


# ---------------------------------------------------------------- property-based: the manifest parser
def _valid_manifest_text() -> str:
    import dataclasses

    from mint_tui.models.audited import ARCHITECTURES
    from mint_tui.pairs.manifest import AuditedSpec, Calibration, Manifest, Metric, MintSpec, PairInfo, Provenance

    m = Manifest(
        pair=PairInfo("prop-test", "Property test", "A manifest for property-based tests."),
        audited=AuditedSpec("mobilefacenet", dict(TINY), "audited.safetensors", "a" * 64,
                            ARCHITECTURES["mobilefacenet"].preprocess),
        mint=MintSpec("mlp", ("layer1", "embedding"), {}, "mint.safetensors", "b" * 64),
        calibration=Calibration(0.5, (0.4, 0.6), "held-out split"),
        provenance=Provenance("synthetic", "2024-05-01T12:00:00Z", "0.1.0", notes="n", splits={"members": "x"}),
        metrics=(Metric("accuracy", 0.7, "test split", 100),),
    )
    text = manifest_to_toml(m)
    assert dataclasses.asdict(parse_manifest(text))  # valid
    return text


VALID_TEXT = _valid_manifest_text()
VALID_DOC = tomllib.loads(VALID_TEXT)

toml_scalars = (st.text(max_size=20) | st.integers(min_value=-2**63, max_value=2**63 - 1) | st.booleans()
                | st.floats(allow_nan=True, allow_infinity=True) | st.datetimes() | st.dates() | st.times())
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
PROP = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse_ok_or_manifest_error(text: str) -> None:
    try:
        m = parse_manifest(text)
    except ManifestError as exc:
        assert exc.errors and all(isinstance(e, str) and e for e in exc.errors)
        assert str(exc).startswith("invalid pair manifest")
        return
    # Anything accepted is a whole, consistent manifest that round-trips.
    assert parse_manifest(manifest_to_toml(m)) == m


@PROP
@given(st.text(max_size=400))
def test_parser_on_arbitrary_text(text):
    _parse_ok_or_manifest_error(text)


@PROP
@given(st.dictionaries(st.text(max_size=16), toml_values, max_size=8))
def test_parser_on_random_toml_documents(doc):
    _parse_ok_or_manifest_error(tomli_w.dumps(doc))


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(VALID_DOC) if p]


@st.composite
def mutated_docs(draw):
    import copy

    doc = copy.deepcopy(VALID_DOC)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            key = path[-1]
            if isinstance(parent, dict) != isinstance(key, str):
                continue  # an earlier mutation turned a list into a table or back (no int keys in TOML)
            action = draw(st.sampled_from(["replace", "delete", "add-sibling"]))
            if action == "replace":
                parent[key] = draw(toml_values)
            elif action == "delete":
                del parent[key]
            elif isinstance(parent, dict):
                parent[draw(st.text(max_size=10))] = draw(toml_values)
            else:
                parent.append(draw(toml_values))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    return doc


@PROP
@given(mutated_docs())
def test_parser_on_mutations_of_a_valid_manifest(doc):
    _parse_ok_or_manifest_error(tomli_w.dumps(doc))


@PROP
@given(st.lists(st.tuples(st.integers(0, len(VALID_TEXT) - 1), st.sampled_from(["del", "ins", "sub"]),
                          st.characters()), min_size=1, max_size=6))
def test_parser_on_character_edits_of_a_valid_manifest(edits):
    text = VALID_TEXT
    for pos, op, ch in edits:
        pos = min(pos, len(text) - 1)
        text = text[:pos] + ("" if op == "del" else ch) + text[pos + (op != "ins"):]
    _parse_ok_or_manifest_error(text)


def test_read_manifest_refuses_a_non_utf8_manifest(tiny_pair_bundle, tmp_path):
    entries = _entries(tiny_pair_bundle)
    entries["pair.toml"] = entries["pair.toml"].replace(b"tiny-test", b"tiny-t\xe9st", 1)
    with pytest.raises(BundleError, match="pair.toml is not UTF-8 text"):
        read_manifest(_write_zip(tmp_path / "latin1.mintpair", entries))


def test_deeply_nested_manifest_is_refused_by_the_bundle_reader(tiny_pair_bundle, tmp_path, store, no_weight_loading):
    entries = _entries(tiny_pair_bundle)
    entries["pair.toml"] += b"\n[extra]\nx = " + b"[" * 50_000 + b"]" * 50_000 + b"\n"  # < 1 MiB
    bad = _write_zip(tmp_path / "nested.mintpair", entries)
    for check in (read_manifest, inspect_bundle, load_pair, store.install):
        with pytest.raises(BundleError, match="nested too deeply"):
            check(bad)
    store.root.mkdir(parents=True, exist_ok=True)
    (store.root / "nested.mintpair").write_bytes(bad.read_bytes())
    assert "nested too deeply" in store.get("nested").error  # listed as unusable, the listing goes on


def test_parser_on_deeply_nested_arrays():
    _parse_ok_or_manifest_error("a = " + "[" * 5000 + "]" * 5000)
