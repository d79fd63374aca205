"""reelproof.service: the verification pipeline, the newsroom report, the CLI and the API.

``verify_clip(path, options)`` fuses C2PA credentials, the ReelProof watermark and the
classifier into one explained :class:`Verdict`; ``Verifier`` keeps the models loaded across
clips. See ``docs/service.md``.

The names below import their modules on first use (PEP 562), so the CLI's light commands
(``reelproof info``, ``--help``) start without loading the C2PA library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reelproof.core.lazy import lazy_getattr

if TYPE_CHECKING:
    from reelproof.service.pipeline import Verifier, VerifyOptions, verify_clip
    from reelproof.service.signals import SignalResult, SignalStatus
    from reelproof.service.verdict import Evidence, Verdict, VerdictLabel

_LAZY = {
    "Verifier": "pipeline",
    "VerifyOptions": "pipeline",
    "verify_clip": "pipeline",
    "SignalResult": "signals",
    "SignalStatus": "signals",
    "Evidence": "verdict",
    "Verdict": "verdict",
    "VerdictLabel": "verdict",
}

__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "Evidence",
    "SignalResult",
    "SignalStatus",
    "Verdict",
    "VerdictLabel",
    "Verifier",
    "VerifyOptions",
    "verify_clip",
]
