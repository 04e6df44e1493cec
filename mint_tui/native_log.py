"""Native libraries' log lines kept off the terminal: a filter on file descriptor 2.

MediaPipe (absl), LiteRT and libjpeg write straight to fd 2 ("WARNING: Logging before InitGoogle()
is written to STDERR", "W0000 ... inference_runner_litert.cc:1433] Input tensor memory is not
aligned ...", "INFO: Created TensorFlow Lite XNNPACK delegate", "Corrupt JPEG data: ..."), from
their own threads, at moments Python does not see (absl has no switch reachable from Python, and
its first warning depends on thread timing). Redirecting fd 2 around each call cannot work: fd 2 is
shared by every thread, and the CLI's progress bar and the TUI's screen are written to it too.

So :func:`install` moves Python's own standard error (``sys.stderr`` and ``sys.__stderr__``, which
Textual draws the screen on) to a duplicate of fd 2, and puts a pipe on fd 2 whose reader thread
forwards everything except those informational lines. Errors (absl ``E``/``F`` lines, OpenCV
assertions) still get through. Installing costs one pipe and one thread; nothing heavy is imported.
"""

from __future__ import annotations

import atexit
import io
import os
import re
import sys
import threading

#: Lines dropped: absl/glog INFO and WARNING records and their "before InitGoogle/InitializeLog" notices,
#: LiteRT/TFLite "INFO:" lines, libjpeg's warnings about files that still decode.
NATIVE_NOISE = re.compile(
    rb"(WARNING: Logging before InitGoogle\(\)|WARNING: All log messages before absl::InitializeLog\(\)"
    rb"|[IW]\d{4} [\d:.]+ +\d+ \S+:\d+\]"  # absl INFO and WARNING records (E and F get through)
    rb"|(?:INFO|WARNING|VERBOSE): "  # LiteRT / TensorFlow Lite (ERROR: gets through)
    rb"|Corrupt JPEG data: |Premature end of JPEG file|Warning: unknown JFIF revision|libpng warning: )")

# A line still being written is held back only while it could become noise (every noise line
# starts with one of these letters); anything else, such as a screen update, is passed on at once.
_NOISE_STARTS = b"WICPVl"

_lock = threading.Lock()
_state: dict[str, object] = {}


def _forward(read_fd: int, out_fd: int, close_out: bool) -> None:
    pending = b""
    while True:
        try:
            chunk = os.read(read_fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        try:
            pending = _pass_on(pending + chunk, out_fd)
        except Exception:  # never stop reading: a full pipe would block every writer to fd 2
            _write_all(out_fd, pending + chunk)
            pending = b""
    if pending and not NATIVE_NOISE.match(pending):
        _write_all(out_fd, pending)
    os.close(read_fd)
    if close_out:  # (a duplicate nobody else writes to: Python's stderr was left where it was)
        os.close(out_fd)


def _pass_on(data: bytes, out_fd: int) -> bytes:
    """Write what is not noise; return the start of a line that is still being written."""
    lines = data.split(b"\n")
    pending = lines.pop()
    out = [line + b"\n" for line in lines if not NATIVE_NOISE.match(line)]
    if pending and (pending[:1] not in _NOISE_STARTS or b"\x1b" in pending or len(pending) > 4096):
        out.append(pending)
        pending = b""
    if out:
        _write_all(out_fd, b"".join(out))
    return pending


def _write_all(fd: int, data: bytes) -> None:
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass


def _python_stderr(fd: int, old: io.TextIOBase) -> io.TextIOWrapper:
    stream = io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding=getattr(old, "encoding", None) or "utf-8",
                              errors=getattr(old, "errors", None) or "backslashreplace", line_buffering=True,
                              write_through=True)
    return stream


def installed() -> bool:
    """Whether fd 2 is (still) the filter's pipe."""
    pipe = _state.get("pipe")
    try:
        st = os.fstat(2)
    except OSError:
        return False
    return pipe is not None and (st.st_dev, st.st_ino) == pipe


def install() -> None:
    """Filter native log lines off fd 2 for the rest of the process (idempotent; re-installed if
    something, e.g. a test harness, has put another file on fd 2 since)."""
    with _lock:
        if installed():
            return
        try:
            os.fstat(2)
        except OSError:  # no standard error at all: nothing to protect
            return
        keep = os.dup(2)
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        st = os.fstat(2)
        _state["pipe"] = (st.st_dev, st.st_ino)
        handed = False
        for name in ("stderr", "__stderr__"):
            old = getattr(sys, name, None)
            try:
                uses_fd2 = old is not None and old.fileno() == 2
            except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
                uses_fd2 = False
            if uses_fd2:
                try:
                    old.flush()
                except (OSError, ValueError):
                    pass
                setattr(sys, name, _python_stderr(keep, old))
                handed = True
        thread = threading.Thread(target=_forward, args=(read_fd, keep, not handed), name="mint-native-log",
                                  daemon=True)
        thread.start()
        _state["thread"] = thread
        _state["keep"] = keep
        if not _state.get("atexit"):
            atexit.register(_drain)
            _state["atexit"] = True


def _drain() -> None:
    """At exit: put the original standard error back on fd 2 and let the reader pass on what is left."""
    with _lock:
        keep, thread = _state.get("keep"), _state.get("thread")
        if keep is None or not installed():
            return
        try:
            sys.stderr.flush()
        except (OSError, ValueError, AttributeError):
            pass
        os.dup2(keep, 2)  # closes the pipe's last write end: the reader sees the end
        _state.pop("pipe", None)
    if isinstance(thread, threading.Thread):
        thread.join(timeout=1.0)
