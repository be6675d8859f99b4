"""Each agent's token generation: sign-out and a password change raise it, which revokes every
token signed with the old one (``server/auth.py``).

Agents that exist before this revision start at 0, the generation tokens without one count as, so
nobody is signed out by the upgrade.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


# A migration is frozen history: its tables stay written out as they were, never refactored.
def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(
            sa.Column("token_generation", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("token_generation")
