"""Watermark keys (secret bytes + id) and keyrings for verifiers.

A key is 32 random bytes. Everything the mark depends on (frequency layout, phases, scrambling,
the payload check) is derived from it with HMAC-SHA256, so different keys give independent marks
that do not cross-detect.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reelproof.core.errors import KeyMaterialError
from reelproof.core.paths import watermark_keys_dir

KEY_FILE_TYPE = "reelproof-watermark-key"
KEY_ENV = "REELPROOF_WATERMARK_KEY"
DEMO_KEY_ID = "demo-public"
_DEMO_SEED = b"ReelProof PUBLIC demo watermark key v1 - NOT SECRET"


def _key_id_for(secret: bytes) -> str:
    return "wm-" + hashlib.sha256(b"reelproof-watermark-key-id" + secret).hexdigest()[:12]


@dataclass(frozen=True)
class WatermarkKey:
    """A watermark key: secret bytes and a public id.

    Attributes:
        secret: the key material (at least 16 bytes); never printed.
        key_id: a public name for the key, reported by detection.
        is_demo: True for the public demo key, whose secret is in the source code.
    """

    secret: bytes = field(repr=False)
    key_id: str
    is_demo: bool = False

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise KeyMaterialError(
                "a watermark key needs at least 16 secret bytes",
                hint="create one with `reelproof keys init-watermark`",
            )

    @classmethod
    def generate(cls) -> WatermarkKey:
        """A fresh key from the OS's cryptographic RNG."""
        secret = secrets.token_bytes(32)
        return cls(secret=secret, key_id=_key_id_for(secret))

    @classmethod
    def demo(cls) -> WatermarkKey:
        """The PUBLIC demo key: deterministic, published in the source code, NOT secret.

        Anyone can embed or remove a mark made with it. It exists so the out-of-the-box demo works
        without setup; production generators must use their own key (``keys init-watermark``).
        """
        return cls(secret=hashlib.sha256(_DEMO_SEED).digest(), key_id=DEMO_KEY_ID, is_demo=True)

    @classmethod
    def from_secret(cls, secret: bytes) -> WatermarkKey:
        """A key from given secret bytes (its id is derived from them)."""
        return cls(secret=secret, key_id=_key_id_for(secret))

    def derive(self, label: str) -> bytes:
        """32 bytes derived from the secret for one purpose (HMAC-SHA256)."""
        return hmac.new(self.secret, label.encode(), hashlib.sha256).digest()

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the key as JSON readable only by its owner (mode 0600).

        Args:
            path: file to create.
            overwrite: replace an existing file (otherwise that is an error).

        Returns:
            The path written.
        """
        target = Path(path).expanduser()
        if target.exists() and not overwrite:
            raise KeyMaterialError(
                f"{target} already exists", hint="choose another path or remove the old key first"
            )
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        body = {
            "type": KEY_FILE_TYPE,
            "version": 1,
            "key_id": self.key_id,
            "secret": self.secret.hex(),
            "demo": self.is_demo,
        }
        tmp = target.with_name(target.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(body, handle, indent=2)
            handle.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
        return target

    @classmethod
    def load(cls, path: str | Path) -> WatermarkKey:
        """Read a key written by :meth:`save`; malformed files raise ``KeyMaterialError``."""
        source = Path(path).expanduser()
        hint = "give a key file made by `reelproof keys init-watermark`"
        try:
            body = json.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyMaterialError(f"watermark key {source} does not exist", hint=hint) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise KeyMaterialError(
                f"cannot read watermark key {source}: {err}", hint=hint
            ) from None
        if not isinstance(body, dict) or body.get("type") != KEY_FILE_TYPE:
            raise KeyMaterialError(f"{source} is not a ReelProof watermark key", hint=hint)
        try:
            secret = bytes.fromhex(str(body["secret"]))
            key_id = str(body["key_id"])
        except (KeyError, ValueError):
            raise KeyMaterialError(f"{source} has no valid secret or key_id", hint=hint) from None
        return cls(secret=secret, key_id=key_id, is_demo=bool(body.get("demo", False)))


class Keyring:
    """The keys a verifier tries, in order; detection reports which one matched.

    Args:
        keys: keys to hold; duplicates (same key_id) are dropped.
    """

    def __init__(self, keys: Sequence[WatermarkKey] = ()) -> None:
        self._keys: list[WatermarkKey] = []
        for key in keys:
            self.add(key)

    def add(self, key: WatermarkKey) -> None:
        """Add ``key`` unless a key with the same id is already held."""
        if all(k.key_id != key.key_id for k in self._keys):
            self._keys.append(key)

    @classmethod
    def default(cls, include_demo: bool = True) -> Keyring:
        """Keys in ``watermark_keys_dir()``, the ``$REELPROOF_WATERMARK_KEY`` file, and the demo key."""
        ring = cls()
        env_path = os.environ.get(KEY_ENV)
        if env_path:
            ring.add(WatermarkKey.load(env_path))
        folder = watermark_keys_dir()
        if folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                ring.add(WatermarkKey.load(path))
        if include_demo:
            ring.add(WatermarkKey.demo())
        return ring

    @property
    def keys(self) -> tuple[WatermarkKey, ...]:
        return tuple(self._keys)

    def __iter__(self) -> Iterator[WatermarkKey]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
