"""``reelproof serve``: run the moderation API (FastAPI on uvicorn)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.command(name, help=help_text)(serve_command)


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    workers: int | None = typer.Option(
        None, "--workers", help="Analysis worker processes (default: REELPROOF_WORKERS or 1)."
    ),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Jobs, keys and uploads (default: $REELPROOF_HOME/service)."
    ),
    no_auth: bool = typer.Option(
        False, "--no-auth", help="Serve without API keys (local newsroom use only)."
    ),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve the API and the web page; settings also come from REELPROOF_* variables."""
    import uvicorn

    from reelproof.service.api.app import create_app
    from reelproof.service.api.http import ProblemH11Protocol
    from reelproof.service.api.settings import ServiceSettings

    overrides: dict[str, object] = {}
    if workers is not None:
        overrides["workers"] = workers
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if no_auth:
        overrides["auth_required"] = False
    settings = ServiceSettings(**overrides)  # type: ignore[arg-type]
    app = create_app(settings)
    typer.echo(
        f"ReelProof API on http://{host}:{port}/  (docs at /docs, data in {settings.data_dir})"
    )
    if settings.distributed:
        from reelproof.provenance import redact_location

        broker = redact_location(str(settings.broker_url))
        typer.echo(
            f"analyses go to `reelproof worker` processes through {broker}; "
            f"jobs in {redact_location(settings.db_url)}"
        )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        http=ProblemH11Protocol,
    )
