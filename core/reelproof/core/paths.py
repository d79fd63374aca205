"""Where ReelProof keeps its local state (manifest store, dev PKI, keys, job database).

Everything lives under one home folder: ``$REELPROOF_HOME`` if set, else ``~/.reelproof``. Tests
point ``REELPROOF_HOME`` at a temporary folder so they never touch a user's state.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "REELPROOF_HOME"
MANIFEST_STORE_ENV = "REELPROOF_MANIFEST_STORE"


def reelproof_home(create: bool = True) -> Path:
    """The state folder (created with mode 0700 on first use when ``create``)."""
    raw = os.environ.get(HOME_ENV)
    home = Path(raw).expanduser() if raw else Path.home() / ".reelproof"
    if create:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home


def manifest_store_path() -> Path:
    """Default SQLite manifest store (credentials keyed by watermark id)."""
    return reelproof_home() / "manifests.sqlite"


def manifest_store_location() -> str | Path:
    """The manifest store every command uses by default: ``$REELPROOF_MANIFEST_STORE`` (a SQLite
    file or a database URL such as ``postgresql+psycopg://host/db``, so many generation nodes
    share one store), else :func:`manifest_store_path`."""
    raw = os.environ.get(MANIFEST_STORE_ENV, "").strip()
    if not raw:
        return manifest_store_path()
    return raw if "://" in raw else Path(raw).expanduser()


def dev_pki_dir() -> Path:
    """Default folder of the throwaway development PKI made by ``reelproof keys init-dev``."""
    return reelproof_home() / "dev-pki"


def watermark_keys_dir() -> Path:
    """Default folder of watermark keys made by ``reelproof keys init-watermark``."""
    return reelproof_home() / "watermark-keys"
