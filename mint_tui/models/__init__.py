"""Models: the audited face-recognition zoo, activation taps and MINT classifiers."""

from .audited import (
    ARCHITECTURES,
    DEFAULT_TAPS,
    ArchSpec,
    CheckpointError,
    CheckpointMismatchError,
    UnknownArchitectureError,
    UnsafeCheckpointError,
    build_audited,
    import_checkpoint,
    load_state_dict_strict,
    load_weights,
    read_state_dict,
    save_weights,
    validate_config,
)
from .mint import CNNMINT, MINT_KINDS, VanillaMINT, build_mint, mint_config_defaults
from .taps import EMBEDDING, TapExtractor, tap_shapes, valid_tap_names

__all__ = [
    "ARCHITECTURES",
    "CNNMINT",
    "DEFAULT_TAPS",
    "EMBEDDING",
    "MINT_KINDS",
    "ArchSpec",
    "CheckpointError",
    "CheckpointMismatchError",
    "TapExtractor",
    "UnknownArchitectureError",
    "UnsafeCheckpointError",
    "VanillaMINT",
    "build_audited",
    "build_mint",
    "import_checkpoint",
    "load_state_dict_strict",
    "load_weights",
    "mint_config_defaults",
    "read_state_dict",
    "save_weights",
    "tap_shapes",
    "valid_tap_names",
]
