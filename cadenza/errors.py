"""One error family for the whole project.

Every `CadenzaError` carries a message that is safe to show a Discord user as is. Library errors that
cross into our code are re-raised as one of these `from e`; anything else is a bug and is logged with an
incident id by the bot.
"""

from __future__ import annotations


class CadenzaError(Exception):
    """Base of all expected errors; `str(error)` is a friendly, user-safe message."""


class BadInput(CadenzaError):
    """The user's input (an option, an upload) cannot be used."""


class TooLong(BadInput):
    """An input exceeds a configured size or duration limit."""


class Busy(CadenzaError):
    """The system is at capacity; `retry_after` estimates seconds until there is room."""

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(Busy):
    """A per-user or per-server rate limit refused the request."""


class NotFound(CadenzaError):
    """A piece, session or other stored object does not exist."""


class Forbidden(CadenzaError):
    """The user lacks the permission for this action."""


class GenerationFailed(CadenzaError):
    """The model or engine could not produce a piece (timeouts, engine crashes)."""


class RenderFailed(CadenzaError):
    """Audio or picture rendering failed."""


class ConfigError(CadenzaError):
    """config.toml or the environment is invalid; the message names the offending key."""


class CheckpointError(CadenzaError):
    """A model checkpoint is missing, corrupt, or does not match this code."""
