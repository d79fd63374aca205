"""What the verification signals need, loaded once and cached: trust list, watermark keys,
classifier, manifest store and media limits.

Each resource loads lazily on first use (or all at once with :meth:`Resources.load`); one that
fails to load is remembered with its reason, so its signal reads "unavailable" and the others
still run. Heavy packages (the classifier's scikit-learn and torch) are imported only when their
resource loads.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Literal, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from reelproof.core.errors import ConfigError, ReelProofError
from reelproof.core.io import DEFAULT_LIMITS, MediaLimits

if TYPE_CHECKING:
    from reelproof.detector.score import DetectorScore
    from reelproof.provenance import ManifestStore, TrustConfig
    from reelproof.service.pipeline import VerifyOptions
    from reelproof.watermark import Keyring

T = TypeVar("T")


class ClipScorer(Protocol):
    """A synthetic-video classifier as the verifier uses it (``ClipDetector`` is one)."""

    @property
    def model_id(self) -> str:
        """``name@version:digest`` for reports."""
        ...

    @property
    def has_face_head(self) -> bool:
        """Face mode is available."""
        ...

    def score_file(
        self, path: str | Path, max_frames: int | None = None, faces: bool = False
    ) -> DetectorScore:
        """Score a video file from up to ``max_frames`` sampled frames (and its faces)."""
        ...

    def score_frames(
        self,
        frames: npt.NDArray[np.uint8],
        fps: float,
        timestamps: npt.NDArray[np.float64] | None = None,
        bits_per_pixel: float | None = None,
        faces: bool = False,
        temporal_of: Callable[[], npt.NDArray[np.float64]] | None = None,
    ) -> DetectorScore:
        """Score (T, H, W, 3) uint8 RGB frames already sampled from one clip;
        ``temporal_of`` computes the clip's temporal vector once it passed screening."""
        ...

    def temporal_vector(
        self, path: str | Path, limits: MediaLimits | None = None
    ) -> npt.NDArray[np.float64]:
        """The clip's temporal vector, from its first consecutive frames."""
        ...


class ResourceUnavailableError(Exception):
    """A resource (model, keys, trust list, store) could not be loaded; the message says why."""


class Loadable(Protocol):
    """What ``describe`` and ``load`` need of any resource, whatever it holds."""

    @property
    def state(self) -> Literal["loaded", "unavailable", "not loaded"]: ...

    @property
    def error(self) -> str | None: ...

    def ensure(self) -> None: ...


class Lazy(Generic[T]):
    """One resource: loaded on first ``get()`` under a lock, its value or failure kept."""

    def __init__(self, loader: Callable[[], T]) -> None:
        self._loader = loader
        self._lock = threading.Lock()
        self.value: T | None = None
        self.error: str | None = None

    def get(self) -> T:
        with self._lock:
            if self.value is not None:
                return self.value
            if self.error is not None:
                raise ResourceUnavailableError(self.error)
            try:
                self.value = self._loader()
            except (ReelProofError, ImportError, OSError) as err:
                self.error = str(err)
                raise ResourceUnavailableError(self.error) from err
            return self.value

    def ensure(self) -> None:
        """Load now (``ResourceUnavailableError`` when it cannot be)."""
        self.get()

    @property
    def state(self) -> Literal["loaded", "unavailable", "not loaded"]:
        if self.value is not None:
            return "loaded"
        return "unavailable" if self.error is not None else "not loaded"


@dataclass(frozen=True)
class KeyInfo:
    """A watermark key the verifier tries."""

    key_id: str
    demo: bool


@dataclass(frozen=True)
class SignalInfo:
    """Whether one signal is switched on and its resource loaded (``GET /v1/models``).

    Attributes:
        enabled: the signal runs in analyses.
        status: loaded, unavailable (with ``reason``), not loaded yet, or disabled.
        reason: why the resource could not be loaded.
        keys: the watermark keys tried (watermark only).
        model: the classifier's ``name@version:digest`` (detector only).
        trust_anchors: whether trust anchors are configured (provenance only).
        store: the manifest store's location (store lookup only).
    """

    enabled: bool
    status: Literal["loaded", "unavailable", "not loaded", "disabled"]
    reason: str | None = None
    keys: tuple[KeyInfo, ...] | None = None
    model: str | None = None
    trust_anchors: bool | None = None
    store: str | None = None


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


class Resources:
    """The loaded resources of one verifier (thread-safe; build one per process)."""

    def __init__(self, options: VerifyOptions) -> None:
        self.options = options
        self.trust: Lazy[TrustConfig] = Lazy(self._load_trust)
        self.keyring: Lazy[Keyring] = Lazy(self._load_keyring)
        self.detector: Lazy[ClipScorer] = Lazy(self._load_detector)
        self.store: Lazy[ManifestStore] = Lazy(self._load_store)
        self.limits = _limits(options)

    def _load_trust(self) -> TrustConfig:
        from reelproof.provenance import TrustConfig

        if self.options.trust_anchors is not None:
            return TrustConfig.from_files(self.options.trust_anchors)
        if os.environ.get("REELPROOF_ENV", "").lower() == "dev":
            return TrustConfig.dev()  # trust the local throwaway PKI: development only
        return TrustConfig()  # no anchors: intact credentials read "valid, untrusted"

    def _load_keyring(self) -> Keyring:
        from reelproof.watermark import Keyring

        return Keyring.default()

    def _load_detector(self) -> ClipScorer:
        from reelproof.detector import load_detector

        return load_detector(self.options.detector_model)

    def _store_location(self) -> str | Path:
        from reelproof.core.paths import manifest_store_location

        return self.options.manifest_store or manifest_store_location()

    def _load_store(self) -> ManifestStore:
        from reelproof.provenance import open_manifest_store

        return open_manifest_store(self._store_location())

    def open_store(self) -> ManifestStore:
        """The manifest store, raising ``ConfigError`` when it cannot be opened."""
        try:
            return self.store.get()
        except ResourceUnavailableError as err:
            raise ConfigError(f"the manifest store is unavailable: {err}") from err

    def _wanted(self) -> dict[str, tuple[bool, Loadable]]:
        opts = self.options
        return {
            "provenance": (opts.provenance, self.trust),
            "watermark": (opts.watermark, self.keyring),
            "detector": (opts.detector, self.detector),
            "store_lookup": (opts.store_lookup, self.store),
        }

    def load(self) -> dict[str, str]:
        """Load every enabled resource now; returns signal -> error for those that failed."""
        errors: dict[str, str] = {}
        for signal, (enabled, lazy) in self._wanted().items():
            if not enabled:
                continue
            try:
                lazy.ensure()
            except ResourceUnavailableError as err:
                errors[signal] = str(err)
        return errors

    def versions(self) -> dict[str, str]:
        """Tool and model versions recorded in every verdict."""
        out = {name: package_version(name) for name in ("reelproof", "c2pa-python", "av")}
        if self.detector.value is not None:
            out["detector_model"] = self.detector.value.model_id
        if self.keyring.value is not None:
            out["watermark_keys"] = ",".join(str(k.key_id) for k in self.keyring.value.keys)
        return out

    def describe(self) -> dict[str, SignalInfo]:
        """Per signal: enabled, loaded or not (with the reason), and what was loaded."""
        out: dict[str, SignalInfo] = {}
        for signal, (enabled, lazy) in self._wanted().items():
            state = lazy.state
            status = "disabled" if not enabled and state == "not loaded" else state
            out[signal] = SignalInfo(enabled, status, lazy.error)
        if self.keyring.value is not None:
            keys = tuple(KeyInfo(str(k.key_id), k.is_demo) for k in self.keyring.value.keys)
            out["watermark"] = dataclasses.replace(out["watermark"], keys=keys)
        if self.detector.value is not None:
            model = self.detector.value.model_id
            out["detector"] = dataclasses.replace(out["detector"], model=model)
        if self.trust.value is not None:
            anchors = bool(self.trust.value.anchors_pem)
            out["provenance"] = dataclasses.replace(out["provenance"], trust_anchors=anchors)
        if self.store.value is not None:
            from reelproof.provenance import redact_location

            where = redact_location(self._store_location())
            out["store_lookup"] = dataclasses.replace(out["store_lookup"], store=where)
        return out


def _limits(options: VerifyOptions) -> MediaLimits:
    """The default media limits with the options' overrides."""
    base = DEFAULT_LIMITS
    return dataclasses.replace(
        base,
        max_pixels_per_frame=_pick(options.max_pixels, base.max_pixels_per_frame),
        max_frames=_pick(options.max_frames, base.max_frames),
        max_duration_s=_pick(options.max_duration_s, base.max_duration_s),
        max_file_bytes=_pick(options.max_bytes, base.max_file_bytes),
    )


def _pick(value: T | None, default: T) -> T:
    return default if value is None else value
