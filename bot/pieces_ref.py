"""A piece a member names in a command: its id (what autocomplete fills in) or a link to its message."""

from __future__ import annotations

import re

import discord

from bot.storage import Piece, Storage
from bot.views import PIECE_ID, piece_id_of
from cadenza.errors import BadInput

MESSAGE_LINK = re.compile(r"https://(?:\w+\.)?discord(?:app)?\.com/channels/(?:\d+|@me)/(\d+)/(\d+)/?")
CHOICE_NAME = 100  # Discord's longest autocomplete choice name


async def piece_of(bot: discord.Client, storage: Storage, text: str) -> Piece:
    """The stored piece `text` names; BadInput (or NotFound) with a reason when it names none."""
    text = text.strip()
    link = MESSAGE_LINK.fullmatch(text)
    if link is not None:
        return await storage.get_piece(await _piece_in_message(bot, int(link[1]), int(link[2])))
    if not re.fullmatch(PIECE_ID, text):
        raise BadInput("Name a piece from the list, or paste the link of a Cadenza piece's message.")
    return await storage.get_piece(text)


async def _piece_in_message(bot: discord.Client, channel_id: int, message_id: int) -> str:
    try:
        channel = bot.get_channel(channel_id) or await bot.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise BadInput("That link does not point at a message I can read.")
        message = await channel.fetch_message(message_id)
    except (discord.NotFound, discord.Forbidden) as e:
        raise BadInput("I can't open the message that link points at.") from e
    mine = bot.user is not None and message.author.id == bot.user.id
    piece_id = piece_id_of(message) if mine else None
    if piece_id is None:
        raise BadInput("That message is not a Cadenza piece. Link the message that has the piece's buttons.")
    return piece_id


async def recent_choices(
    storage: Storage, user_id: int, typed: str
) -> list[discord.app_commands.Choice[str]]:
    """A member's recent pieces whose title or id contains what they typed, newest first."""
    typed = typed.strip().lower()
    pieces = await storage.recent_pieces(user_id, limit=25)
    return [
        discord.app_commands.Choice(name=f"{p.title or 'Piece'} · {p.id}"[:CHOICE_NAME], value=p.id)
        for p in pieces
        if typed in (p.title or "").lower() or typed in p.id.lower()
    ]
