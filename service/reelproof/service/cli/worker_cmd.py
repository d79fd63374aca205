"""``reelproof worker``: a Celery worker of the distributed moderation API."""

from __future__ import annotations

import typer


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.command(name, help=help_text)(worker_command)


def worker_command(
    concurrency: int = typer.Option(
        1, "--concurrency", min=1, help="Analysis processes (each loads the models once)."
    ),
    log_level: str = typer.Option("info", "--log-level", help="Celery log level."),
) -> None:
    """Run analyses from the broker's queue until stopped (SIGTERM lets the running one finish).

    Reads the same REELPROOF_* settings as ``reelproof serve``: REELPROOF_BROKER_URL (required),
    REELPROOF_DATABASE_URL, and the verifier's settings (trust anchors, detector, limits).
    """
    from reelproof.core.errors import ConfigError
    from reelproof.service.api.settings import ServiceSettings

    settings = ServiceSettings()
    if not settings.broker_url:
        raise ConfigError(
            "reelproof worker needs a broker",
            hint="set REELPROOF_BROKER_URL=redis://host:6379/0 (and REELPROOF_DATABASE_URL to "
            "the API's database); without a broker `reelproof serve` runs its own workers",
        )
    from reelproof.service.api.tasks import run_worker

    run_worker(settings, concurrency, log_level)
