#!/usr/bin/env python3
"""Start-up time of the standalone executable (one file and one folder), and of the Python package for reference.

    .venv/bin/python bench/exe_startup.py                       # every build found in dist/, 5 + 3 runs
    .venv/bin/python bench/exe_startup.py dist/mint-tui --runs 9 --tui-runs 5 --json out/startup.json

For each program it measures
  version   wall time of `PROGRAM --version` (the one-file build unpacks itself before Python starts,
            so this is its fixed cost)
  drawn     time from starting the TUI under tmux (120x40) until its first screen is drawn (the title
            and the tabs; torch, MediaPipe and OpenCV load afterwards, in a worker)
  ready     time until the core has loaded and the pairs are listed (the status bar names the pair)
and prints the median (min-max) of each. HOME is a temporary folder, so no settings or pairs of the
user are read or written. Figures depend on the machine and its load; the README quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = [ROOT / "dist" / "mint-tui", ROOT / "dist" / "mint-tui-onedir" / "mint-tui"]
PYTHON = ROOT / ".venv" / "bin" / "python"
#: The first screen: the header's title and the tab bar. Loaded: the status bar names the pair in use
#: ("pair demo-lfw-cnn  ·  nothing marked", or "pair none"), which it does once torch & co. are imported.
DRAWN, TABS = "mint-tui", "Images"
READY = re.compile(r"\bpair (?!loading)\S+\s+·")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "MINT_TUI_", "TMUX"))}
    env.update(HOME=str(home), TERM=os.environ.get("TERM", "xterm-256color"))
    return env


def time_version(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    p = subprocess.run([*cmd, "--version"], env=env, capture_output=True, text=True, timeout=300)
    dt = time.perf_counter() - t0
    if p.returncode != 0 or not p.stdout.startswith("mint-tui "):
        raise RuntimeError(f"{cmd} --version failed: {p.stderr[-500:]}")
    return dt


def _tmux(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["tmux", *args], capture_output=True, text=True)


def time_tui(cmd: list[str], env: dict[str, str], cwd: Path, session: str = "mint-startup-bench") -> tuple[float, float]:
    """Seconds to the first drawn screen and to the loaded core; then quits with `q`."""
    _tmux("kill-session", "-t", session)
    env_args = [a for k in ("HOME", "TERM", "PATH", "LANG", "LC_ALL", "PYTHONPATH") if k in env
                for a in ("-e", f"{k}={env[k]}")]
    shell_cmd = " ".join(f"'{c}'" for c in cmd)
    t0 = time.perf_counter()
    _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-c", str(cwd), *env_args, shell_cmd)
    drawn = ready = None
    try:
        while time.perf_counter() - t0 < 300:
            screen = _tmux("capture-pane", "-p", "-t", session).stdout
            now = time.perf_counter() - t0
            if drawn is None and DRAWN in screen and TABS in screen:
                drawn = now
            if drawn is not None and READY.search(screen):
                ready = now
                break
            if _tmux("has-session", "-t", session).returncode != 0:
                raise RuntimeError(f"{cmd} exited before its screen was ready; last screen:\n{screen}")
            time.sleep(0.02)
        if drawn is None or ready is None:
            raise RuntimeError(f"{cmd}: no screen after 300 s")
        _tmux("send-keys", "-t", session, "q")
        t1 = time.perf_counter()
        while _tmux("has-session", "-t", session).returncode == 0 and time.perf_counter() - t1 < 30:
            time.sleep(0.05)
    finally:
        _tmux("kill-session", "-t", session)
    return drawn, ready


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def fmt(s: dict[str, float]) -> str:
    return f"{s['median']:6.2f}s ({s['min']:.2f}-{s['max']:.2f}, n={s['runs']})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("programs", nargs="*", type=Path, help="executables (default: the builds found in dist/)")
    ap.add_argument("--runs", type=int, default=5, help="runs of --version per program")
    ap.add_argument("--tui-runs", type=int, default=3, help="TUI starts per program (0 to skip)")
    ap.add_argument("--no-python", action="store_true", help="do not measure `python -m mint_tui` for reference")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = ap.parse_args()
    if args.tui_runs and not shutil.which("tmux"):
        print("exe_startup: tmux not found; measuring --version only", file=sys.stderr)
        args.tui_runs = 0

    programs: list[tuple[str, list[str]]] = []
    for exe in args.programs or [p for p in DEFAULTS if p.is_file()]:
        exe = exe.resolve()
        label = "one folder" if exe.parent.name.endswith("-onedir") else "one file"
        programs.append((f"{label} ({exe.relative_to(ROOT) if exe.is_relative_to(ROOT) else exe})", [str(exe)]))
    if not args.no_python and PYTHON.exists():
        programs.append(("python -m mint_tui (.venv)", [str(PYTHON), "-m", "mint_tui"]))
    if not programs:
        print("exe_startup: nothing to measure (build with scripts/build_exe.sh)", file=sys.stderr)
        return 1

    report = {"machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg()}, "programs": {}}
    with tempfile.TemporaryDirectory(prefix="mint-startup-") as tmp:
        home, cwd = Path(tmp) / "home", Path(tmp) / "cwd"
        home.mkdir(), cwd.mkdir()
        env = _env(home)
        env["PYTHONPATH"] = str(ROOT)  # only read by the Python reference run
        for label, cmd in programs:
            time_version(cmd, env)  # warm the page cache; not counted
            versions = [time_version(cmd, env) for _ in range(args.runs)]
            entry = {"version": summary(versions)}
            line = f"{label:<46} --version {fmt(entry['version'])}"
            if args.tui_runs:
                tui = [time_tui(cmd, env, cwd) for _ in range(args.tui_runs)]
                entry["tui_drawn"] = summary([d for d, _ in tui])
                entry["tui_ready"] = summary([r for _, r in tui])
                line += f"   TUI drawn {fmt(entry['tui_drawn'])}   ready {fmt(entry['tui_ready'])}"
            size = (sum(f.stat().st_size for f in Path(cmd[0]).parent.rglob("*") if f.is_file() and not f.is_symlink())
                    if "one folder" in label else Path(cmd[0]).stat().st_size if "one file" in label else None)
            if size:
                entry["size_mb"] = round(size / 1e6, 1)
                line += f"   {size / 1e6:.0f} MB"
            report["programs"][label] = entry
            print(line, flush=True)
    report["machine"]["loadavg_after"] = os.getloadavg()
    print(f"load average before/after: {report['machine']['loadavg'][0]:.1f} / {report['machine']['loadavg_after'][0]:.1f}"
          f" on {os.cpu_count()} CPUs")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
