"""``verify_clip``: probe -> signals (hash, credentials, watermark + store, classifier) -> fusion.

The probe runs first and alone: it enforces the media limits before anything decodes. The
signals then run side by side (``reelproof.service.runner``) with the resources a
:class:`Verifier` loaded once (``reelproof.service.resources``), and the fusion rules
(``reelproof.service.verdict``) turn their typed results into one verdict. Every signal can be
turned off; a signal that could not run is reported with its reason, never silently dropped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reelproof.core.errors import MediaDecodeError
from reelproof.core.io import MediaInfo, MediaLimits, StillInfo, resolve_input_path
from reelproof.service.facts import SignalFacts
from reelproof.service.resources import Resources, SignalInfo
from reelproof.service.runner import STAGES, ProgressFn, SignalRunner, Stopwatch
from reelproof.service.signals import ProvenanceResult
from reelproof.service.verdict import Verdict, fuse


@dataclass(frozen=True)
class VerifyOptions:
    """What ``verify_clip`` runs and with which resources.

    Attributes:
        provenance: verify C2PA credentials.
        watermark: look for the ReelProof watermark.
        detector: run the synthetic-video classifier.
        store_lookup: when the watermark is found but the credentials are missing, look the id up
            in the manifest store and verify the recovered manifest against the clip.
        manifest_store: the manifest store: a SQLite file, or a database URL
            (``postgresql+psycopg://...``); ``None`` uses ``REELPROOF_MANIFEST_STORE``, else
            ``$REELPROOF_HOME/manifests.sqlite``.
        trust_anchors: PEM file of trusted root certificates; ``None`` trusts no root (intact
            credentials then read "valid, untrusted"), except with ``REELPROOF_ENV=dev``, where
            the local development PKI (``reelproof keys init-dev``) is trusted.
        detector_model: classifier folder; ``None`` uses the packaged default.
        watermark_max_frames: cap on frames the watermark detector reads. It stops early once
            the evidence is decisive (a marked clip takes a few frames); an unmarked clip costs
            the whole budget, so the cap sets the worst-case time (64: about 2.5 s of video).
        detector_max_frames: frames the classifier samples across the clip.
        max_pixels / max_frames / max_duration_s / max_bytes: probe limits (``None``: defaults).
        parallel: run the independent checks in threads (off: one after another, for timing).
        faces: the classifier's face mode (find, track and score each face) when the loaded
            classifier has a face head.
        signal_timeout_s: wall-clock budget of the signals (in parallel mode): one still running
            then is reported as an error ("did not finish within ...") and abandoned, and the
            verdict is made from the others.
    """

    provenance: bool = True
    watermark: bool = True
    detector: bool = True
    store_lookup: bool = True
    manifest_store: Path | str | None = None
    trust_anchors: Path | None = None
    detector_model: Path | None = None
    watermark_max_frames: int = 64
    detector_max_frames: int = 16
    max_pixels: int | None = None
    max_frames: int | None = None
    max_duration_s: float | None = None
    max_bytes: int | None = None
    parallel: bool = True
    faces: bool = True
    signal_timeout_s: float = 300.0


class Verifier:
    """Verifies clips with resources (trust list, watermark keys, classifier, manifest store)
    loaded once.

    Build one per process and call :meth:`verify` per clip: the classifier loads once. Resources
    load lazily on first use (or all at once with :meth:`load`); one that fails to load makes its
    signal "unavailable" with the reason, and the other signals still run.
    """

    def __init__(self, options: VerifyOptions | None = None) -> None:
        self.options = options or VerifyOptions()
        self.resources = Resources(self.options)
        self.runner = SignalRunner(self.resources)

    def _probe(self, path: Path) -> MediaInfo | StillInfo:
        """The header of a video, or of a still image (told apart by the bytes)."""
        from reelproof.core.io import probe, probe_still, sniff_still_file

        if sniff_still_file(path) is not None:
            return probe_still(path, self.resources.limits)
        return probe(path, self.resources.limits)

    def limits(self) -> MediaLimits:
        return self.resources.limits

    def load(self) -> dict[str, str]:
        """Load every enabled resource now; returns signal -> error for those that failed."""
        return self.resources.load()

    def versions(self) -> dict[str, str]:
        return self.resources.versions()

    def describe_models(self) -> dict[str, SignalInfo]:
        return self.resources.describe()

    def provenance_only(self, path: Path) -> ProvenanceResult:
        """Credentials only, in the calling thread (the fast path of ``POST /v1/c2pa/verify``)."""
        return self.runner.provenance(path)

    def verify(self, path: Path | str, progress: ProgressFn | None = None) -> Verdict:
        """Verify one clip. See the module docstring for the order of the checks.

        Args:
            path: the video file.
            progress: optional ``progress(stage, state)`` callback.

        Returns:
            The fused verdict with every signal's typed result.

        Raises:
            InputError: the file is missing, unsupported or over a limit, or damaged and without
                credentials (raised by the probe, before any decoding).
        """
        name = Path(path).name  # as the caller named it (symlinks resolve below)
        # Missing, not a regular file (a FIFO would block), unreadable or over the size limit.
        path = resolve_input_path(path, self.resources.limits)
        started, cpu_started = time.perf_counter(), time.process_time()
        watch = Stopwatch(progress)
        media: MediaInfo | StillInfo | None = None
        try:
            media = watch.run("probe", lambda: self._probe(path))
        except MediaDecodeError as err:
            # A damaged file still gets a verdict from the credentials it carries (a truncated
            # signed MP4 fails its hash binding: that is the finding).
            found = self.runner.run_credentials_only(path, watch, err)
        else:
            found = self.runner.run(path, media, watch)
        facts = SignalFacts.of(found.provenance, found.watermark, found.detector)
        fusion = watch.run("fusion", lambda: fuse(facts))
        return Verdict(
            verdict=fusion.verdict,
            summary=fusion.summary,
            ai_generated=fusion.ai_generated,
            synthetic_likelihood=fusion.synthetic_likelihood,
            evidence=fusion.evidence,
            filename=name,
            sha256=found.sha256,
            size_bytes=path.stat().st_size,
            media=media,
            provenance=found.provenance,
            watermark=found.watermark,
            detector=found.detector,
            timings=watch.timings(),
            stage_status=watch.states(),
            versions=self.versions(),
            analyzed_at=datetime.now(UTC).isoformat(timespec="seconds"),
            total_seconds=round(time.perf_counter() - started, 4),
            cpu_seconds=round(time.process_time() - cpu_started, 4),
        )


def verify_clip(
    path: Path | str, options: VerifyOptions | None = None, progress: ProgressFn | None = None
) -> Verdict:
    """Verify one clip with a fresh :class:`Verifier` (use a ``Verifier`` to verify many).

    Args:
        path: the video file.
        options: which signals to run and with which resources.
        progress: optional ``progress(stage, state)`` callback.

    Returns:
        The fused :class:`Verdict`.
    """
    return Verifier(options).verify(path, progress)


__all__ = ["STAGES", "ProgressFn", "Verifier", "VerifyOptions", "verify_clip"]
