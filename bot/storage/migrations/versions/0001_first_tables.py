"""First tables: pieces, guild settings, jobs in flight, remix sessions with turns and votes.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from bot.storage.schema import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _id(name: str, **kwargs: object) -> sa.Column[str]:
    return sa.Column(name, sa.String(20), **kwargs)  # type: ignore[arg-type]


def upgrade() -> None:
    op.create_table(
        "pieces",
        _id("id", primary_key=True),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("guild_id", sa.BigInteger, nullable=True),
        sa.Column("channel_id", sa.BigInteger, nullable=False),
        _id("parent_id", nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("midi", sa.LargeBinary, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["pieces.id"], name="fk_pieces_parent_id_pieces"),
        sa.PrimaryKeyConstraint("id", name="pk_pieces"),
    )
    op.create_index("ix_pieces_parent_id", "pieces", ["parent_id"])
    op.create_index("ix_pieces_user_id_created_at", "pieces", ["user_id", "created_at"])

    op.create_table(
        "guild_settings",
        sa.Column("guild_id", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("updated_by", sa.BigInteger, nullable=True),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name="pk_guild_settings"),
    )

    op.create_table(
        "jobs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("request", JSON, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("guild_id", sa.BigInteger, nullable=True),
        sa.Column("channel_id", sa.BigInteger, nullable=False),
        sa.Column("application_id", sa.BigInteger, nullable=False),
        sa.Column("interaction_token", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _id("piece_id", nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(["piece_id"], ["pieces.id"], name="fk_jobs_piece_id_pieces"),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_status", "jobs", ["status"])

    op.create_table(
        "sessions",
        _id("id", nullable=False),
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("thread_id", sa.BigInteger, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("genre", sa.String(50), nullable=False),
        sa.Column("sound", sa.String(50), nullable=False),
        sa.Column("starter_id", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _id("root_piece_id", nullable=True),
        sa.Column("turn_count", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(["root_piece_id"], ["pieces.id"], name="fk_sessions_root_piece_id_pieces"),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.UniqueConstraint("thread_id", name="uq_sessions_thread_id"),
    )
    op.create_index("ix_sessions_guild_id", "sessions", ["guild_id"])

    op.create_table(
        "turns",
        _id("piece_id", nullable=False),
        _id("session_id", nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("author_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _id("parent_piece_id", nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(["piece_id"], ["pieces.id"], name="fk_turns_piece_id_pieces"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name="fk_turns_session_id_sessions"),
        sa.ForeignKeyConstraint(
            ["parent_piece_id"], ["turns.piece_id"], name="fk_turns_parent_piece_id_turns"
        ),
        sa.PrimaryKeyConstraint("piece_id", name="pk_turns"),
        sa.UniqueConstraint("session_id", "number", name="uq_turns_session_id_number"),
    )
    op.create_index("ix_turns_author_id_created_at", "turns", ["author_id", "created_at"])

    op.create_table(
        "votes",
        _id("piece_id", nullable=False),
        sa.Column("user_id", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(["piece_id"], ["turns.piece_id"], name="fk_votes_piece_id_turns"),
        sa.PrimaryKeyConstraint("piece_id", "user_id", name="pk_votes"),
    )


def downgrade() -> None:
    for table in ("votes", "turns", "sessions", "jobs", "guild_settings", "pieces"):
        op.drop_table(table)
