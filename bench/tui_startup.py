"""Cold start of the terminal app: from launching a fresh Python to the first drawn screen.

Each run starts a new interpreter (`python -c ...`) that builds ``MintApp`` and exits on Textual's
``Ready`` event (sent once the first frame has been drawn), writing a byte to a pipe; the figure is
the wall time from spawning the process to that byte. By default the child draws into a real
pseudo-terminal (80x24) as a person's terminal would; ``--headless`` uses Textual's headless
driver instead. torch, MediaPipe and OpenCV are not imported before the first frame (the app
loads them afterwards in a worker); the child checks that and says so.

    python bench/tui_startup.py            # 5 runs in a pty, prints each and the median
    python bench/tui_startup.py --runs 9 --headless
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import fcntl
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUDGET_S = 1.0

CHILD = r"""
import os, sys
fd = int(sys.argv[1]); headless = sys.argv[2] == "1"
from mint_tui.tui.app import MintApp

class BenchApp(MintApp):
    def on_ready(self):
        heavy = sorted(m for m in ("torch", "mediapipe", "cv2", "mint_tui.audit", "mint_tui.pairs.loaded")
                       if m in sys.modules)
        os.write(fd, ("ready " + ",".join(heavy) + "\n").encode())
        self.exit(0)

BenchApp(sys.argv[3], image_mode="halfblock", persist=False).run(headless=headless)
"""


def one_run(headless: bool, start: str, env: dict[str, str]) -> tuple[float, str]:
    read_fd, write_fd = os.pipe()
    cmd = [sys.executable, "-c", CHILD, str(write_fd), "1" if headless else "0", start]
    if headless:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, pass_fds=(write_fd,), cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        master = None
    else:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, pass_fds=(write_fd,), cwd=REPO, env=env, stdin=slave, stdout=slave,
                                stderr=slave, start_new_session=True)
        os.close(slave)
    os.close(write_fd)
    line = b""
    elapsed = None
    deadline = t0 + 60
    try:
        while time.perf_counter() < deadline:
            fds = [read_fd] + ([master] if master is not None else [])
            ready, _, _ = select.select(fds, [], [], 0.5)
            if master is not None and master in ready:
                try:
                    os.read(master, 65536)  # drain what the app draws, like a terminal would
                except OSError:
                    pass
            if read_fd in ready:
                chunk = os.read(read_fd, 4096)
                if elapsed is None:
                    elapsed = time.perf_counter() - t0
                line += chunk
                if not chunk or line.endswith(b"\n"):
                    break
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(read_fd)
        if master is not None:
            os.close(master)
    if elapsed is None:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"the app never reported its first frame (exit {proc.returncode}) {err[-2000:]}")
    heavy = line.decode().strip().removeprefix("ready").strip()
    return elapsed, heavy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--headless", action="store_true", help="Textual's headless driver instead of a pty")
    parser.add_argument("--start", default=str(REPO), help="folder the file browser opens (default: the repo)")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="mint-tui-bench-")
    env = dict(os.environ, MINT_TUI_HOME=home, TERM=os.environ.get("TERM", "xterm-256color"),
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("TEXTUAL", None)
    times = []
    for i in range(args.runs):
        elapsed, heavy = one_run(args.headless, args.start, env)
        times.append(elapsed)
        note = f"  (heavy modules loaded before the first frame: {heavy})" if heavy else ""
        print(f"run {i + 1}: {elapsed:.3f} s{note}")
    median = statistics.median(times)
    mode = "headless" if args.headless else "pty 80x24"
    verdict = "within" if median < BUDGET_S else "OVER"
    print(f"cold start to first frame ({mode}): median {median:.3f} s, first {times[0]:.3f} s, "
          f"best {min(times):.3f} s over {len(times)} runs; {verdict} the {BUDGET_S:.1f} s budget")
    return 0 if median < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
