"""Agents' display names, the desk's canned replies and the screenshots kept with sessions.

Agents that exist before this revision have no display name: customers see their login name, as
before.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


# A migration is frozen history: its tables stay written out as they were, never refactored.
def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("display_name", sa.String(80), nullable=True))
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "session_screenshots",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_session_screenshots_session_id", "session_screenshots", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_session_screenshots_session_id", table_name="session_screenshots")
    op.drop_table("session_screenshots")
    op.drop_table("canned_replies")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("display_name")
