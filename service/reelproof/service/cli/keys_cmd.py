"""``reelproof keys``: watermark keys, development PKI, API keys.

Each package's helper adds its own command function here: ``init-watermark`` (watermark key),
``init-dev`` (throwaway C2PA PKI), ``create-api-key`` (service).
"""

from __future__ import annotations

import typer

keys_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.add_typer(keys_app, name=name, help=help_text)
