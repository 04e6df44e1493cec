#!/usr/bin/env python3
"""What each part of the standalone executable costs: the compressed size of every member.

    .venv/bin/python scripts/exe_sizes.py dist/mint-tui                  # one file: its members as stored
    .venv/bin/python scripts/exe_sizes.py dist/mint-tui-onedir           # one folder: each file at zlib level 9,
                                                                         # which is how the one file stores it
    .venv/bin/python scripts/exe_sizes.py dist/mint-tui --json a.json    # every member, for --diff
    .venv/bin/python scripts/exe_sizes.py dist/mint-tui --diff a.json    # members added, removed or changed

Prints the total, the members grouped by their first folder (libraries PyInstaller puts at the top level
are listed by name), the Python bytecode archive by top-level package, and the largest members. Needs
PyInstaller (the `build` extra) to read the one file.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import zlib
from pathlib import Path


def members_onefile(exe: Path) -> tuple[dict[str, int], dict[str, int]]:
    """(member -> compressed bytes, top-level package -> compressed bytecode bytes) of a one-file build."""
    from PyInstaller.archive.readers import CArchiveReader, ZlibArchiveReader

    archive = CArchiveReader(str(exe))
    members = {name: entry[1] for name, entry in archive.toc.items()}
    packages: dict[str, int] = collections.Counter()
    pyz = next((n for n in archive.toc if n.endswith(".pyz")), None)
    if pyz:
        tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"exe_sizes_{os.getpid()}.pyz"
        try:
            tmp.write_bytes(archive.extract(pyz))
            for name, (_kind, _pos, length) in ZlibArchiveReader(str(tmp)).toc.items():
                packages[name.split(".")[0]] += length
        finally:
            tmp.unlink(missing_ok=True)
    return members, packages


def members_onedir(folder: Path) -> tuple[dict[str, int], dict[str, int]]:
    """The same for a one-folder build: each file compressed at zlib level 9 (the executable itself, which
    holds the bootloader and the already compressed bytecode archive, is counted as it is)."""
    members = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            rel = str(path.relative_to(folder))
            data = path.read_bytes()
            members[rel.removeprefix("_internal/")] = len(data) if rel == "mint-tui" else len(zlib.compress(data, 9))
    return members, {}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build", type=Path, help="dist/mint-tui (one file) or dist/mint-tui-onedir (one folder)")
    ap.add_argument("--top", type=int, default=25, help="how many of the largest members to list")
    ap.add_argument("--json", type=Path, help="write {member: compressed bytes} here")
    ap.add_argument("--diff", type=Path, help="compare with a --json file written earlier")
    args = ap.parse_args()
    members, packages = (members_onedir if args.build.is_dir() else members_onefile)(args.build)
    size = os.path.getsize(args.build) if args.build.is_file() else None
    total = sum(members.values())
    print(f"{args.build}: {len(members)} members, {total / 1e6:.2f} MB compressed"
          + (f"; file size {size:,} bytes ({size / 1e6:.1f} MB)" if size else ""))
    groups: dict[str, int] = collections.Counter()
    for name, n in members.items():
        groups[name.split("/")[0] if "/" in name else f"(top level) {name}"] += n
    print("\nby first folder (MB):")
    for name, n in groups.most_common():
        if n >= 50_000:
            print(f"  {n / 1e6:8.2f}  {name}")
    if packages:
        print("\nbytecode archive by package (MB):")
        for name, n in packages.most_common(15):
            print(f"  {n / 1e6:8.2f}  {name}")
    print(f"\nlargest {args.top} members (MB):")
    for name, n in sorted(members.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"  {n / 1e6:8.2f}  {name}")
    if args.json:
        args.json.write_text(json.dumps(members, indent=0, sort_keys=True))
    if args.diff:
        old = json.loads(args.diff.read_text())
        changed = sorted(set(old) | set(members), key=lambda k: -abs(members.get(k, 0) - old.get(k, 0)))
        delta = [(k, members.get(k, 0) - old.get(k, 0)) for k in changed if members.get(k, 0) != old.get(k, 0)]
        print(f"\nagainst {args.diff}: {(total - sum(old.values())) / 1e6:+.2f} MB")
        for name, d in delta[:args.top]:
            state = "added" if name not in old else "removed" if name not in members else "changed"
            print(f"  {d / 1e6:+8.2f}  {name} ({state})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
