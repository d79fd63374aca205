"""Durable credentials: manifests kept by watermark id, so stripped clips can find them again.

``ManifestStore`` is the interface; ``SqliteManifestStore`` is the embedded default (WAL
journal, one transaction per write, a fresh connection per call so it is safe across threads and
processes); ``SqlManifestStore`` (``reelproof.provenance.store_sql``) keeps the same table in a
server database (PostgreSQL), so many generation nodes write to one store and any verifier finds
a manifest by watermark id. :func:`open_manifest_store` picks one from a path or a URL; the SQL
store's module (and SQLAlchemy) is imported only when a URL asks for it, so this package stays
light.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from reelproof.core.errors import ConfigError, InputError
from reelproof.core.results import Result
from reelproof.provenance.fingerprint import Fingerprint

_SCHEMA = """
CREATE TABLE IF NOT EXISTS manifests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    watermark_id TEXT NOT NULL,
    manifest BLOB NOT NULL,
    content_sha256 TEXT NOT NULL,
    fingerprint TEXT,
    signer TEXT NOT NULL,
    mime TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS manifests_by_watermark ON manifests (watermark_id, id);
"""


@dataclass(frozen=True)
class StoredManifest(Result):
    """A manifest kept in the store.

    Attributes:
        watermark_id: 16 hex digits (the key).
        manifest_bytes: the C2PA manifest store (JUMBF) as signed.
        content_sha256: SHA-256 of the signed file.
        fingerprint: perceptual fingerprint of the signed clip (``None`` if not computed).
        signer: subject of the signing certificate.
        mime: MIME type of the signed file.
        created: when it was stored (UTC, ISO 8601).
    """

    schema = "stored_manifest"

    watermark_id: str
    manifest_bytes: bytes
    content_sha256: str
    fingerprint: Fingerprint | None
    signer: str
    mime: str
    created: str

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["manifest_bytes"] = len(self.manifest_bytes)
        return body


@runtime_checkable
class ManifestStore(Protocol):
    """Where signed manifests are kept, keyed by watermark id."""

    def put(
        self,
        watermark_id: str,
        manifest_bytes: bytes,
        *,
        content_sha256: str,
        fingerprint: Fingerprint | None,
        signer: str,
        mime: str = "video/mp4",
    ) -> StoredManifest:
        """Store a manifest (a later put for the same id wins on lookup)."""
        ...

    def lookup(self, watermark_id: str) -> StoredManifest | None:
        """The latest manifest stored under ``watermark_id``, or ``None``."""
        ...


def open_manifest_store(location: str | Path | None = None) -> ManifestStore:
    """The manifest store at ``location``.

    Args:
        location: a SQLite file, or a database URL (``postgresql+psycopg://user:pw@host/db``;
            any SQLAlchemy URL whose database has the ``manifests`` table); ``None`` is
            ``REELPROOF_MANIFEST_STORE``, else the default SQLite file under the ReelProof home.

    Raises:
        ConfigError: the store cannot be opened (the message says how to fix it).
    """
    if location is None:
        from reelproof.core.paths import manifest_store_location

        location = manifest_store_location()
    if isinstance(location, str) and "://" in location:
        from reelproof.provenance.store_sql import SqlManifestStore

        return SqlManifestStore(location)
    return SqliteManifestStore(location)


def redact_location(location: str | Path) -> str:
    """``location`` for logs and ``/v1/models``: a URL's password replaced by ``***``."""
    return re.sub(r"(://[^:/@]+:)[^@/]*@", r"\1***@", str(location))


def new_record(
    watermark_id: str,
    manifest_bytes: bytes,
    content_sha256: str,
    fingerprint: Fingerprint | None,
    signer: str,
    mime: str,
) -> StoredManifest:
    """The record a store keeps for one signing, stamped now (the id normalised)."""
    return StoredManifest(
        watermark_id=_normalise_id(watermark_id),
        manifest_bytes=bytes(manifest_bytes),
        content_sha256=content_sha256,
        fingerprint=fingerprint,
        signer=signer,
        mime=mime,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )


def _normalise_id(watermark_id: str) -> str:
    wid = watermark_id.strip().lower().removeprefix("0x")
    if len(wid) != 16 or any(c not in "0123456789abcdef" for c in wid):
        raise InputError(f"watermark id {watermark_id!r} is not 16 hex digits")
    return wid


class SqliteManifestStore:
    """SQLite manifest store (WAL), the embedded default.

    Args:
        path: database file (default ``reelproof.core.paths.manifest_store_path()``).
    """

    def __init__(self, path: Path | str | None = None) -> None:
        if path is None:
            from reelproof.core.paths import manifest_store_path

            path = manifest_store_path()
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
        except sqlite3.Error as err:
            raise ConfigError(
                f"cannot open the manifest store {self.path}: {err}",
                hint="check the folder is writable, or point REELPROOF_HOME elsewhere",
            ) from err

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.execute("PRAGMA synchronous=NORMAL")
            yield conn
        finally:
            conn.close()

    def put(
        self,
        watermark_id: str,
        manifest_bytes: bytes,
        *,
        content_sha256: str,
        fingerprint: Fingerprint | None,
        signer: str,
        mime: str = "video/mp4",
    ) -> StoredManifest:
        """Store one manifest in a single transaction."""
        record = new_record(watermark_id, manifest_bytes, content_sha256, fingerprint, signer, mime)
        with self._connect() as conn, conn:  # the inner `with conn` commits or rolls back
            conn.execute(
                "INSERT INTO manifests (watermark_id, manifest, content_sha256, fingerprint,"
                " signer, mime, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.watermark_id,
                    record.manifest_bytes,
                    record.content_sha256,
                    fingerprint.to_json() if fingerprint is not None else None,
                    record.signer,
                    record.mime,
                    record.created,
                ),
            )
        return record

    def lookup(self, watermark_id: str) -> StoredManifest | None:
        """The latest manifest stored under ``watermark_id``."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT watermark_id, manifest, content_sha256, fingerprint, signer, mime, created"
                " FROM manifests WHERE watermark_id = ? ORDER BY id DESC LIMIT 1",
                (_normalise_id(watermark_id),),
            ).fetchone()
        if row is None:
            return None
        return StoredManifest(
            watermark_id=row[0],
            manifest_bytes=bytes(row[1]),
            content_sha256=row[2],
            fingerprint=Fingerprint.from_json(row[3]) if row[3] else None,
            signer=row[4],
            mime=row[5],
            created=row[6],
        )

    def count(self) -> int:
        """Number of stored manifests."""
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM manifests").fetchone()[0])
