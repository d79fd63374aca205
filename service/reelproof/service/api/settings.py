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
        watermark: look for the ReelProof watermark in analyses.
        max_pixels / max_frames / max_duration_s: media limits enforced before decoding.
        database_url: jobs, API keys, idempotency records (and, for a server database, the
            manifest store): a SQLAlchemy URL, e.g. ``postgresql+psycopg://user:pw@host/db``
            (default: the SQLite file ``<data_dir>/service.sqlite``).
        broker_url: Celery broker (``redis://host:6379/0``); unset runs the analyses in worker
            processes of the server itself (the embedded default).
        redis_url: shared rate limits (default: the broker URL when it is a Redis URL; unset
            keeps the limits in the server process).
        upload_dir: where uploads are written; with a broker, a folder every API and worker node
            mounts at the same path (default ``<data_dir>/uploads``).
        visibility_timeout_s: a job a worker took but never acknowledged (the worker died) is
            delivered again after this long; keep it above the longest analysis.
        lease_s: a running job whose worker sent no heartbeat for this long counts as
            abandoned; a worker that receives it again takes it over.
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
    manifest_store: str | None = None
    detector_model: Path | None = None
    detector: bool = True
    watermark: bool = True
    max_pixels: int | None = None
    max_frames: int | None = None
    max_duration_s: float | None = None
    database_url: str | None = None
    broker_url: str | None = None
    redis_url: str | None = None
    upload_dir: Path = Field(default_factory=lambda data: Path(data["data_dir"]) / "uploads")
    visibility_timeout_s: int = 3600
    lease_s: float = 30.0

    @property
    def db_path(self) -> Path:
        return self.data_dir / "service.sqlite"

    @property
    def db_url(self) -> str:
        """The service database as a SQLAlchemy URL."""
        return self.database_url or f"sqlite:///{self.db_path}"

    @property
    def distributed(self) -> bool:
        """Analyses go to Celery workers through the broker (else: in-process workers)."""
        return bool(self.broker_url)

    @property
    def shared_redis_url(self) -> str | None:
        """Redis for the rate limits: ``redis_url``, else a Redis broker's URL."""
        if self.redis_url:
            return self.redis_url
        broker = self.broker_url or ""
        return broker if broker.startswith(("redis://", "rediss://")) else None

    def manifest_store_location(self) -> str | Path | None:
        """The manifest store: the setting, else a server database's (SQLite keeps its file)."""
        if self.manifest_store is not None:
            return self.manifest_store
        if self.database_url and not self.database_url.startswith("sqlite"):
            return self.database_url
        return None

    def verify_options(self) -> VerifyOptions:
        """What the analysis workers run, with which resources and limits."""
        from reelproof.service.pipeline import VerifyOptions

        return VerifyOptions(
            detector=self.detector,
            watermark=self.watermark,
            manifest_store=self.manifest_store_location(),
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
