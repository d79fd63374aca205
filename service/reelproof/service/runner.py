"""Running the signals on one clip: the hash, credentials, watermark (with the manifest-store
lookup) and classifier, side by side on ``concurrent.futures`` futures (one daemon thread each)
within one wall-clock budget.

PyAV, the c2pa library, hashlib and torch release the GIL, so threads overlap their decoding on
two cores. Dependencies between signals are futures: the store lookup runs in the watermark's
thread once the credentials' future has answered (it needs their state), and it reuses the
frames the classifier's thread decoded for the fingerprint. With ``parallel`` off the same jobs
run one after another in the calling thread, for timing.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from reelproof.core.errors import ReelProofError
from reelproof.core.hashing import sha256_file
from reelproof.core.io import FrameChunk, MediaInfo, MediaLimits, StillInfo
from reelproof.service.resources import Resources, ResourceUnavailableError
from reelproof.service.signals import (
    CredentialsReading,
    DetectorResult,
    MarkReading,
    ProvenanceResult,
    SignalResult,
    SignalStatus,
    StoreLookup,
    StoreMiss,
    WatermarkResult,
)

if TYPE_CHECKING:
    from reelproof.detector.score import DetectorScore
    from reelproof.provenance import Fingerprint
    from reelproof.service.pipeline import VerifyOptions
    from reelproof.service.verdict import StageState
    from reelproof.watermark.reading import WatermarkReading

R = TypeVar("R")
log = logging.getLogger("reelproof.service")

ProgressFn = Callable[[str, str], None]
"""``progress(stage, state)`` with state ``started`` or ``done``; called from worker threads."""

STAGES = ("probe", "hash", "provenance", "watermark", "store_lookup", "detector", "fusion")
STILL_DETECTOR = (
    "a still image: the classifier is built and measured for video only, so it does not judge "
    "stills"
)


class Stopwatch:
    """Times stages from several threads and reports their progress."""

    def __init__(self, progress: ProgressFn | None) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self._seconds: dict[str, float] = {}
        self._states: dict[str, StageState] = {}

    def run(self, stage: str, fn: Callable[[], R]) -> R:
        """Run ``fn`` as ``stage``: timed, its progress reported, its failure recorded."""
        if self._progress is not None:
            self._progress(stage, "started")
        start = time.perf_counter()
        state: StageState = "error"
        try:
            value = fn()
            state = "ok"
            return value
        finally:
            self._record(stage, time.perf_counter() - start, state)
            if self._progress is not None:
                self._progress(stage, "done")

    def skip(self, stage: str) -> None:
        self._record(stage, 0.0, "skipped")

    def _record(self, stage: str, seconds: float, state: StageState) -> None:
        with self._lock:
            self._seconds[stage] = seconds
            self._states[stage] = state

    def timings(self) -> dict[str, float]:
        """Seconds per stage, in pipeline order (rounded to 0.1 ms)."""
        return {s: round(self._seconds[s], 4) for s in STAGES if s in self._seconds}

    def states(self) -> dict[str, StageState]:
        return {s: self._states[s] for s in STAGES if s in self._states}


@dataclass(frozen=True)
class SignalOutcomes:
    """What the signals found on one clip, ready for the fusion."""

    sha256: str
    provenance: ProvenanceResult
    watermark: WatermarkResult
    detector: DetectorResult


def run_signal(fn: Callable[[], R]) -> SignalResult[R]:
    """Run one signal, turning every way it can fail into a status with a reason."""
    start = time.perf_counter()

    def failed(status: SignalStatus, reason: str) -> SignalResult[R]:
        return SignalResult.failed(status, reason, time.perf_counter() - start)

    try:
        reading = fn()
    except ResourceUnavailableError as err:
        return failed(SignalStatus.UNAVAILABLE, str(err))
    except ImportError as err:
        return failed(SignalStatus.UNAVAILABLE, f"not installed ({err})")
    except ReelProofError as err:
        return failed(SignalStatus.ERROR, str(err))
    except Exception as err:  # a bug in one signal must not hide the other two
        log.exception("signal failed")
        return failed(SignalStatus.ERROR, f"internal error: {type(err).__name__}: {err}")
    return SignalResult.ok(reading, time.perf_counter() - start)


class SignalRunner:
    """Runs the enabled signals on a clip with a verifier's resources."""

    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.options: VerifyOptions = resources.options

    # -- one clip ----------------------------------------------------------------------------
    def run(self, path: Path, media: MediaInfo | StillInfo, watch: Stopwatch) -> SignalOutcomes:
        opts = self.options
        still = isinstance(media, StillInfo)
        shared = SharedSamples(
            path, enabled=isinstance(media, MediaInfo) and self._share_frames(media)
        )
        pool: Executor = DaemonThreadExecutor() if opts.parallel else InlineExecutor()
        budget = Budget(opts.signal_timeout_s)
        digest = pool.submit(watch.run, "hash", lambda: sha256_file(path))
        prov: Future[ProvenanceResult] = (
            pool.submit(watch.run, "provenance", lambda: self.provenance(path))
            if opts.provenance
            else _done(SignalResult.skipped())
        )
        wm: Future[WatermarkResult] = (
            pool.submit(self._watermark_then_lookup, path, prov, watch, shared, budget, still)
            if opts.watermark
            else _done(SignalResult.skipped())
        )
        det: Future[DetectorResult]
        if not opts.detector:
            det = _done(SignalResult.skipped())
        elif still:
            det = _done(SignalResult.failed(SignalStatus.NOT_APPLICABLE, STILL_DETECTOR, 0.0))
        else:
            video = media if isinstance(media, MediaInfo) else None
            det = pool.submit(watch.run, "detector", lambda: self.detector(path, shared, video))
        outcomes = SignalOutcomes(
            digest.result(),  # reading the bytes once is bounded by the file-size limit
            budget.wait(prov),
            budget.wait(wm),
            budget.wait(det),
        )
        for name, result in (
            ("provenance", outcomes.provenance),
            ("watermark", outcomes.watermark),
            ("detector", outcomes.detector),
        ):
            if result.status is SignalStatus.SKIPPED:
                watch.skip(name)
        return outcomes

    def run_credentials_only(
        self, path: Path, watch: Stopwatch, damage: ReelProofError
    ) -> SignalOutcomes:
        """The signals of a file that cannot be decoded: its bytes' hash and its credentials.

        Raises:
            ReelProofError: ``damage`` again, when the file carries no credentials to judge.
        """
        provenance = (
            watch.run("provenance", lambda: self.provenance(path))
            if self.options.provenance
            else SignalResult.skipped()
        )
        if provenance.reading is None or provenance.reading.state == "absent":
            raise damage
        digest = watch.run("hash", lambda: sha256_file(path))
        reason = f"the file could not be decoded ({damage.message})"
        return SignalOutcomes(
            digest,
            provenance,
            SignalResult.failed(SignalStatus.ERROR, reason, 0.0),
            SignalResult.failed(SignalStatus.ERROR, reason, 0.0),
        )

    def _share_frames(self, media: MediaInfo) -> bool:
        """Decode the classifier's and the fingerprint's frames in one pass when both run side by
        side and the fingerprint's frame window covers the clip."""
        opts = self.options
        both = opts.parallel and opts.detector and opts.watermark and opts.store_lookup
        return both and 0 < media.frames <= _fingerprint_max_frames()

    # -- the signals -------------------------------------------------------------------------
    def provenance(self, path: Path) -> ProvenanceResult:
        """Credentials only, in the calling thread (also the fast path of ``/v1/c2pa/verify``)."""

        def check() -> CredentialsReading:
            from reelproof.provenance import verify

            return CredentialsReading.of(verify(path, trust=self.resources.trust.get()))

        return run_signal(check)

    def watermark(self, path: Path, still: bool = False) -> SignalResult[WatermarkReading]:
        def detect() -> WatermarkReading:
            from reelproof.watermark import detect_file, detect_frames

            keyring = self.resources.keyring.get()
            if still:
                from reelproof.core.io import decode_still

                return detect_frames(decode_still(path, self.resources.limits), keyring)
            return detect_file(path, keyring=keyring, max_frames=self.options.watermark_max_frames)

        return run_signal(detect)

    def detector(
        self, path: Path, shared: SharedSamples | None = None, media: MediaInfo | None = None
    ) -> DetectorResult:
        def score() -> DetectorScore:
            budget = self.options.detector_max_frames
            model = None
            try:
                model = self.resources.detector.get()
                faces = self.options.faces and model.has_face_head
                if shared is None or not shared.enabled or media is None:
                    return model.score_file(path, max_frames=budget, faces=faces)
                chunk = shared.sample(budget, self.resources.limits)
            finally:
                if shared is not None:
                    shared.ready.set()  # the lookup must never wait for a sampling that failed
            # The same frames and file facts ``score_file`` uses (``sample_frame_sets`` serves
            # each sampling exactly as ``sample_frames`` alone would): the same score.
            from reelproof.detector.model import bits_per_pixel

            assert chunk.fps is not None  # sampled from a probed stream: its rate is known
            limits = self.resources.limits
            return model.score_frames(
                chunk.frames,
                float(chunk.fps),
                chunk.timestamps,
                bits_per_pixel=bits_per_pixel(media),
                faces=faces,
                temporal_of=lambda: model.temporal_vector(path, limits),
            )

        return run_signal(score)

    # -- the watermark's id -> the stored manifest -------------------------------------------
    def _watermark_then_lookup(
        self,
        path: Path,
        provenance: Future[ProvenanceResult],
        watch: Stopwatch,
        shared: SharedSamples,
        budget: Budget,
        still: bool = False,
    ) -> WatermarkResult:
        plain = watch.run("watermark", lambda: self.watermark(path, still))
        reading = plain.reading
        if reading is None:
            return SignalResult(plain.status, plain.reason, plain.seconds)
        lookup: StoreLookup | None = None
        # Credentials that ran out of time leave their state unknown: no lookup then.
        if self._wants_lookup(reading, budget.wait(provenance)):
            look_up = functools.partial(self._look_up, path, reading, shared)
            lookup = watch.run("store_lookup", look_up)
        return SignalResult(
            plain.status, plain.reason, plain.seconds, MarkReading.of(reading, lookup)
        )

    def _wants_lookup(self, reading: WatermarkReading, provenance: ProvenanceResult) -> bool:
        """Look the id up when the mark names one and the clip's own credentials are missing."""
        state = provenance.reading.state if provenance.reading is not None else None
        return (
            self.options.store_lookup
            and reading.detected
            and bool(reading.payload)
            and state in (None, "absent")
        )

    def _look_up(self, path: Path, reading: WatermarkReading, shared: SharedSamples) -> StoreLookup:
        from reelproof.provenance import recover_from_store

        assert reading.payload is not None  # ``_wants_lookup`` asked for one
        try:
            store = self.resources.store.get()
            trust = self.resources.trust.get()
        except ResourceUnavailableError as err:
            return StoreMiss(error=f"manifest store unavailable: {err}")
        try:
            found = recover_from_store(
                path,
                reading.payload,
                store,
                trust,
                fingerprint=shared.fingerprint if shared.enabled else None,
            )
        except ReelProofError as err:
            return StoreMiss(error=str(err))
        return StoreMiss() if found is None else found


class SharedSamples:
    """Frames decoded once for the classifier and the fingerprint (see ``SignalRunner.run``)."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self.path = path
        self.enabled = enabled
        self.ready = threading.Event()
        self._fingerprint_frames: FrameChunk | None = None  # (32, H, W, 3) uint8, until hashed
        if not enabled:
            self.ready.set()

    def sample(self, budget: int, limits: MediaLimits) -> FrameChunk:
        """The classifier's ``budget`` frames; keeps the fingerprint's frames for the lookup."""
        from reelproof.core.io import sample_frame_sets
        from reelproof.provenance import FINGERPRINT_SAMPLES

        chunk, self._fingerprint_frames = sample_frame_sets(
            self.path, (budget, FINGERPRINT_SAMPLES), limits
        )
        return chunk

    def fingerprint(self) -> Fingerprint:
        """The clip's fingerprint, as ``fingerprint_file`` computes it (waits for the frames)."""
        from reelproof.provenance import fingerprint_file, fingerprint_frames

        self.ready.wait()
        chunk, self._fingerprint_frames = self._fingerprint_frames, None
        if chunk is None:  # not shared, or the sampling failed: read the file itself
            return fingerprint_file(self.path)
        return fingerprint_frames(chunk.frames, chunk.timestamps, max_samples=len(chunk))


class Budget:
    """The signals' shared wall-clock budget: waiting past it gives a timed-out result."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def wait(self, future: Future[SignalResult[R]]) -> SignalResult[R]:
        try:
            return future.result(timeout=max(0.0, self.deadline - time.monotonic()))
        except TimeoutError:
            reason = (
                f"did not finish within {self.seconds:g} s (the verdict uses the other signals)"
            )
            return SignalResult.failed(SignalStatus.ERROR, reason, self.seconds)


class DaemonThreadExecutor(Executor):
    """One daemon thread per call: a signal that overruns its budget is abandoned, and a daemon
    thread cannot hold the process open at exit (a pool's threads are joined)."""

    def submit(self, fn: Callable[..., R], /, *args: object, **kwargs: object) -> Future[R]:
        future: Future[R] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as err:
                future.set_exception(err)

        threading.Thread(target=run, name="verify-signal", daemon=True).start()
        return future


class InlineExecutor(Executor):
    """Runs each submitted call at once in the calling thread (the sequential mode)."""

    def submit(self, fn: Callable[..., R], /, *args: object, **kwargs: object) -> Future[R]:
        future: Future[R] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:
            future.set_exception(err)
        return future


def _done(value: R) -> Future[R]:
    future: Future[R] = Future()
    future.set_result(value)
    return future


def _fingerprint_max_frames() -> int:
    from reelproof.provenance import FINGERPRINT_MAX_FRAMES

    return int(FINGERPRINT_MAX_FRAMES)
