"""The buttons under every piece, and the Remix modal.

Buttons are `DynamicItem`s: their custom ids carry the piece id (`cadenza:take:<id>`), so they keep
working after a restart without any view state in memory. Anyone in the channel may press them;
the fairness limits apply to whoever presses.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.errors import reply_error, reports_errors
from bot.options import PieceSpec
from bot.storage import PieceKind

if TYPE_CHECKING:
    from bot.app import CadenzaBot
    from bot.services import Services

PIECE_ID = r"(?P<piece>[A-Za-z0-9_-]{1,40})"


def services_of(interaction: discord.Interaction[Any]) -> Services:
    """The bot's shared services, from an interaction."""
    return cast("CadenzaBot", interaction.client).services


async def _spec_of(interaction: discord.Interaction[Any], piece_id: str) -> tuple[Services, PieceSpec]:
    services = services_of(interaction)
    piece = await services.storage.get_piece(piece_id)  # NotFound is a friendly CadenzaError
    return services, PieceSpec.from_json(piece.settings)


class TakeButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"cadenza:take:{PIECE_ID}"):
    """Another take: the same settings with a new seed."""

    def __init__(self, piece_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Another take",
                emoji="🎲",
                style=discord.ButtonStyle.primary,
                custom_id=f"cadenza:take:{piece_id}",
            )
        )
        self.piece_id = piece_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TakeButton:
        return cls(match["piece"])

    @reports_errors
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.jobs import Work

        services, spec = await _spec_of(interaction, self.piece_id)
        work = Work(spec.with_seed(), PieceKind.TAKE, parent_id=self.piece_id)
        await services.runner.run(interaction, work)


class ContinueButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"cadenza:continue:{PIECE_ID}"
):
    """Continue: extend the piece by its own length."""

    def __init__(self, piece_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Continue",
                emoji="⏩",
                style=discord.ButtonStyle.secondary,
                custom_id=f"cadenza:continue:{piece_id}",
            )
        )
        self.piece_id = piece_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ContinueButton:
        return cls(match["piece"])

    @reports_errors
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.jobs import Work

        services, spec = await _spec_of(interaction, self.piece_id)
        work = Work(spec.with_seed(), PieceKind.CONTINUE, parent_id=self.piece_id)
        await services.runner.run(interaction, work)


class RemixButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"cadenza:remix:{PIECE_ID}"):
    """Remix: a modal to change genre, sound and tempo over the same material."""

    def __init__(self, piece_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Remix",
                emoji="🎛️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"cadenza:remix:{piece_id}",
            )
        )
        self.piece_id = piece_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RemixButton:
        return cls(match["piece"])

    @reports_errors
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        _, spec = await _spec_of(interaction, self.piece_id)
        await interaction.response.send_modal(RemixModal(self.piece_id, spec))


class RemixModal(discord.ui.Modal, title="Remix this piece"):
    """Genre, sound and tempo for a remix, prefilled with the piece's own."""

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

    def __init__(self, piece_id: str, spec: PieceSpec) -> None:
        super().__init__(custom_id=f"cadenza:remix-modal:{piece_id}")
        self.piece_id = piece_id
        self.spec = spec
        self.genre.default = spec.genre
        self.sound.default = spec.sound or ""
        self.tempo.default = str(spec.tempo) if spec.tempo else ""

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        from bot.jobs import Work

        services = services_of(interaction)
        tempo_text = self.tempo.value.strip()
        spec = services.checker.build(
            await services.servers.get(interaction.guild_id),
            genre=self.genre.value,
            seconds=self.spec.seconds,
            key=self.spec.key,
            tempo=_number(tempo_text) if tempo_text else None,
            sound=self.sound.value or None,
            creativity=self.spec.creativity,
        )
        await services.runner.run(interaction, Work(spec, PieceKind.REMIX, parent_id=self.piece_id))

    async def on_error(  # type: ignore[override]  # Modal.on_error takes no item, unlike View's
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await reply_error(interaction, error)


def _number(text: str) -> float:
    from cadenza.errors import BadInput

    try:
        return float(text)
    except ValueError as e:
        raise BadInput(f"The tempo must be a number of beats per minute, not `{text}`.") from e


def piece_view(piece_id: str) -> discord.ui.View:
    """The buttons for a piece's message."""
    view = discord.ui.View(timeout=None)
    for button in (TakeButton(piece_id), ContinueButton(piece_id), RemixButton(piece_id)):
        view.add_item(button)
    return view


PIECE_BUTTONS = (TakeButton, ContinueButton, RemixButton)


def piece_id_of(message: discord.Message) -> str | None:
    """The piece a Cadenza message shows (from its button ids), if any."""
    for row in message.components:
        for child in getattr(row, "children", ()):
            match = re.fullmatch(
                rf"cadenza:(?:take|continue|remix):{PIECE_ID}", getattr(child, "custom_id", "") or ""
            )
            if match:
                return match["piece"]
    return None
