"""``reelproof db``: the service database's migrations."""

from __future__ import annotations

import typer

db_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.add_typer(db_app, name=name, help=help_text)


@db_app.command("upgrade")
def upgrade_command() -> None:
    """Create or migrate every table (jobs, API keys, idempotency, workers, manifest store) in
    REELPROOF_DATABASE_URL (default: the SQLite file in the service data folder).

    ``reelproof serve`` and ``reelproof worker`` do this on start too; run it yourself to prepare
    a database before the first node starts, or for generation nodes that only share the
    manifest store.
    """
    from reelproof.provenance import redact_location
    from reelproof.service.api.database import HEAD, make_engine, upgrade
    from reelproof.service.api.settings import ServiceSettings

    settings = ServiceSettings()
    if settings.database_url is None:
        settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    try:
        before = upgrade(engine)
    finally:
        engine.dispose()
    typer.echo(f"{redact_location(settings.db_url)}: {before} -> {HEAD}")
