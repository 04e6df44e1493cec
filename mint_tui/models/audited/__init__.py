"""Audited face-recognition models: architectures, registry and weight files."""

from .checkpoint import (
    PLAIN,
    CheckpointLayout,
    CheckpointError,
    CheckpointMismatchError,
    UnsafeCheckpointError,
    load_state_dict_strict,
    load_weights,
    read_state_dict,
    save_weights,
)
from .importer import ImportedCheckpoint, LayoutMismatchError, import_checkpoint, import_checkpoint_report
from .iresnet import IResNet
from .mobilefacenet import MobileFaceNet
from .zoo import (
    ARCHITECTURES,
    DEFAULT_TAPS,
    ONNX,
    ONNX_PREPROCESS,
    ArchSpec,
    UnknownArchitectureError,
    build_audited,
    build_loaded,
    validate_config,
)

__all__ = [
    "ONNX",
    "ONNX_PREPROCESS",
    "PLAIN",
    "CheckpointLayout",
    "ImportedCheckpoint",
    "LayoutMismatchError",
    "build_loaded",
    "import_checkpoint_report",
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
