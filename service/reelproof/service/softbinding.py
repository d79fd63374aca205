"""C2PA Soft Binding Resolution-style lookups: watermark id -> stored manifest.

One manifest is resolvable per watermark id (the store keeps the latest one signed under it), so
the manifest id the API hands out is the watermark id itself (16 hex digits).
"""

from __future__ import annotations

from typing import Any

from reelproof.service.pipeline import Verifier


def lookup_manifest_ids(verifier: Verifier, watermark_id: str) -> list[str]:
    """Ids of manifests stored under ``watermark_id`` (empty when none is stored).

    Raises:
        InputError: the id is not 16 hex digits.
        ConfigError: the manifest store cannot be opened.
    """
    stored = verifier.open_store().lookup(watermark_id)
    return [] if stored is None else [str(stored.watermark_id)]


def fetch_manifest(
    verifier: Verifier, manifest_id: str
) -> tuple[bytes | None, dict[str, Any]] | None:
    """The stored manifest bytes and a JSON summary, or ``None`` when unknown."""
    from reelproof.core.errors import InputError

    try:
        stored = verifier.open_store().lookup(manifest_id)
    except InputError:
        return None  # not a watermark id, so certainly not a stored manifest
    if stored is None:
        return None
    summary: dict[str, Any] = stored.to_dict()
    return bytes(stored.manifest_bytes), summary
