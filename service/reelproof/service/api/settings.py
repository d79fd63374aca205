"""Service settings from ``REELPROOF_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from reelproof.core.paths import reelproof_home

if TYPE_CHECKING:
    from reelproof.service.pipeline import VerifyOptions


def _default_data_dir() -> Path:
    return reelproof_home() / "service"


class ServiceSettings(BaseSettings):
    """Every knob of ``reelproof serve``; each one reads ``REELPROOF_<NAME>`` from the environment.

    Attributes:
        data_dir: job database, API keys and uploads (default ``$REELPROOF_HOME/service``).
        max_upload_bytes: uploads above this are refused with 413 while streaming.
        upload_idle_timeout_s: a client that sends no upload data for this long gets 408.
        workers: analysis worker processes (each loads the models once).
        auth_required: require an API key (``reelproof keys create-api-key``) on ``/v1``.
        default_rate_per_minute: requests per minute for keys created without a rate.
        retain_uploads: keep uploaded clips after analysis (default: delete them).
        max_wait_s: cap on ``Prefer: wait=N``.
        max_attempts: a job interrupted by a restart is retried this many times in all, then
            failed explicitly.
        thumbnails: frames kept as JPEG thumbnails for the HTML report.
        trust_anchors / manifest_store / detector_model: passed to the verifier.
        detector: run the classifier in analyses (off: credentials and watermark only).
        max_pixels / max_frames / max_duration_s: media limits enforced before decoding.
    """

    model_config = SettingsConfigDict(env_prefix="REELPROOF_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    max_upload_bytes: int = 256 * 1024 * 1024
    upload_idle_timeout_s: float = 30.0
    workers: int = 1
    auth_required: bool = True
    default_rate_per_minute: int = 6000
    retain_uploads: bool = False
    max_wait_s: float = 120.0
    max_attempts: int = 2
    thumbnails: int = 8
    trust_anchors: Path | None = None
    manifest_store: Path | None = None
    detector_model: Path | None = None
    detector: bool = True
    max_pixels: int | None = None
    max_frames: int | None = None
    max_duration_s: float | None = None

    @property
    def db_path(self) -> Path:
        return self.data_dir / "service.sqlite"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    def verify_options(self) -> VerifyOptions:
        """What the analysis workers run, with which resources and limits."""
        from reelproof.service.pipeline import VerifyOptions

        return VerifyOptions(
            detector=self.detector,
            manifest_store=self.manifest_store,
            trust_anchors=self.trust_anchors,
            detector_model=self.detector_model,
            max_pixels=self.max_pixels,
            max_frames=self.max_frames,
            max_duration_s=self.max_duration_s,
        )

    def ensure_dirs(self) -> None:
        """Create the data folders (mode 0700: uploads may be sensitive footage)."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.upload_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
