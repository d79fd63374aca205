"""The manifest store in a server database (PostgreSQL), through SQLAlchemy Core.

The table is the SQLite store's (``manifests``: one row per signing, the latest row per watermark
id wins on lookup). Its schema belongs to the service database's Alembic migrations
(``reelproof db upgrade``), so this store never creates or alters tables: it checks the table is
there and says how to create it when it is not.

Imported only by :func:`reelproof.provenance.store.open_manifest_store` when a URL names a
database, so ``import reelproof.provenance`` never loads SQLAlchemy.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from reelproof.core.errors import ConfigError
from reelproof.provenance.fingerprint import Fingerprint
from reelproof.provenance.store import (
    StoredManifest,
    _normalise_id,
    new_record,
    redact_location,
)

METADATA = sa.MetaData()
MANIFESTS = sa.Table(
    "manifests",
    METADATA,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("watermark_id", sa.String(16), nullable=False),
    sa.Column("manifest", sa.LargeBinary(), nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.Text()),
    sa.Column("signer", sa.Text(), nullable=False),
    sa.Column("mime", sa.Text(), nullable=False),
    sa.Column("created", sa.Text(), nullable=False),
    sa.Index("manifests_by_watermark", "watermark_id", "id"),
)
"""The table (the migration ``0001`` creates it with these columns)."""


class SqlManifestStore:
    """Manifest store in the database at ``url`` (one short transaction per call).

    Args:
        url: a SQLAlchemy URL, e.g. ``postgresql+psycopg://user:pw@host:5432/reelproof``.

    Raises:
        ConfigError: the database cannot be reached, or has no ``manifests`` table yet.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        where = redact_location(url)
        try:
            self.engine = sa.create_engine(url, pool_pre_ping=True)
            with self.engine.connect() as conn:
                present = sa.inspect(conn).has_table(MANIFESTS.name)
        except (SQLAlchemyError, ImportError, ValueError) as err:
            raise ConfigError(
                f"cannot open the manifest store {where}: {err}",
                hint="check the URL, that the database is up, and that the driver is installed "
                "(pip install 'reelproof[scale]')",
            ) from err
        if not present:
            raise ConfigError(
                f"the database {where} has no manifest table yet",
                hint=f"create it with: REELPROOF_DATABASE_URL={where} reelproof db upgrade",
            )

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
        with self.engine.begin() as conn:
            conn.execute(
                MANIFESTS.insert().values(
                    watermark_id=record.watermark_id,
                    manifest=record.manifest_bytes,
                    content_sha256=record.content_sha256,
                    fingerprint=fingerprint.to_json() if fingerprint is not None else None,
                    signer=record.signer,
                    mime=record.mime,
                    created=record.created,
                )
            )
        return record

    def lookup(self, watermark_id: str) -> StoredManifest | None:
        """The latest manifest stored under ``watermark_id``."""
        query = (
            sa.select(MANIFESTS)
            .where(MANIFESTS.c.watermark_id == _normalise_id(watermark_id))
            .order_by(MANIFESTS.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return StoredManifest(
            watermark_id=row["watermark_id"],
            manifest_bytes=bytes(row["manifest"]),
            content_sha256=row["content_sha256"],
            fingerprint=Fingerprint.from_json(row["fingerprint"]) if row["fingerprint"] else None,
            signer=row["signer"],
            mime=row["mime"],
            created=row["created"],
        )

    def count(self) -> int:
        """Number of stored manifests."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(MANIFESTS)).scalar_one())
