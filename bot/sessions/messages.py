"""What session messages say: the session card, a turn, the top list, status changes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import discord

from bot.reply import COLOUR, PICTURE_NAME
from bot.storage import Piece, RemixSession, Turn

RULES = (
    "Take turns with the buttons under any turn:\n"
    "⏩ **Continue** extends it · 🎛️ **Remix** redoes it in another genre, sound or tempo · "
    "🎹 **Harmonize** writes voices under its melody · 🌿 **Branch** continues from any earlier turn · "
    "👍 likes it (press again to take the like back).\n"
    "`/session add clip` splices in your own clip or MIDI file. `/session top`, `/session tree` and "
    "`/session mix` show the best turns, the family tree, and any path as one track."
)
MOVE_WORDS = {
    "start": "started the session",
    "continue": "continued",
    "branch": "branched from",
    "remix": "remixed",
    "harmonize": "harmonized",
    "upload": "spliced in a clip after",
}


def card_embed(session: RemixSession, starter: discord.abc.User, limits: str) -> discord.Embed:
    """The session card: title, who started it, the rules and the limits."""
    embed = discord.Embed(title=f"🎶 {session.title}", colour=COLOUR, description=RULES)
    embed.add_field(name="Started by", value=starter.mention)
    embed.add_field(name="Genre", value=session.genre)
    embed.add_field(name="Sound", value=session.sound or "genre default")
    embed.add_field(name="Limits", value=limits, inline=False)
    embed.set_footer(text=f"session {session.id} · {session.status.value}")
    return embed


def turn_embed(
    session: RemixSession,
    turn: Turn,
    piece: Piece,
    meta: Mapping[str, Any],
    author: discord.abc.User,
    parent_number: int | None = None,
) -> discord.Embed:
    """One turn: number, author, what they did, its settings; the piano roll as the image."""
    move = str(piece.settings.get("move", turn.kind.value))
    parent = f" #{parent_number}" if parent_number is not None else ""
    title = f"Turn #{turn.number}: {author.display_name} {MOVE_WORDS.get(move, move)}{parent}"
    remarks = meta.get("remarks") or ()
    embed = discord.Embed(title=title[:256], colour=COLOUR, description="\n".join(remarks) or None)
    settings = piece.settings
    embed.add_field(name="Genre", value=str(settings.get("genre", session.genre)))
    embed.add_field(name="Sound", value=str(meta.get("sound") or settings.get("sound") or "genre default"))
    embed.add_field(name="Key", value=str(meta.get("key") or "—"))
    embed.add_field(name="Length", value=f"{piece.duration_s:.1f} s")
    embed.set_image(url=f"attachment://{PICTURE_NAME}")
    embed.set_author(name=author.display_name, icon_url=author.display_avatar.url)
    built_on = f" · on piece {piece.parent_id}" if piece.parent_id else ""
    embed.set_footer(text=f"piece {piece.id}{built_on} · session {session.id}")
    return embed


def top_embed(session: RemixSession, turns: Sequence[Turn], names: Mapping[int, str]) -> discord.Embed:
    """The most liked turns, most likes first."""
    embed = discord.Embed(title=f"🏆 Most liked in {session.title}", colour=COLOUR)
    if not turns:
        embed.description = "No turns yet."
    lines = []
    for place, turn in enumerate(turns, start=1):
        likes = f"{turn.votes} like" + ("" if turn.votes == 1 else "s")
        lines.append(
            f"**{place}.** Turn #{turn.number} by {names.get(turn.author_id, '?')} · {turn.kind.value} · {likes}"
        )
    embed.description = "\n".join(lines) or "No turns yet."
    embed.set_footer(text=f"session {session.id} · {session.status.value}")
    return embed


STATUS_WORDS = {
    "locked": "🔒 {who} locked the session: no new turns until it is unlocked. Likes still count.",
    "open": "🔓 {who} unlocked the session: take your turns!",
    "ended": "🏁 {who} ended the session. Everything stays here to read, play, rank and mix.",
}
