"""``reelproof keys``: watermark keys, development PKI, API keys.

Each package's helper adds its own command function here: ``init-watermark`` (watermark key),
``init-dev`` (throwaway C2PA PKI), ``create-api-key`` (service).
"""

from __future__ import annotations

import typer

keys_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.add_typer(keys_app, name=name, help=help_text)


@keys_app.command("create-api-key")
def create_api_key_command(
    name: str = typer.Option(..., "--name", help="Who the key is for (shown in logs and lists)."),
    rate: int | None = typer.Option(
        None,
        "--rate",
        min=1,
        help="Requests per minute (default: REELPROOF_DEFAULT_RATE_PER_MINUTE).",
    ),
    data_dir: str | None = typer.Option(
        None, "--data-dir", help="Service data folder (default: $REELPROOF_HOME/service)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Create an API key for reelproof serve; the secret is printed once and stored hashed."""
    from pathlib import Path

    from reelproof.service.api.db import ServiceDB
    from reelproof.service.api.settings import ServiceSettings

    settings = ServiceSettings(**({"data_dir": Path(data_dir)} if data_dir else {}))  # type: ignore[arg-type]
    settings.ensure_dirs()
    secret, key = ServiceDB(settings.db_url).create_api_key(
        name, rate or settings.default_rate_per_minute
    )
    if as_json:
        from reelproof.service.cli.output import print_json

        print_json(
            {
                "key_id": key.key_id,
                "name": key.name,
                "rate_per_minute": key.rate_per_minute,
                "api_key": secret,
            }
        )
        return
    typer.echo(secret)
    typer.echo(
        f"key id {key.key_id} for {key.name!r}, {key.rate_per_minute}/min. Store the key now: "
        "only its hash is kept.",
        err=True,
    )


@keys_app.command("init-dev")
def init_dev_command(
    directory: str = typer.Argument(..., help="Folder for the throwaway PKI (created, mode 0700)."),
    force: bool = typer.Option(False, "--force", help="Replace a PKI already in DIRECTORY."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Make a throwaway C2PA root, intermediate and signing certificate, marked DEV ONLY.

    The signing certificate follows the C2PA trust-list profile (digitalSignature; the C2PA
    claim-signing EKU with documentSigning and emailProtection), so other validators read the
    files it signs as intact but untrusted. Certificates made before this profile are refused
    by a stock c2pa.Reader: re-run with --force.
    """
    from reelproof.provenance import init_dev_pki

    pki = init_dev_pki(directory, overwrite=force)
    paths = {
        "root_pem": str(pki.root_pem),
        "chain_pem": str(pki.chain_pem),
        "key_pem": str(pki.key_pem),
    }
    if as_json:
        from reelproof.service.cli.output import print_json

        print_json(paths)
        return
    for name, path in paths.items():
        typer.echo(f"{name}: {path}")
    typer.echo(
        "DEV ONLY: never sign published content with these; never commit the keys.", err=True
    )


@keys_app.command("init-watermark")
def init_watermark_command(
    path: str | None = typer.Argument(
        None, help="Key file to create (default: $REELPROOF_HOME/watermark-keys/<key id>.json)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing file."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Create a secret watermark key (32 random bytes, file mode 0600) and print its id."""
    from pathlib import Path

    from reelproof.core.paths import watermark_keys_dir
    from reelproof.watermark import WatermarkKey

    key = WatermarkKey.generate()
    target = Path(path) if path else watermark_keys_dir() / f"{key.key_id}.json"
    written = key.save(target, overwrite=force)
    if as_json:
        from reelproof.service.cli.output import print_json

        print_json({"key_id": key.key_id, "path": str(written)})
        return
    typer.echo(f"{key.key_id}: {written}")
    typer.echo("Keep this file secret: whoever holds it can embed and strip your mark.", err=True)
