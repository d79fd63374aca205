"""Scale-out: job leases, broker bookkeeping and attempt history; workers; the manifest store.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("worker", sa.Text()))
        batch.add_column(sa.Column("lease_until", sa.Float()))
        batch.add_column(sa.Column("enqueued_at", sa.Float()))
        batch.add_column(sa.Column("history", sa.Text(), nullable=False, server_default="[]"))
        batch.add_column(
            sa.Column("keep_upload", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "workers",
        sa.Column("worker_id", sa.Text(), primary_key=True),
        sa.Column("hostname", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("info", sa.Text(), nullable=False, server_default="{}"),
    )
    # The manifest store (reelproof.provenance.store_sql): with a server database, generation
    # nodes and verifiers share it; the embedded default keeps its own SQLite file.
    op.create_table(
        "manifests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("watermark_id", sa.String(16), nullable=False),
        sa.Column("manifest", sa.LargeBinary(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.Text()),
        sa.Column("signer", sa.Text(), nullable=False),
        sa.Column("mime", sa.Text(), nullable=False),
        sa.Column("created", sa.Text(), nullable=False),
    )
    op.create_index("manifests_by_watermark", "manifests", ["watermark_id", "id"])


def downgrade() -> None:
    op.drop_index("manifests_by_watermark", "manifests")
    op.drop_table("manifests")
    op.drop_table("workers")
    with op.batch_alter_table("jobs") as batch:
        for name in ("keep_upload", "history", "enqueued_at", "lease_until", "worker"):
            batch.drop_column(name)
