"""`/session mix`: the path from the first turn to a chosen turn, rendered as one track."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.reply import COLOUR
from bot.storage import RemixSession, Turn
from render import RenderJob
from render.edits import Part, join_parts, length_s, midi_to_bytes

if TYPE_CHECKING:
    from bot.services import Services

MIX_AUDIO, MIX_MIDI, MIX_PICTURE = "mix.mp3", "mix.mid", "mix.png"


def path_to(turns: Sequence[Turn], last: Turn) -> list[Turn]:
    """The turns from the root down to `last` (root first), following each turn's parent."""
    by_piece = {t.piece_id: t for t in turns}
    path = [last]
    while path[-1].parent_piece_id is not None and len(path) <= len(turns):
        parent = by_piece.get(path[-1].parent_piece_id)
        if parent is None:
            break
        path.append(parent)
    return path[::-1]


async def render_mix(
    services: Services, session: RemixSession, turns: Sequence[Turn], last: Turn, crossfade_s: float
) -> tuple[discord.Embed, list[discord.File]]:
    """The mix's embed and files (MP3, MIDI, piano roll)."""
    path = path_to(turns, last)
    parts = [Part(t.number, (await services.storage.get_piece(t.piece_id)).midi) for t in path]
    joined = join_parts(parts, crossfade_s)
    rendered = await services.pipeline.render_pool.render(
        RenderJob(
            midi=joined.score,
            title=f"{session.title} (mix to turn #{last.number})",
            genre=session.genre,
            preset=session.sound or None,
        )
    )
    embed = discord.Embed(title=f"🎚️ {session.title}: mix to turn #{last.number}", colour=COLOUR)
    embed.add_field(name="Path", value=" → ".join(f"#{t.number}" for t in path)[:1024], inline=False)
    embed.add_field(name="Length", value=f"{length_s(joined.score):.1f} s")
    embed.add_field(name="Crossfades", value=f"{len(path) - 1} × {joined.crossfade_s:.2f} s")
    embed.add_field(name="Sound", value=rendered.preset)
    embed.set_image(url=f"attachment://{MIX_PICTURE}")
    embed.set_footer(text=f"session {session.id}")
    files = [
        discord.File(io.BytesIO(rendered.audio), MIX_AUDIO, description="the mix as audio"),
        discord.File(io.BytesIO(midi_to_bytes(joined.score)), MIX_MIDI, description="the mix as MIDI"),
        discord.File(io.BytesIO(rendered.png), MIX_PICTURE, description="piano roll of the mix"),
    ]
    return embed, files
