"""Command groups filled by the packages' own CLI modules.

Each group lives in its own module (``reelproof.service.cli.<group>``) exposing ``app``; a module
that does not exist yet still gets a group whose help says the feature is not built yet.
"""

from __future__ import annotations

import importlib

import typer

GROUPS: dict[str, str] = {
    "watermark": "Embed and detect the invisible ReelProof watermark.",
    "provenance": "Verify C2PA content credentials.",
    "keys": "Create watermark keys, development PKI and API keys.",
    "generate": "Generate a watermarked, signed clip from a prompt.",
    "generator": "Train the embedded default generator model.",
    "verify": "Verify a clip: credentials, watermark and classifier, fused into one verdict.",
    "detector": "Train, evaluate and run the synthetic-video classifier.",
    "eval": "Run the reproducible benchmarks and write docs/benchmarks/.",
    "serve": "Run the moderation API server.",
    "worker": "Run a Celery analysis worker for the distributed API (needs REELPROOF_BROKER_URL).",
    "db": "The service database: apply its migrations.",
    "scan": "Verify every clip under folders into a JSONL file (and an HTML index); resumable.",
    "demo": "Run the end-to-end demo on the embedded default.",
}


def register_all(app: typer.Typer) -> None:
    """Attach every group (sub-app or single command) to the root app."""
    for name, help_text in GROUPS.items():
        module_name = f"reelproof.service.cli.{name}_cmd"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            app.add_typer(typer.Typer(help=f"{help_text} (not available yet)"), name=name)
            continue
        register = module.register
        register(app, name, help_text)
