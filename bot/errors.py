"""The one place errors become replies: CadenzaErrors as friendly ephemeral messages, anything else
logged with its traceback under an incident id the member can quote.

Works before the first response (an ephemeral message), after a deferral (the public "thinking"
message is removed and an ephemeral followup sent instead) and after a full response.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import discord
from discord import app_commands

from cadenza.errors import Busy, CadenzaError

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
ERROR_COLOUR = discord.Colour.from_rgb(220, 80, 70)


def new_incident_id() -> str:
    """A short id to find one failure in the logs."""
    return secrets.token_hex(4).upper()


def unwrap(error: BaseException) -> BaseException:
    """The error a command or transformer raised, without discord.py's wrappers."""
    while (
        isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError) and error.__cause__
    ):
        error = error.__cause__
    return error


def message_for(error: BaseException, where: str) -> str:
    """The text a member sees; unexpected errors are logged here with a new incident id."""
    error = unwrap(error)
    if isinstance(error, CadenzaError):
        log.info("refused %s: %s: %s", where, type(error).__name__, error)
        return str(error)
    if isinstance(error, app_commands.MissingPermissions | app_commands.CheckFailure):
        return "You need the **Manage Server** permission for that."
    incident = new_incident_id()
    log.error("incident %s in %s", incident, where, exc_info=error, extra={"incident": incident})
    return (
        "Something went wrong on my side and I couldn't finish that. "
        f"Please try again; if it keeps happening, tell the server admins incident `{incident}`."
    )


def error_embed(text: str, error: BaseException | None = None) -> discord.Embed:
    """An embed for a refusal; Busy-type errors also say when to retry."""
    title = "Not right now" if isinstance(error, Busy) else "I couldn't do that"
    return discord.Embed(title=title, description=text, colour=ERROR_COLOUR)


async def reply_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Answer `interaction` with an ephemeral error, whatever state its responses are in."""
    where = _describe(interaction)
    text = message_for(error, where)
    embed = error_embed(text, unwrap(error))
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(embed=embed, ephemeral=True)
            return
        if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            # The deferral made a public "thinking" message; remove it so the error stays private.
            await interaction.delete_original_response()
        await interaction.followup.send(embed=embed, ephemeral=True)
    except discord.HTTPException as e:
        log.warning("could not tell the member about an error in %s: %s", where, e.text)


def _describe(interaction: discord.Interaction) -> str:
    name = interaction.command.qualified_name if interaction.command else None
    data: dict[str, Any] = dict(interaction.data or {})
    what = f"/{name}" if name else str(data.get("custom_id", "interaction"))
    return f"{what} (user {interaction.user.id}, guild {interaction.guild_id})"


def reports_errors(
    func: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R | None]]:
    """For button and modal callbacks (outside the command tree): errors go to `reply_error`.

    The interaction is found among the arguments; a callback without one is a programming error.
    """

    @wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return await func(*args, **kwargs)
        except Exception as e:
            interaction = next(a for a in (*args, *kwargs.values()) if isinstance(a, discord.Interaction))
            await reply_error(interaction, e)
            return None

    return wrapper


class CadenzaTree(app_commands.CommandTree[Any]):
    """The command tree; every slash and context-menu command's errors end in `reply_error`."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /
    ) -> None:
        await reply_error(interaction, error)
