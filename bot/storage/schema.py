"""The tables, as SQLAlchemy Core metadata (the migrations create them; this describes them to queries)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

ID_LENGTH = 20  # piece and session ids ride in Discord custom_ids (100 chars shared with a prefix)
JSON = sa.JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive, as UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData(
    # Named constraints, so later migrations can drop or alter them on every database.
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

pieces = sa.Table(
    "pieces",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("guild_id", sa.BigInteger, nullable=True),
    sa.Column("channel_id", sa.BigInteger, nullable=False),
    sa.Column("parent_id", sa.String(ID_LENGTH), sa.ForeignKey("pieces.id"), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("settings", JSON, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("midi", sa.LargeBinary, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("removed_at", UTCDateTime, nullable=True),  # set when its maker removed it (0002)
    sa.Index(None, "parent_id"),
    sa.Index(None, "user_id", "created_at"),
    sa.Index(None, "guild_id", "created_at"),
)

guild_settings = sa.Table(
    "guild_settings",
    metadata,
    sa.Column("guild_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("settings", JSON, nullable=False),
    sa.Column("updated_by", sa.BigInteger, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("request", JSON, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("guild_id", sa.BigInteger, nullable=True),
    sa.Column("channel_id", sa.BigInteger, nullable=False),
    sa.Column("application_id", sa.BigInteger, nullable=False),
    sa.Column("interaction_token", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("piece_id", sa.String(ID_LENGTH), sa.ForeignKey("pieces.id"), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index(None, "status"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("guild_id", sa.BigInteger, nullable=False),
    sa.Column("thread_id", sa.BigInteger, nullable=False, unique=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("genre", sa.String(50), nullable=False),
    sa.Column("sound", sa.String(50), nullable=False),
    sa.Column("starter_id", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("root_piece_id", sa.String(ID_LENGTH), sa.ForeignKey("pieces.id"), nullable=True),
    sa.Column("turn_count", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index(None, "guild_id"),
)

turns = sa.Table(
    "turns",
    metadata,
    sa.Column("piece_id", sa.String(ID_LENGTH), sa.ForeignKey("pieces.id"), primary_key=True),
    sa.Column("session_id", sa.String(ID_LENGTH), sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("author_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("parent_piece_id", sa.String(ID_LENGTH), sa.ForeignKey("turns.piece_id"), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("session_id", "number"),
    sa.Index(None, "author_id", "created_at"),
)

votes = sa.Table(
    "votes",
    metadata,
    sa.Column("piece_id", sa.String(ID_LENGTH), sa.ForeignKey("turns.piece_id"), primary_key=True),
    sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

member_names = sa.Table(
    "member_names",
    metadata,
    sa.Column("guild_id", sa.BigInteger, primary_key=True, autoincrement=False),  # 0 = direct messages
    sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)
