"""``verify_clip``: probe -> credentials -> watermark -> manifest store -> classifier -> verdict.

The probe runs first and alone: it enforces the media limits before anything decodes. The
independent checks (hash, credentials, watermark, classifier) then run side by side in threads:
PyAV, the c2pa library, hashlib and torch release the GIL, so two cores overlap their decoding.
Every signal can be turned off; a signal that could not run is reported with its reason, never
silently dropped.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from reelproof.core.errors import InputError, ReelProofError
from reelproof.core.hashing import sha256_file
from reelproof.core.results import Result, to_jsonable
from reelproof.service.verdict import (
    DetectorFacts,
    Evidence,
    ProvenanceFacts,
    RecoveryFacts,
    SignalFacts,
    SignalStatus,
    VerdictLabel,
    WatermarkFacts,
    fuse,
    schema_tag,
)

T = TypeVar("T")
log = logging.getLogger("reelproof.service")
ProgressFn = Callable[[str, str], None]
"""``progress(stage, state)`` with state ``started`` or ``done``; called from worker threads."""

STAGES = ("probe", "hash", "provenance", "watermark", "store_lookup", "detector", "fusion")


@dataclass(frozen=True)
class VerifyOptions:
    """What ``verify_clip`` runs and with which resources.

    Attributes:
        provenance: verify C2PA credentials.
        watermark: look for the ReelProof watermark.
        detector: run the synthetic-video classifier.
        store_lookup: when the watermark is found but the credentials are missing, look the id up
            in the manifest store and verify the recovered manifest against the clip.
        manifest_store: SQLite manifest store; ``None`` uses ``$REELPROOF_HOME/manifests.sqlite``.
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
    """

    provenance: bool = True
    watermark: bool = True
    detector: bool = True
    store_lookup: bool = True
    manifest_store: Path | None = None
    trust_anchors: Path | None = None
    detector_model: Path | None = None
    watermark_max_frames: int = 64
    detector_max_frames: int = 16
    max_pixels: int | None = None
    max_frames: int | None = None
    max_duration_s: float | None = None
    max_bytes: int | None = None
    parallel: bool = True


@dataclass(frozen=True)
class StageTiming(Result):
    """Wall-clock seconds one stage took (stages run in parallel may overlap)."""

    schema: ClassVar[str] = "stage_timing"
    stage: str
    seconds: float
    status: str = "ok"


@dataclass(frozen=True)
class SignalResult(Result):
    """One signal's outcome: status, failure reason, and the raw result of its package.

    Attributes:
        status: ok / skipped / unavailable / error.
        reason: why it did not run or failed (``None`` when ok).
        seconds: time the signal took.
        report: the package's own result as JSON (``ProvenanceReport``, ``WatermarkReading``,
            ``DetectorScore``); empty unless ok.
        extra: service-side additions (the recovered manifest for the watermark).
    """

    schema: ClassVar[str] = "signal"
    status: SignalStatus
    reason: str | None = None
    seconds: float = 0.0
    report: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self, required: tuple[str, ...]) -> dict[str, Any]:
        """Flat JSON: the report's fields beside ``status``; ``required`` keys always present."""
        out: dict[str, Any] = {key: None for key in required}
        # ``path`` is where this process saw the file: a server path is nobody's business.
        out.update({k: v for k, v in self.report.items() if k not in ("schema", "path")})
        if "schema" in self.report:
            out["report_schema"] = self.report["schema"]
        out.update(self.extra)
        out.update({"status": self.status.value, "reason": self.reason, "seconds": self.seconds})
        return out


@dataclass(frozen=True)
class Verdict(Result):
    """The answer of ``verify_clip``: the fused verdict, its evidence and every raw signal.

    ``to_dict()`` gives the documented JSON: ``verdict``, ``summary``, ``sha256``,
    ``provenance.state``, ``watermark.detected``, ``watermark.payload``, ``detector.p_synthetic``,
    ``evidence``, ``timings`` and ``versions`` among others.
    """

    schema: ClassVar[str] = "verdict"
    verdict: VerdictLabel
    summary: str
    ai_generated: bool | None
    synthetic_likelihood: str
    evidence: tuple[Evidence, ...]
    filename: str
    sha256: str
    size_bytes: int
    media: dict[str, Any]
    provenance: SignalResult
    watermark: SignalResult
    detector: SignalResult
    timings: tuple[StageTiming, ...]
    versions: dict[str, str]
    analyzed_at: str
    total_seconds: float
    cpu_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": schema_tag(self.schema),
            "verdict": self.verdict.value,
            "summary": self.summary,
            "ai_generated": self.ai_generated,
            "synthetic_likelihood": self.synthetic_likelihood,
            "evidence": [to_jsonable(e) for e in self.evidence],
            "filename": self.filename,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "media": self.media,
            "provenance": self.provenance.body(("state", "codes", "signer")),
            "watermark": self.watermark.body(("detected", "p_value", "payload", "key_id")),
            "detector": self.detector.body(("p_synthetic", "label")),
            "timings": {t.stage: round(t.seconds, 4) for t in self.timings},
            "stage_status": {t.stage: t.status for t in self.timings},
            "versions": self.versions,
            "analyzed_at": self.analyzed_at,
            "total_seconds": round(self.total_seconds, 4),
            "cpu_seconds": round(self.cpu_seconds, 4),
        }


class _Stopwatch:
    """Collects stage timings from several threads and forwards progress."""

    def __init__(self, progress: ProgressFn | None) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self.timings: dict[str, StageTiming] = {}

    def run(self, stage: str, fn: Callable[[], T]) -> T:
        if self._progress is not None:
            self._progress(stage, "started")
        start = time.perf_counter()
        status = "error"
        try:
            value = fn()
            status = "ok"
            return value
        finally:
            with self._lock:
                self.timings[stage] = StageTiming(stage, time.perf_counter() - start, status)
            if self._progress is not None:
                self._progress(stage, "done")

    def skip(self, stage: str, status: str) -> None:
        with self._lock:
            self.timings[stage] = StageTiming(stage, 0.0, status)

    def ordered(self) -> tuple[StageTiming, ...]:
        return tuple(self.timings[s] for s in STAGES if s in self.timings)


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


class Verifier:
    """Holds the loaded resources (trust list, watermark keys, classifier, manifest store).

    Build one per process and call :meth:`verify` per clip: the classifier loads once. Resources
    load lazily on first use (or all at once with :meth:`load`); one that fails to load makes its
    signal "unavailable" with the reason, and the other signals still run.
    """

    def __init__(self, options: VerifyOptions | None = None) -> None:
        self.options = options or VerifyOptions()
        self._lock = threading.Lock()
        self._loaded: dict[str, Any] = {}
        self._load_errors: dict[str, str] = {}

    # -- resources ---------------------------------------------------------------------------
    def _resource(self, name: str, loader: Callable[[], Any]) -> Any:
        with self._lock:
            if name in self._loaded:
                return self._loaded[name]
            if name in self._load_errors:
                raise _UnavailableError(self._load_errors[name])
            try:
                value = loader()
            except (ReelProofError, ImportError, OSError) as err:
                self._load_errors[name] = str(err)
                raise _UnavailableError(str(err)) from err
            self._loaded[name] = value
            return value

    def limits(self) -> Any:
        from reelproof.core.io import DEFAULT_LIMITS

        overrides = {
            "max_pixels_per_frame": self.options.max_pixels,
            "max_frames": self.options.max_frames,
            "max_duration_s": self.options.max_duration_s,
            "max_file_bytes": self.options.max_bytes,
        }
        fields = set(getattr(DEFAULT_LIMITS, "__dataclass_fields__", {}))
        changes = {k: v for k, v in overrides.items() if v is not None and k in fields}
        if not changes:
            return DEFAULT_LIMITS
        import dataclasses

        return dataclasses.replace(DEFAULT_LIMITS, **changes)  # type: ignore[arg-type]

    def trust(self) -> Any:
        def load() -> Any:
            from reelproof.provenance import TrustConfig

            if self.options.trust_anchors is not None:
                return TrustConfig.from_files(self.options.trust_anchors)
            if os.environ.get("REELPROOF_ENV", "").lower() == "dev":
                return TrustConfig.dev()  # trust the local throwaway PKI: development only
            return TrustConfig()  # no anchors: intact credentials read "valid, untrusted"

        return self._resource("trust", load)

    def keyring(self) -> Any:
        def load() -> Any:
            from reelproof.watermark import Keyring

            return Keyring.default()

        return self._resource("keyring", load)

    def detector_model(self) -> Any:
        def load() -> Any:
            from reelproof.detector import load_detector

            return load_detector(self.options.detector_model)

        return self._resource("detector", load)

    def open_store(self) -> Any:
        """The manifest store, raising ``ConfigError`` when it cannot be opened."""
        try:
            return self.store()
        except _UnavailableError as err:
            from reelproof.core.errors import ConfigError

            raise ConfigError(f"the manifest store is unavailable: {err}") from err

    def store(self) -> Any:
        def load() -> Any:
            from reelproof.core.paths import manifest_store_path
            from reelproof.provenance import SqliteManifestStore

            return SqliteManifestStore(self.options.manifest_store or manifest_store_path())

        return self._resource("store", load)

    def load(self) -> dict[str, str]:
        """Load every enabled resource now; returns name -> error for those that failed."""
        wanted: list[tuple[bool, Callable[[], Any]]] = [
            (self.options.provenance, self.trust),
            (self.options.watermark, self.keyring),
            (self.options.detector, self.detector_model),
            (self.options.store_lookup, self.store),
        ]
        for enabled, getter in wanted:
            if enabled:
                with contextlib.suppress(_UnavailableError):
                    getter()
        return dict(self._load_errors)

    def versions(self) -> dict[str, str]:
        """Tool and model versions recorded in every verdict."""
        out = {
            "reelproof": _package_version("reelproof"),
            "c2pa-python": _package_version("c2pa-python"),
            "av": _package_version("av"),
        }
        det = self._loaded.get("detector")
        if det is not None:
            out["detector_model"] = _model_id(det)
        ring = self._loaded.get("keyring")
        if ring is not None:
            out["watermark_keys"] = ",".join(str(k.key_id) for k in ring.keys)
        return out

    def describe_models(self) -> dict[str, Any]:
        """Per signal: enabled, loaded or not (with the reason), and what was loaded."""
        opts = self.options
        enabled = {
            "provenance": opts.provenance,
            "watermark": opts.watermark,
            "detector": opts.detector,
            "store_lookup": opts.store_lookup,
        }
        resource = {
            "provenance": "trust",
            "watermark": "keyring",
            "detector": "detector",
            "store_lookup": "store",
        }
        out: dict[str, Any] = {}
        for signal, on in enabled.items():
            name = resource[signal]
            entry: dict[str, Any] = {"enabled": on}
            if name in self._loaded:
                entry["status"] = "loaded"
            elif name in self._load_errors:
                entry["status"] = "unavailable"
                entry["reason"] = self._load_errors[name]
            else:
                entry["status"] = "not loaded" if on else "disabled"
            out[signal] = entry
        ring = self._loaded.get("keyring")
        if ring is not None:
            out["watermark"]["keys"] = [
                {"key_id": k.key_id, "demo": bool(getattr(k, "is_demo", False))} for k in ring.keys
            ]
        det = self._loaded.get("detector")
        if det is not None:
            out["detector"]["model"] = _model_id(det)
        trust = self._loaded.get("trust")
        if trust is not None:
            out["provenance"]["trust_anchors"] = bool(getattr(trust, "anchors_pem", None))
        store = self._loaded.get("store")
        if store is not None:
            out["store_lookup"]["store"] = str(getattr(store, "path", ""))
        return out

    # -- the pipeline ------------------------------------------------------------------------
    def verify(self, path: Path | str, progress: ProgressFn | None = None) -> Verdict:
        """Verify one clip. See the module docstring for the order of the checks.

        Args:
            path: the video file.
            progress: optional ``progress(stage, state)`` callback.

        Returns:
            The fused verdict with every signal's raw result.

        Raises:
            InputError: the file is missing, corrupt, unsupported or over a limit (raised by the
                probe, before any decoding).
        """
        path = Path(path)
        if not path.is_file():
            raise InputError(f"no such file: {path}", hint="give the path of a video file")
        started = time.perf_counter()
        cpu_started = time.process_time()
        watch = _Stopwatch(progress)
        from reelproof.core.io import probe

        limits = self.limits()
        media = watch.run("probe", lambda: probe(path, limits))
        opts = self.options
        # The store lookup needs the watermark id and the credentials' state; it runs in the
        # watermark's thread right after it, so it overlaps the classifier.
        prov_box: dict[str, SignalResult] = {}
        prov_ready = threading.Event()

        def provenance_job() -> SignalResult:
            try:
                prov_box["result"] = self._run_provenance(path)
                return prov_box["result"]
            finally:
                prov_ready.set()

        def watermark_job() -> SignalResult:
            reading = watch.run("watermark", lambda: self._run_watermark(path))
            prov_ready.wait()
            prov = prov_box.get("result", _skipped())
            return self._maybe_recover(path, prov, reading, watch, shared)

        # The classifier's frames and the store lookup's fingerprint frames come from one decode
        # pass (in the classifier's thread); the lookup, when it happens, waits for them. Only
        # when both run side by side, and when the fingerprint's frame window covers the clip.
        shared = _SharedSamples(
            path,
            enabled=opts.parallel
            and opts.detector
            and opts.watermark
            and opts.store_lookup
            and 0 < int(getattr(media, "frames", 0)) <= _fingerprint_max_frames(),
        )
        jobs: dict[str, Callable[[], Any]] = {"hash": lambda: sha256_file(path)}
        if opts.provenance:
            jobs["provenance"] = provenance_job  # first: sequential runs need it before the mark
        else:
            prov_ready.set()
        if opts.watermark:
            jobs["_watermark"] = watermark_job  # "_": times its own stages
        if opts.detector:
            jobs["detector"] = lambda: self._run_detector(path, shared)
        results = self._run_all(jobs, watch)
        digest = results["hash"]
        assert isinstance(digest, str)
        prov = results.get("provenance", _skipped())
        wm = results.get("_watermark", _skipped())
        det = results.get("detector", _skipped())
        facts = SignalFacts(
            provenance_status=prov.status,
            watermark_status=wm.status,
            detector_status=det.status,
            provenance=_provenance_facts(prov),
            watermark=_watermark_facts(wm),
            recovery=_recovery_facts(wm),
            detector=_detector_facts(det),
            errors={
                name: r.reason or ""
                for name, r in (("provenance", prov), ("watermark", wm), ("detector", det))
                if r.reason
            },
        )
        fusion = watch.run("fusion", lambda: fuse(facts))
        for name, result in (("provenance", prov), ("watermark", wm), ("detector", det)):
            if result.status is SignalStatus.SKIPPED:
                watch.skip(name, "skipped")
        return Verdict(
            verdict=fusion.verdict,
            summary=fusion.summary,
            ai_generated=fusion.ai_generated,
            synthetic_likelihood=fusion.synthetic_likelihood,
            evidence=fusion.evidence,
            filename=path.name,
            sha256=digest,
            size_bytes=path.stat().st_size,
            media=_media_dict(media),
            provenance=prov,
            watermark=wm,
            detector=det,
            timings=watch.ordered(),
            versions=self.versions(),
            analyzed_at=datetime.now(UTC).isoformat(timespec="seconds"),
            total_seconds=time.perf_counter() - started,
            cpu_seconds=time.process_time() - cpu_started,
        )

    def provenance_only(self, path: Path) -> SignalResult:
        """Credentials only, in the calling thread (the fast path of ``POST /v1/c2pa/verify``)."""
        return self._run_provenance(path)

    def _run_all(self, jobs: dict[str, Callable[[], Any]], watch: _Stopwatch) -> dict[str, Any]:
        def timed(name: str, fn: Callable[[], Any]) -> Any:
            return fn() if name.startswith("_") else watch.run(name, fn)

        if not self.options.parallel:
            return {name: timed(name, fn) for name, fn in jobs.items()}
        with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="verify") as pool:
            futures: dict[str, Future[Any]] = {
                name: pool.submit(timed, name, fn) for name, fn in jobs.items()
            }
            return {name: fut.result() for name, fut in futures.items()}

    def _signal(self, fn: Callable[[], dict[str, Any]]) -> SignalResult:
        start = time.perf_counter()
        try:
            report = fn()
        except _UnavailableError as err:
            return SignalResult(SignalStatus.UNAVAILABLE, str(err), time.perf_counter() - start)
        except ImportError as err:
            reason = f"not installed ({err})"
            return SignalResult(SignalStatus.UNAVAILABLE, reason, time.perf_counter() - start)
        except ReelProofError as err:
            return SignalResult(SignalStatus.ERROR, str(err), time.perf_counter() - start)
        except Exception as err:  # a bug in one signal must not hide the other two
            log.exception("signal failed")
            reason = f"internal error: {type(err).__name__}: {err}"
            return SignalResult(SignalStatus.ERROR, reason, time.perf_counter() - start)
        return SignalResult(SignalStatus.OK, None, time.perf_counter() - start, report)

    def _run_provenance(self, path: Path) -> SignalResult:
        def run() -> dict[str, Any]:
            from reelproof.provenance import is_dev_certificate, verify

            report = verify(path, trust=self.trust())
            body: dict[str, Any] = report.to_dict()
            body["dev_certificate"] = bool(_safe(lambda: is_dev_certificate(report)))
            return body

        return self._signal(run)

    def _run_watermark(self, path: Path) -> SignalResult:
        def run() -> dict[str, Any]:
            from reelproof.watermark import detect_file

            reading = detect_file(
                path, keyring=self.keyring(), max_frames=self.options.watermark_max_frames
            )
            body: dict[str, Any] = reading.to_dict()
            return body

        return self._signal(run)

    def _run_detector(self, path: Path, shared: _SharedSamples | None = None) -> SignalResult:
        def run() -> dict[str, Any]:
            budget = self.options.detector_max_frames
            if shared is None or not shared.enabled:
                score = self.detector_model().score_file(path, max_frames=budget)
            else:
                try:
                    model = self.detector_model()
                    chunk = shared.sample(path, budget, self.limits())
                finally:
                    shared.ready.set()  # the lookup must never wait for a sampling that failed
                # The same frames ``score_file`` samples (``sample_frame_sets`` serves each
                # sampling exactly as ``sample_frames`` alone would): the same score.
                assert chunk.fps is not None
                score = model.score_frames(chunk.frames, float(chunk.fps), chunk.timestamps)
            body: dict[str, Any] = score.to_dict()
            return body

        return self._signal(run)

    def _maybe_recover(
        self,
        path: Path,
        prov: SignalResult,
        wm: SignalResult,
        watch: _Stopwatch,
        shared: _SharedSamples | None = None,
    ) -> SignalResult:
        """Look the watermark id up in the manifest store when the credentials are missing."""
        payload = wm.report.get("payload")
        wanted = (
            self.options.store_lookup
            and wm.status is SignalStatus.OK
            and bool(wm.report.get("detected"))
            and bool(payload)
            and prov.report.get("state") in (None, "absent")
        )
        if not wanted:
            return wm

        def lookup() -> dict[str, Any]:
            from reelproof.provenance import recover_from_store

            try:
                store = self.store()
            except _UnavailableError as err:
                return {"found": False, "error": f"manifest store unavailable: {err}"}
            try:
                recovered = recover_from_store(
                    path,
                    str(payload),
                    store,
                    self.trust(),
                    fingerprint=shared.fingerprint
                    if shared is not None and shared.enabled
                    else None,
                )
            except ReelProofError as err:
                return {"found": False, "error": str(err)}
            if recovered is None:
                return {"found": False}
            body: dict[str, Any] = recovered.to_dict()
            body.setdefault("found", True)
            return body

        try:
            recovered = watch.run("store_lookup", lookup)
        except _UnavailableError as err:
            recovered = {"found": False, "error": str(err)}
        return SignalResult(
            wm.status, wm.reason, wm.seconds, wm.report, {"recovered_manifest": recovered}
        )


class _SharedSamples:
    """Frames decoded once for the classifier and the fingerprint (see ``Verifier.verify``)."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self.path = path
        self.enabled = enabled
        self.ready = threading.Event()
        self._fingerprint_frames: Any = None  # FrameChunk (32, H, W, 3) uint8, until hashed
        if not enabled:
            self.ready.set()

    def sample(self, path: Path, budget: int, limits: Any) -> Any:
        """The classifier's ``budget`` frames; keeps the fingerprint's frames for the lookup."""
        from reelproof.core.io import sample_frame_sets
        from reelproof.provenance import FINGERPRINT_SAMPLES

        chunk, self._fingerprint_frames = sample_frame_sets(
            path, (budget, FINGERPRINT_SAMPLES), limits
        )
        return chunk

    def fingerprint(self) -> Any:
        """The clip's fingerprint, as ``fingerprint_file`` computes it (waits for the frames)."""
        from reelproof.provenance import fingerprint_file, fingerprint_frames

        self.ready.wait()
        chunk, self._fingerprint_frames = self._fingerprint_frames, None
        if chunk is None:  # not shared, or the sampling failed: read the file itself
            return fingerprint_file(self.path)
        return fingerprint_frames(chunk.frames, chunk.timestamps, max_samples=len(chunk))


def _fingerprint_max_frames() -> int:
    try:
        from reelproof.provenance import FINGERPRINT_MAX_FRAMES
    except ImportError:  # provenance not installed: nothing to share with
        return 0
    return int(FINGERPRINT_MAX_FRAMES)


class _UnavailableError(Exception):
    """A resource (model, keys, trust list, store) could not be loaded."""


def _model_id(model: Any) -> str:
    """``name@version:digest`` of a loaded classifier (whatever of it the model exposes)."""
    ident = getattr(model, "model_id", None)
    if callable(ident):
        ident = ident()
    if ident:
        return str(ident)
    name = getattr(model, "name", None) or type(model).__name__
    version = getattr(model, "version", None)
    return f"{name}@{version}" if version is not None else str(name)


def _skipped() -> SignalResult:
    return SignalResult(SignalStatus.SKIPPED, "turned off by the caller")


def _safe(fn: Callable[[], T]) -> T | None:
    try:
        return fn()
    except Exception:  # a helper's failure must not hide the main reading
        return None


def _media_dict(media: Any) -> dict[str, Any]:
    body = media.to_dict() if hasattr(media, "to_dict") else to_jsonable(media)
    assert isinstance(body, dict)
    body.pop("path", None)  # a server-side path is nobody's business; ``filename`` names the clip
    return body


def _str_or_none(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        for key in ("common_name", "name", "organization", "subject"):
            if value.get(key):
                return str(value[key])
        return None
    return str(value)


def _provenance_facts(sig: SignalResult) -> ProvenanceFacts | None:
    if sig.status is not SignalStatus.OK:
        return None
    rep = sig.report
    return ProvenanceFacts(
        state=str(rep.get("state", "absent")),
        signer=_str_or_none(rep.get("signer")),
        digital_source_type=_str_or_none(rep.get("digital_source_type")),
        codes=tuple(
            str(c.get("code")) if isinstance(c, dict) else str(c) for c in rep.get("codes") or ()
        ),
        dev_certificate=bool(rep.get("dev_certificate")),
    )


def _watermark_facts(sig: SignalResult) -> WatermarkFacts | None:
    if sig.status is not SignalStatus.OK:
        return None
    rep = sig.report
    p_value = rep.get("p_value")
    return WatermarkFacts(
        detected=bool(rep.get("detected")),
        evaluable=bool(rep.get("evaluable", True)),
        p_value=float(p_value) if p_value is not None else None,
        payload=_str_or_none(rep.get("payload")),
        payload_verified=bool(rep.get("payload_verified")),
        key_id=_str_or_none(rep.get("key_id")),
        method=_str_or_none(rep.get("method")),
        reason=_str_or_none(rep.get("reason")),
    )


def _recovery_facts(sig: SignalResult) -> RecoveryFacts | None:
    rec = sig.extra.get("recovered_manifest")
    if not isinstance(rec, dict):
        return None
    # Top-level ``state`` judges the stored manifest itself; the nested ``report`` validates it
    # against this file, where the hard binding fails after any re-encode.
    return RecoveryFacts(
        found=bool(rec.get("found")),
        state=_str_or_none(rec.get("state")),
        signer=_str_or_none(rec.get("signer")),
        digital_source_type=_str_or_none(rec.get("digital_source_type")),
        fingerprint_matches=_bool_or_none(rec.get("fingerprint_matches")),
        hard_binding_matches=_bool_or_none(rec.get("hard_binding_matches")),
    )


def _bool_or_none(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _detector_facts(sig: SignalResult) -> DetectorFacts | None:
    if sig.status is not SignalStatus.OK:
        return None
    rep = sig.report
    p = rep.get("p_synthetic")
    return DetectorFacts(
        p_synthetic=float(p) if p is not None else None,
        label=str(rep.get("label", "inconclusive")),
        model=_str_or_none(rep.get("model")),
        reason=_str_or_none(rep.get("reason")),
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
