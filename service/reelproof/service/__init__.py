"""reelproof.service: the verification pipeline, the newsroom report, the CLI and the API.

``verify_clip(path, options)`` fuses C2PA credentials, the ReelProof watermark and the
classifier into one explained :class:`Verdict`; ``Verifier`` keeps the models loaded across
clips. See ``docs/service.md``.
"""

from reelproof.service.pipeline import (
    SignalResult,
    StageTiming,
    Verdict,
    Verifier,
    VerifyOptions,
    verify_clip,
)
from reelproof.service.verdict import Evidence, SignalStatus, VerdictLabel

__all__ = [
    "Evidence",
    "SignalResult",
    "SignalStatus",
    "StageTiming",
    "Verdict",
    "VerdictLabel",
    "Verifier",
    "VerifyOptions",
    "verify_clip",
]
