"""The typed result of each verification signal, as it travels from the leaves to the verdict.

Every signal (credentials, watermark, classifier) ends as a :class:`SignalResult` holding the
leaf package's own frozen result (``ProvenanceReport``, ``WatermarkReading``, ``DetectorScore``)
with a status and a reason. Where the service adds facts of its own beside a leaf's result, it
extends that result's dataclass (:class:`CredentialsReading`, :class:`MarkReading`), so the
verdict's JSON stays one flat object per signal and its schema follows from the types alone
(``reelproof.service.schema``).
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from reelproof.detector.score import DetectorScore
from reelproof.provenance.recover import RecoveredCredentials
from reelproof.provenance.verify import ProvenanceReport
from reelproof.watermark.reading import WatermarkReading

R = TypeVar("R")
D = TypeVar("D")


class SignalStatus(str, enum.Enum):
    """Whether a signal produced a reading."""

    OK = "ok"
    SKIPPED = "skipped"  # the caller turned it off
    UNAVAILABLE = "unavailable"  # its model, key or store is not installed
    ERROR = "error"  # it ran and failed on this input (the reason says why)
    NOT_APPLICABLE = "not_applicable"  # it does not judge this kind of input (the reason says why)


@dataclass(frozen=True)
class SignalResult(Generic[R]):
    """One signal's outcome.

    Attributes:
        status: ok / skipped / unavailable / error.
        reason: why it did not run or failed (``None`` when ok).
        seconds: time the signal took.
        reading: the leaf package's result; ``None`` unless ``status`` is ok.
    """

    status: SignalStatus
    reason: str | None = None
    seconds: float = 0.0
    reading: R | None = None

    @classmethod
    def ok(cls, reading: R, seconds: float) -> SignalResult[R]:
        return cls(SignalStatus.OK, None, seconds, reading)

    @classmethod
    def skipped(cls) -> SignalResult[R]:
        return cls(SignalStatus.SKIPPED, "turned off by the caller")

    @classmethod
    def failed(cls, status: SignalStatus, reason: str, seconds: float) -> SignalResult[R]:
        return cls(status, reason, seconds)

    def with_reading(self, reading: R) -> SignalResult[R]:
        """The same outcome carrying another (typically extended) reading."""
        return dataclasses.replace(self, reading=reading)


def extend(base: Any, cls: type[D], **added: Any) -> D:
    """Build ``cls`` (a dataclass extending ``type(base)``) from ``base``'s fields plus ``added``."""
    values = {f.name: getattr(base, f.name) for f in dataclasses.fields(base) if f.init}
    return cls(**values, **added)


@dataclass(frozen=True)
class CredentialsReading(ProvenanceReport):
    """The C2PA verification, with what the service adds.

    Attributes:
        dev_certificate: the signer is a ReelProof development certificate (trust it only in
            development).
    """

    dev_certificate: bool = False

    @classmethod
    def of(cls, report: ProvenanceReport) -> CredentialsReading:
        dev = report.signer is not None and report.signer.is_dev
        return extend(report, cls, dev_certificate=dev)


@dataclass(frozen=True)
class StoreMiss:
    """A manifest-store lookup that found nothing.

    Attributes:
        found: always false.
        error: why the store could not answer (``None`` when it answered "no such id").
    """

    found: Literal[False] = False
    error: str | None = None


StoreLookup = RecoveredCredentials | StoreMiss
"""What the manifest store answered for a watermark id."""


@dataclass(frozen=True)
class MarkReading(WatermarkReading):
    """The watermark reading, with the stored manifest its id led to.

    Attributes:
        recovered_manifest: the manifest stored under the watermark id, looked up when the clip's
            own credentials are missing (``None`` when no lookup ran).
    """

    recovered_manifest: StoreLookup | None = None

    @classmethod
    def of(cls, reading: WatermarkReading, lookup: StoreLookup | None = None) -> MarkReading:
        return extend(reading, cls, recovered_manifest=lookup)


ProvenanceResult = SignalResult[CredentialsReading]
WatermarkResult = SignalResult[MarkReading]
DetectorResult = SignalResult[DetectorScore]

__all__ = [
    "CredentialsReading",
    "DetectorResult",
    "MarkReading",
    "ProvenanceResult",
    "SignalResult",
    "SignalStatus",
    "StoreLookup",
    "StoreMiss",
    "WatermarkResult",
    "extend",
]
