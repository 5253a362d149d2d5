"""The buttons under every turn and the Branch menu; persistent, so they work after a restart.

Custom ids carry what they act on: `cadenza:turn:<action>:<piece id>` for the buttons and
`cadenza:branch:<session id>` for the menu. Nothing lives in memory: every press reads the database.
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord.ext import commands

from bot.errors import reports_errors
from bot.options import PieceSpec
from bot.services import services_of
from bot.sessions.moves import Move, TurnAsk, TurnTaker
from bot.views import PIECE_ID, RemixModal, RewriteModal, add_page_link
from cadenza.errors import BadInput, Forbidden

ACTIONS = {  # action -> (label, emoji, style)
    "continue": ("Continue", "⏩", discord.ButtonStyle.primary),
    "remix": ("Remix", "🎛️", discord.ButtonStyle.secondary),
    "harmonize": ("Harmonize", "🎹", discord.ButtonStyle.secondary),
    "rewrite": ("Rewrite bars", "✏️", discord.ButtonStyle.secondary),
    "branch": ("Branch", "🌿", discord.ButtonStyle.secondary),
    "vote": ("Like", "👍", discord.ButtonStyle.success),
}
SESSION_ID = r"(?P<session>[A-Za-z0-9_-]{1,40})"


def _maker(interaction: discord.Interaction[Any]) -> TurnTaker:
    client = interaction.client
    cog = client.get_cog("Sessions") if isinstance(client, commands.Bot) else None
    maker: TurnTaker | None = getattr(cog, "maker", None)
    if maker is None:
        raise BadInput("sessions are not available right now")
    return maker


async def next_spec(interaction: discord.Interaction[Any], piece_id: str) -> tuple[str, PieceSpec]:
    """The session of a turn, and the turn's settings with a new seed and the session's turn length."""
    services = services_of(interaction)
    turn = await services.storage.get_turn(piece_id)
    piece = await services.storage.get_piece(piece_id)
    spec = PieceSpec.from_json(piece.settings).with_seed()
    seconds = services.checker.seconds(
        _maker(interaction).settings.turn_seconds, await services.servers.get(None)
    )
    return turn.session_id, PieceSpec(**{**spec.to_json(), "seconds": seconds})


class TurnButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"cadenza:turn:(?P<action>{'|'.join(ACTIONS)}):{PIECE_ID}",
):
    """One of the buttons under a turn."""

    def __init__(self, action: str, piece_id: str) -> None:
        label, emoji, style = ACTIONS[action]
        super().__init__(
            discord.ui.Button(
                label=label, emoji=emoji, style=style, custom_id=f"cadenza:turn:{action}:{piece_id}"
            )
        )
        self.action, self.piece_id = action, piece_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TurnButton:
        return cls(match["action"], match["piece"])

    @reports_errors
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        if self.action == "vote":
            await self._vote(interaction)
            return
        session_id, spec = await next_spec(interaction, self.piece_id)
        if self.action == "remix":
            modal = RemixModal(f"cadenza:turn-remix:{self.piece_id}", spec, self._remix, "Remix this turn")
            modal.tempo.placeholder = "leave empty to keep the turn's tempo"
            await interaction.response.send_modal(modal)
        elif self.action == "branch":
            await send_branch_menu(interaction, session_id)
        elif self.action == "rewrite":
            title = "Rewrite bars of this turn"
            await interaction.response.send_modal(
                RewriteModal(f"cadenza:turn-rewrite:{self.piece_id}", self._rewrite, title)
            )
        else:
            move = Move.HARMONIZE if self.action == "harmonize" else Move.CONTINUE
            await _maker(interaction).take(interaction, session_id, TurnAsk(move, spec, self.piece_id))

    async def _remix(self, interaction: discord.Interaction[Any], spec: PieceSpec) -> None:
        """New genre, sound or tempo over the turn's material (the form's answer)."""
        session_id = (await services_of(interaction).storage.get_turn(self.piece_id)).session_id
        await _maker(interaction).take(interaction, session_id, TurnAsk(Move.REMIX, spec, self.piece_id))

    async def _rewrite(self, interaction: discord.Interaction[Any], bars: tuple[int, int]) -> None:
        """Bars of the turn written anew (the form's answer); the range is checked before admission."""
        session_id, spec = await next_spec(interaction, self.piece_id)
        ask = TurnAsk(Move.REWRITE, spec, self.piece_id, bars=bars)
        await _maker(interaction).take(interaction, session_id, ask)

    async def _vote(self, interaction: discord.Interaction[Any]) -> None:
        """Like the turn, or take the like back."""
        storage = services_of(interaction).storage
        turn = await storage.get_turn(self.piece_id)
        session = await storage.get_session(turn.session_id)
        if session.status.value == "ended":
            raise Forbidden("This session has ended; its likes are final.")
        added = await storage.vote(self.piece_id, interaction.user.id)
        if not added:
            await storage.unvote(self.piece_id, interaction.user.id)
        likes = (await storage.get_turn(self.piece_id)).votes
        what = "You like" if added else "You took back your like of"
        await interaction.response.send_message(
            f"{what} turn #{turn.number}. It has {likes} like{'' if likes == 1 else 's'} now.", ephemeral=True
        )


def turn_view(piece_id: str, page_url: str | None = None) -> discord.ui.View:
    """The buttons for a turn's message (and a link to its web page, when there is one)."""
    view = discord.ui.View(timeout=None)
    for action in ACTIONS:
        view.add_item(TurnButton(action, piece_id))
    add_page_link(view, page_url)
    return view


async def send_branch_menu(interaction: discord.Interaction[Any], session_id: str) -> None:
    """An ephemeral menu of the session's turns, newest first, to continue from."""
    services = services_of(interaction)
    turns = await services.storage.session_turns(session_id)
    wanted = _maker(interaction).settings.branch_choices
    options = []
    for turn in reversed(turns[-wanted:]):
        piece = await services.storage.get_piece(turn.piece_id)
        move, genre = piece.settings.get("move", turn.kind.value), piece.settings.get("genre", "")
        options.append(
            discord.SelectOption(label=f"Turn #{turn.number} · {move} · {genre}"[:100], value=turn.piece_id)
        )
    view = discord.ui.View(timeout=None)
    view.add_item(BranchSelect(session_id, options))
    await interaction.response.send_message("Continue from which turn?", view=view, ephemeral=True)


class BranchSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=rf"cadenza:branch:{SESSION_ID}"):
    """Branch's menu: the chosen turn is continued."""

    def __init__(self, session_id: str, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"cadenza:branch:{session_id}",
                placeholder="Choose a turn to continue",
                options=options or [discord.SelectOption(label="(choose)", value="-")],
            )
        )
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> BranchSelect:
        return cls(match["session"])

    @reports_errors
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        values = list(self.item.values)  # refreshed from the interaction by discord.py
        if not values or values[0] == "-":
            raise BadInput("Choose a turn to continue from.")
        session_id, spec = await next_spec(interaction, values[0])
        if session_id != self.session_id:
            raise BadInput("That turn belongs to another session.")
        await _maker(interaction).take(interaction, session_id, TurnAsk(Move.BRANCH, spec, values[0]))


SESSION_ITEMS = (TurnButton, BranchSelect)
