"""The buttons under every piece, and the one Remix form (pieces and session turns both use it).

Buttons are `DynamicItem`s: their custom ids carry the action and the piece id (`cadenza:take:<id>`),
so they keep working after a restart without any view state in memory. Anyone in the channel may
press them; the fairness limits apply to whoever presses.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.bars import parse_bars
from bot.errors import reply_error, reports_errors
from bot.options import PieceSpec, Work
from bot.services import services_of
from bot.storage import PieceKind
from cadenza.errors import BadInput

PIECE_ID = r"(?P<piece>[A-Za-z0-9_-]{1,40})"


@dataclass(frozen=True)
class PieceAction:
    """One button under a piece: how it looks and what kind of piece pressing it makes."""

    label: str
    emoji: str
    style: discord.ButtonStyle
    kind: PieceKind


PIECE_ACTIONS = {
    "take": PieceAction("Another take", "🎲", discord.ButtonStyle.primary, PieceKind.TAKE),
    "continue": PieceAction("Continue", "⏩", discord.ButtonStyle.secondary, PieceKind.CONTINUE),
    "remix": PieceAction("Remix", "🎛️", discord.ButtonStyle.secondary, PieceKind.REMIX),
    "rewrite": PieceAction("Rewrite bars", "✏️", discord.ButtonStyle.secondary, PieceKind.REWRITE),
}


class PieceButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"cadenza:(?P<action>{'|'.join(PIECE_ACTIONS)}):{PIECE_ID}",
):
    """Another take (same settings, a new seed), Continue (longer by its own length), Remix (a form) or
    Rewrite bars (a form asking which)."""

    def __init__(self, action: str, piece_id: str) -> None:
        look = PIECE_ACTIONS[action]
        super().__init__(
            discord.ui.Button(
                label=look.label, emoji=look.emoji, style=look.style, custom_id=f"cadenza:{action}:{piece_id}"
            )
        )
        self.action, self.piece_id = action, piece_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PieceButton:
        return cls(match["action"], match["piece"])

    @reports_errors
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        services = services_of(interaction)
        piece = await services.storage.get_piece(self.piece_id)  # NotFound is a friendly CadenzaError
        spec = PieceSpec.from_json(piece.settings)
        if self.action == "remix":
            await interaction.response.send_modal(
                RemixModal(f"cadenza:remix-modal:{self.piece_id}", spec, self._remix, "Remix this piece")
            )
            return
        if self.action == "rewrite":
            modal = RewriteModal(f"cadenza:rewrite-modal:{self.piece_id}", self._rewrite, "Rewrite bars")
            await interaction.response.send_modal(modal)
            return
        work = Work(spec.with_seed(), PIECE_ACTIONS[self.action].kind, parent_id=self.piece_id)
        await services.runner.compose(interaction, work)

    async def _rewrite(self, interaction: discord.Interaction[Any], bars: tuple[int, int]) -> None:
        await rewrite_piece(interaction, self.piece_id, bars)

    async def _remix(self, interaction: discord.Interaction[Any], spec: PieceSpec) -> None:
        work = Work(spec, PieceKind.REMIX, parent_id=self.piece_id)
        await services_of(interaction).runner.compose(interaction, work)


Remix = Callable[[discord.Interaction[Any], PieceSpec], Awaitable[None]]


class RemixModal(discord.ui.Modal, title="Remix"):
    """Genre, sound and tempo for a remix, prefilled with the piece's own; `remix` makes it."""

    genre: discord.ui.TextInput[RemixModal] = discord.ui.TextInput(
        label="Genre", custom_id="genre", max_length=40
    )
    sound: discord.ui.TextInput[RemixModal] = discord.ui.TextInput(
        label="Sound",
        custom_id="sound",
        required=False,
        max_length=40,
        placeholder="e.g. piano, strings, chiptune",
    )
    tempo: discord.ui.TextInput[RemixModal] = discord.ui.TextInput(
        label="Tempo (beats per minute)",
        custom_id="tempo",
        required=False,
        max_length=6,
        placeholder="leave empty for the genre's usual",
    )

    def __init__(self, custom_id: str, spec: PieceSpec, remix: Remix, title: str) -> None:
        super().__init__(title=title, custom_id=custom_id)
        self.spec, self.remix = spec, remix
        self.genre.default = spec.genre
        self.sound.default = spec.sound or ""
        self.tempo.default = str(spec.tempo) if spec.tempo else ""

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        services = services_of(interaction)
        spec = services.checker.build(
            await services.servers.get(interaction.guild_id),
            genre=self.genre.value,
            seconds=self.spec.seconds,
            key=self.spec.key,
            tempo=parse_tempo(self.tempo.value),
            sound=self.sound.value or None,
            creativity=self.spec.creativity,
        )
        await self.remix(interaction, spec)

    async def on_error(  # type: ignore[override]  # Modal.on_error takes no item, unlike View's
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await reply_error(interaction, error)


async def rewrite_piece(interaction: discord.Interaction[Any], piece_id: str, bars: tuple[int, int]) -> None:
    """Bars `bars` of a stored piece written anew, with its settings and a new seed (the button, /rewrite)."""
    services = services_of(interaction)
    piece = await services.storage.get_piece(piece_id)
    if piece.removed_at is not None:
        raise BadInput("That piece was removed by its maker, so it can't be rewritten.")
    spec = PieceSpec.from_json(piece.settings).with_seed()
    await services.runner.compose(interaction, Work(spec, PieceKind.REWRITE, parent_id=piece_id, bars=bars))


Rewrite = Callable[[discord.Interaction[Any], tuple[int, int]], Awaitable[None]]


class RewriteModal(discord.ui.Modal, title="Rewrite bars"):
    """Which bars to write anew ("5-8"); `rewrite` makes it (the range is checked before admission)."""

    bars: discord.ui.TextInput[RewriteModal] = discord.ui.TextInput(
        label="Bars to rewrite", custom_id="bars", max_length=20, placeholder="e.g. 5-8, or one bar: 5"
    )

    def __init__(self, custom_id: str, rewrite: Rewrite, title: str) -> None:
        super().__init__(title=title, custom_id=custom_id)
        self.rewrite = rewrite

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self.rewrite(interaction, parse_bars(self.bars.value))

    async def on_error(  # type: ignore[override]  # Modal.on_error takes no item, unlike View's
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await reply_error(interaction, error)


def parse_tempo(text: str) -> float | None:
    """A tempo typed into a form: None when empty, BadInput when it is not a number."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError as e:
        raise BadInput(f"The tempo must be a number of beats per minute, not `{text}`.") from e


def piece_view(piece_id: str, page_url: str | None = None) -> discord.ui.View:
    """The buttons for a piece's message (and a link to its web page, when there is one)."""
    view = discord.ui.View(timeout=None)
    for action in PIECE_ACTIONS:
        view.add_item(PieceButton(action, piece_id))
    add_page_link(view, page_url)
    return view


def add_page_link(view: discord.ui.View, page_url: str | None) -> None:
    """A link button to the piece's page on the web front (none when the front is off or links are)."""
    if page_url is not None:
        view.add_item(discord.ui.Button(label="Page", emoji="🌐", url=page_url))


PIECE_BUTTONS = (PieceButton,)


def piece_id_of(message: discord.Message) -> str | None:
    """The piece a Cadenza message shows (from its button ids), if any."""
    for row in message.components:
        for child in getattr(row, "children", ()):
            match = re.fullmatch(
                rf"cadenza:(?:{'|'.join(PIECE_ACTIONS)}):{PIECE_ID}", getattr(child, "custom_id", "") or ""
            )
            if match:
                return match["piece"]
    return None
