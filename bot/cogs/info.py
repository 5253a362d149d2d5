"""/genres and /help: what Cadenza can do, in members' words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.replies import COLOUR

if TYPE_CHECKING:
    from bot.app import CadenzaBot

# What each genre label means for a listener; the collections it was learned from come from config.
GENRE_NOTES = {
    "chorale": "four-part hymns in the style of J. S. Bach's chorales",
    "folk": "European folk songs: simple, singable melodies",
    "celtic": "Irish and Scottish fiddle tunes: jigs, reels, airs",
    "renaissance": "flowing vocal polyphony of the 15th-16th centuries",
    "medieval": "14th-century songs for two or three voices",
    "classical": "string-quartet writing of the Classical era",
}
COLLECTION_NAMES = {
    "bach": "J. S. Bach's chorales",
    "essenFolksong": "the Essen folk-song collection",
    "miscFolk": "assorted folk tunes",
    "oneills1850": "O'Neill's Music of Ireland (1850)",
    "ryansMammoth": "Ryan's Mammoth Collection",
    "airdsAirs": "Aird's Airs",
    "palestrina": "Palestrina's masses",
    "josquin": "Josquin des Prez",
    "monteverdi": "Monteverdi's madrigals",
    "trecento": "Italian trecento songs",
    "ciconia": "Johannes Ciconia",
    "beethoven": "Beethoven's quartets",
    "mozart": "Mozart's quartets",
    "haydn": "Haydn's quartets",
}

HELP_TEXT = """\
**/compose** `genre` `length` — a new piece. Optional: `key` (D minor), `tempo`, `sound`, \
`creativity`, `seed` (the same seed gives the same piece), `clip` (audio or MIDI to continue).
**/continue** `clip` — continue your own recording (a voice message works) or MIDI file.
**Continue with Cadenza** — right-click (long-press) a message with audio, MIDI or a Cadenza piece → Apps.
**/rewrite** `piece` `bars` — write bars (like `5-8`) of one of your pieces anew, keeping the rest.
**/accompany** `clip` — parts written under your melody (a recording, a voice message or a MIDI file); \
or right-click a message → Apps → **Accompany with Cadenza**.
**/piece delete** `piece` — remove one of your pieces (its web page then says it was removed).
**/genres** — the styles Cadenza knows and where it learned them.
**/cadenza settings** — server defaults and limits, and the picture a reply shows (needs Manage Server).

Under every piece: **Another take** (same settings, new seed), **Continue** (make it longer), \
**Remix** (new genre, sound or tempo over the same music) and **Rewrite bars** (some bars anew). \
Everyone in the channel can use them. Every piece comes with its sheet music (`score.png`, \
`piece.musicxml`) beside the MP3 and MIDI.
"""


class InfoCog(commands.Cog, name="Info"):
    """Help and the list of genres."""

    def __init__(self, bot: CadenzaBot) -> None:
        self.bot = bot

    @app_commands.command(name="genres")
    async def genres(self, interaction: discord.Interaction[Any]) -> None:
        """The genres Cadenza composes in, and the music it learned each from."""
        embed = discord.Embed(title="Genres", colour=COLOUR, description=self.genres_text())
        embed.set_footer(text="All training music is public domain, from music21's corpus.")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    def genres_text(self) -> str:
        """One line per genre of the loaded model."""
        sources = self.bot.services.config.genre_sources
        lines = []
        for genre in self.bot.services.checker.genres:
            note = GENRE_NOTES.get(genre, "a genre from the operator's own music")
            learned = ", ".join(COLLECTION_NAMES.get(c, c) for c in sources.get(genre, ()))
            lines.append(f"**{genre}** — {note}" + (f"\n  *learned from {learned}*" if learned else ""))
        return "\n".join(lines)

    @app_commands.command(name="help")
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        """How to use Cadenza."""
        s = self.bot.services.settings
        embed = discord.Embed(title="Cadenza composes music for you", colour=COLOUR, description=HELP_TEXT)
        embed.add_field(name="Lengths", value=f"{s.min_seconds}–{s.max_seconds} s")
        embed.add_field(name="Clips", value=f"up to {s.attachment_max_bytes / 2**20:g} MB")
        embed.add_field(name="At once", value=f"{s.max_jobs_per_user} pieces per member")
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: CadenzaBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(InfoCog(bot))
