"""Audited face-recognition models: architectures, registry and weight files."""

from .checkpoint import (
    CheckpointError,
    CheckpointMismatchError,
    UnsafeCheckpointError,
    import_checkpoint,
    load_state_dict_strict,
    load_weights,
    read_state_dict,
    save_weights,
)
from .iresnet import IResNet
from .mobilefacenet import MobileFaceNet
from .zoo import (
    ARCHITECTURES,
    DEFAULT_TAPS,
    ArchSpec,
    UnknownArchitectureError,
    build_audited,
    validate_config,
)

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_TAPS",
    "ArchSpec",
    "CheckpointError",
    "CheckpointMismatchError",
    "IResNet",
    "MobileFaceNet",
    "UnknownArchitectureError",
    "UnsafeCheckpointError",
    "build_audited",
    "import_checkpoint",
    "load_state_dict_strict",
    "load_weights",
    "read_state_dict",
    "save_weights",
    "validate_config",
]
