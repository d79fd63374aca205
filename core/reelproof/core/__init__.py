"""Shared types and safe video I/O for every ReelProof package.

Light by design: importing it never loads torch.
"""

from reelproof.core.clip import Audio, Clip, FrameArray
from reelproof.core.errors import (
    ConfigError,
    InputError,
    KeyMaterialError,
    LimitExceededError,
    MediaDecodeError,
    ReelProofError,
    UnknownNameError,
    UnsupportedMediaError,
)
from reelproof.core.payload import Payload
from reelproof.core.registry import Registry
from reelproof.core.results import SCHEMA_VERSION, Result, to_jsonable

__version__ = "0.1.0"

__all__ = [
    "SCHEMA_VERSION",
    "Audio",
    "Clip",
    "ConfigError",
    "FrameArray",
    "InputError",
    "KeyMaterialError",
    "LimitExceededError",
    "MediaDecodeError",
    "Payload",
    "ReelProofError",
    "Registry",
    "Result",
    "UnknownNameError",
    "UnsupportedMediaError",
    "__version__",
    "to_jsonable",
]
