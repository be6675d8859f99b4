"""Sites for web visitors (co-browsing): the ``sites`` table, and each device's ``kind`` and site.

Devices registered before this revision become ``kind = 'device'`` without a site.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


# A migration is frozen history: its tables stay written out as they were, never refactored.
def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("origins", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("key"),
    )
    # Batch mode: SQLite cannot add a foreign key to an existing table, so Alembic copies the
    # table into a new one there; PostgreSQL alters it in place.
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="device"))
        batch.add_column(sa.Column("site_id", sa.String(64), nullable=True))
        batch.create_foreign_key(
            "fk_devices_site_id_sites", "sites", ["site_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_devices_site_id", ["site_id"])


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_index("ix_devices_site_id")
        batch.drop_constraint("fk_devices_site_id_sites", type_="foreignkey")
        batch.drop_column("site_id")
        batch.drop_column("kind")
    op.drop_table("sites")
