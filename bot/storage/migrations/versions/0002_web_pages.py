"""What the web pages need: a piece can be removed by its maker, and members' display names are kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.storage.schema import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A removed piece keeps its row (its children and turns point at it); pages say it was removed.
    with op.batch_alter_table("pieces") as batch:
        batch.add_column(sa.Column("removed_at", UTCDateTime, nullable=True))
    op.create_index("ix_pieces_guild_id_created_at", "pieces", ["guild_id", "created_at"])
    op.create_table(
        "member_names",
        sa.Column("guild_id", sa.BigInteger, autoincrement=False, nullable=False),  # 0 = direct messages
        sa.Column("user_id", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name="pk_member_names"),
    )


def downgrade() -> None:
    op.drop_table("member_names")
    op.drop_index("ix_pieces_guild_id_created_at", "pieces")
    with op.batch_alter_table("pieces") as batch:
        batch.drop_column("removed_at")
