"""Where ReelProof keeps its local state (manifest store, dev PKI, keys, job database).

Everything lives under one home folder: ``$REELPROOF_HOME`` if set, else ``~/.reelproof``. Tests
point ``REELPROOF_HOME`` at a temporary folder so they never touch a user's state.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "REELPROOF_HOME"


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


def dev_pki_dir() -> Path:
    """Default folder of the throwaway development PKI made by ``reelproof keys init-dev``."""
    return reelproof_home() / "dev-pki"


def watermark_keys_dir() -> Path:
    """Default folder of watermark keys made by ``reelproof keys init-watermark``."""
    return reelproof_home() / "watermark-keys"
