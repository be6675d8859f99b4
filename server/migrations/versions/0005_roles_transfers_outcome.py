"""Account roles and unlocks, the session a ticket continues, and whether the customer's problem was solved.

Accounts that exist before this revision are agents (the only kind there was). Sessions recorded
before it continue none and have no answer to "Was your problem solved?".

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


# A migration is frozen history: its tables stay written out as they were, never refactored.
def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="agent"))
        batch.add_column(
            sa.Column("unlock_generation", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("previous_session_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("solved", sa.Boolean(), nullable=True))
    op.create_index("ix_sessions_created_at", "sessions", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_sessions_created_at", table_name="sessions")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("solved")
        batch.drop_column("previous_session_id")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("unlock_generation")
        batch.drop_column("role")
