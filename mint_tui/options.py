"""The words of an audit, declared once: verdicts, face policies, detectors, devices, the identity
test's default alpha, and :class:`AuditOptions`.

Standard library only: the command line, the TUI (before torch is loaded) and the core library
all take these from here.
"""

from __future__ import annotations

from dataclasses import dataclass

#: What one row of an audit says about one face (or image).
VERDICTS = ("member", "non-member", "inconclusive", "no-face", "error")

#: Which faces of an image are scored, with what each means.
FACE_POLICIES = {
    "largest": "largest face of each image",
    "all": "every face found",
    "aligned": "images are aligned crops",
}
DEFAULT_FACE_POLICY = "largest"

#: What ``--detector`` accepts: a BlazeFace model (files in assets/detector), or ``auto``, which
#: asks the full-range model and a closer look for small faces (see mint_tui.faces.detect).
DETECTORS = {
    "auto": "short-range, full-range and a closer look for small faces",
    "short": "BlazeFace short-range (close-up faces)",
    "full": "BlazeFace full-range (small or far faces)",
}
DETECTOR_CHOICES = tuple(DETECTORS)
DEFAULT_DETECTOR = "auto"

#: Where the models run: auto is CUDA when torch finds a device, else the CPU ("cuda:N" also works).
DEVICES = ("auto", "cpu", "cuda")

DEFAULT_BATCH_SIZE = 32
#: Largest model batch (faces): rows stream out as each batch is scored.
MAX_BATCH_SIZE = 4096

#: Significance level of the identity-level test (the false-positive rate it bounds).
DEFAULT_ALPHA = 0.05


@dataclass
class AuditOptions:
    faces: str = DEFAULT_FACE_POLICY
    batch_size: int = DEFAULT_BATCH_SIZE
    device: str = "auto"
    detector: str = DEFAULT_DETECTOR
    workers: int = 0  # threads that read, decode, detect and align; 0: default_workers(device)
    keep_crops: bool = False  # attach the aligned crop to each row (the TUI shows it)
    threads: int = 0  # CPU threads of the models (torch intra-op); 0: leave torch's setting alone

    def __post_init__(self) -> None:
        if self.faces not in FACE_POLICIES:
            raise ValueError(f"faces must be one of {', '.join(FACE_POLICIES)}, not {self.faces!r}")
        if self.detector not in DETECTORS:
            raise ValueError(f"detector must be one of {', '.join(DETECTORS)}, not {self.detector!r}")
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:  # a huge batch would hold every face and stream nothing
            raise ValueError(f"batch size must be from 1 to {MAX_BATCH_SIZE}, not {self.batch_size}")
        if self.workers < 0:
            raise ValueError("workers must be at least 1 (or 0 for the default)")
        if self.threads < 0:
            raise ValueError("threads must be at least 1 (or 0 for torch's default)")
        if self.device not in DEVICES and not self.device.startswith("cuda:"):
            raise ValueError(f"device must be auto, cpu or cuda, not {self.device!r}")
