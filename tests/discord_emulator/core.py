"""The emulator's server-side state and the operations its REST handlers share."""

from __future__ import annotations

import asyncio
import copy
import mimetypes
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from .commands import CommandRegistry
from .http_util import DiscordError, UploadedFile
from .messages import SETTABLE_FLAGS, apply_edit, build_message, check_message, new_attachments
from .records import CdnFile, InteractionTrace, RecordedRequest, Refusal, Reply, Signal
from .settings import MISSING_PERMISSIONS, UNKNOWN_CHANNEL, UNKNOWN_MESSAGE, EmulatorSettings
from .world import DM, Channel, User, World

if TYPE_CHECKING:
    from .gateway import Gateway

GUILD_MESSAGES, GUILD_MESSAGE_REACTIONS = 1 << 9, 1 << 10
DIRECT_MESSAGES, DIRECT_MESSAGE_REACTIONS = 1 << 12, 1 << 13
MESSAGE_CONTENT = 1 << 15
GUILDS = 1 << 0


class DiscordCore:
    """State (world, messages, CDN files, interactions, synced commands) and the records tests read."""

    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        self.settings = settings or EmulatorSettings()
        self.world = World(self.settings)
        self.signal = Signal()
        self.commands = CommandRegistry(self.world.application_id, self.world.ids.next)
        self.gateway: Gateway | None = None
        self.base_url = ""  # http://127.0.0.1:PORT once started
        self.files: dict[int, CdnFile] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.ephemeral_ids: set[int] = set()
        self.reactions: dict[tuple[int, str], list[int]] = {}
        self.message_tokens: dict[int, str] = {}  # message id -> interaction token that may edit it
        self.traces: dict[int, InteractionTrace] = {}
        self.traces_by_token: dict[str, InteractionTrace] = {}
        self.replies: list[Reply] = []
        self.requests: list[RecordedRequest] = []
        self.unknown_requests: list[RecordedRequest] = []
        self.refusals: list[Refusal] = []
        self.internal_errors: list[str] = []  # emulator bugs (answered 500); the fixture fails on them
        self.cdn_hold: asyncio.Event | None = None  # while set and not released, CDN downloads wait
        self.cdn_held = 0  # downloads that waited (or are waiting) on cdn_hold

    # -- CDN ---------------------------------------------------------------------------------

    def store_file(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        content_type: str | None = None,
        description: str | None = None,
    ) -> CdnFile:
        """Keep bytes on the CDN under /attachments/{channel_id}/{attachment_id}/{filename}."""
        attachment_id = self.world.ids.next()
        ctype = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        # Discord's signed-URL query (expiry, issued-at, hash); the CDN ignores it, bots must keep it.
        signature = f"ex={secrets.token_hex(4)}&is={secrets.token_hex(4)}&hm={secrets.token_hex(32)}&"
        url = f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{quote(filename)}?{signature}"
        stored = CdnFile(attachment_id, filename, data, ctype, url, description)
        self.files[attachment_id] = stored
        return stored

    def _storer(self, channel_id: int) -> Any:
        def store(upload: UploadedFile, entry: dict[str, Any]) -> CdnFile:
            name = entry.get("filename") or upload.filename
            return self.store_file(channel_id, name, upload.data, None, entry.get("description"))

        return store

    # -- lookups -----------------------------------------------------------------------------

    def channel_or_404(self, channel_id: int) -> Channel:
        """The channel, or Discord's 404 Unknown Channel."""
        try:
            return self.world.channels[channel_id]
        except KeyError:
            raise DiscordError(404, UNKNOWN_CHANNEL, "Unknown Channel") from None

    def message_or_404(self, message_id: int, channel_id: int | None = None) -> dict[str, Any]:
        """A stored message, or 404 Unknown Message (ephemeral ones are invisible to channel routes)."""
        message = self.messages.get(message_id)
        if message is None or (channel_id is not None and int(message["channel_id"]) != channel_id):
            raise DiscordError(404, UNKNOWN_MESSAGE, "Unknown Message")
        return message

    def require(self, channel: Channel, permission: int, name: str) -> None:
        """403 Missing Permissions unless the bot has `permission` in `channel`."""
        if not self.world.permissions_in(self.world.bot.id, channel) & permission:
            raise DiscordError(403, MISSING_PERMISSIONS, f"Missing Permissions ({name})")

    # -- messages ----------------------------------------------------------------------------

    async def create_message(
        self,
        channel: Channel,
        author: User,
        data: dict[str, Any],
        files: tuple[UploadedFile, ...] = (),
        *,
        flags: int | None = None,
        extra: dict[str, Any] | None = None,
        check: bool = True,
    ) -> tuple[dict[str, Any], list[CdnFile]]:
        """Validate (unless `check` is False), store and announce (MESSAGE_CREATE) a new message."""
        if check:
            check_message(data, has_files=bool(files))
        message_flags = flags if flags is not None else int(data.get("flags") or 0) & SETTABLE_FLAGS
        objects, sent = new_attachments({**data, "flags": message_flags}, files, self._storer(channel.id))
        message = build_message(
            message_id=self.world.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=author.payload(),
            data=data,
            attachments=objects,
            flags=message_flags,
            extra=extra,
        )
        if author.id != self.world.bot.id and channel.guild_id is not None:
            message["member"] = {
                k: v for k, v in self.world.guild.member_payload(author).items() if k != "user"
            }
        self.messages[int(message["id"])] = message
        channel.last_message_id = int(message["id"])
        channel.message_count += 1
        if message_flags & 64:
            self.ephemeral_ids.add(int(message["id"]))
        else:
            await self.announce("MESSAGE_CREATE", message)
        return copy.deepcopy(message), sent

    async def edit_message(
        self, message: dict[str, Any], data: dict[str, Any], files: tuple[UploadedFile, ...] = ()
    ) -> tuple[dict[str, Any], list[CdnFile]]:
        """Apply an edit and announce it (MESSAGE_UPDATE)."""
        check_message(data, has_files=bool(files), editing=True)
        ephemeral = int(message["id"]) in self.ephemeral_ids
        objects, sent = new_attachments(
            {**data, "flags": 64 if ephemeral else 0}, files, self._storer(int(message["channel_id"]))
        )
        apply_edit(message, data, objects)
        if not ephemeral:
            await self.announce("MESSAGE_UPDATE", message)
        return copy.deepcopy(message), sent

    async def delete_message(self, message: dict[str, Any]) -> None:
        """Forget a message and announce it (MESSAGE_DELETE)."""
        message_id = int(message["id"])
        self.messages.pop(message_id, None)
        if message_id not in self.ephemeral_ids:
            data = {"id": str(message_id), "channel_id": message["channel_id"]}
            if "guild_id" in message:
                data["guild_id"] = message["guild_id"]
            await self.announce("MESSAGE_DELETE", data, content=False)

    async def announce(self, event: str, message: dict[str, Any], *, content: bool = True) -> None:
        """Dispatch a message event to the bot, honouring its intents like Discord does."""
        if self.gateway is None:
            return
        channel = self.world.channels.get(int(message["channel_id"]))
        in_dm = channel is not None and channel.type == DM
        intent = DIRECT_MESSAGES if in_dm else GUILD_MESSAGES
        # Without MESSAGE_CONTENT, other users' guild messages arrive without their content fields,
        # unless they mention the bot (Discord's privileged-intent rule).
        author_id = int(message.get("author", {}).get("id", 0))
        mentioned = any(int(m["id"]) == self.world.bot.id for m in message.get("mentions", []))
        needs_intent = content and not in_dm and author_id != self.world.bot.id and not mentioned
        guild_id = None if in_dm else self.world.guild.id
        await self.gateway.dispatch(
            event, message, guild_id=guild_id, intent=intent, content_intent=needs_intent
        )

    # -- records -----------------------------------------------------------------------------

    def record_reply(self, reply: Reply, trace: InteractionTrace | None = None) -> Reply:
        """Keep a reply globally and on its interaction; wake waiters."""
        self.replies.append(reply)
        if trace is not None:
            trace.record(reply)
        self.signal.notify()
        return reply

    def refuse(self, refusal: Refusal, trace: InteractionTrace | None) -> None:
        """Keep a refused request globally and on its interaction."""
        self.refusals.append(refusal)
        if trace is not None:
            trace.refuse(refusal)
        self.signal.notify()


def reply_after_response(request: web.Request, reply: Reply, trace: InteractionTrace | None = None) -> None:
    """Record `reply` once the HTTP response has been written to the bot.

    A test that acts on a reply (pressing its button) must not overtake the bot: discord.py registers
    a message's view only when the response that created the message reaches it.
    """
    if REPLIES not in request:
        request[REPLIES] = []
    request[REPLIES].append((reply, trace))


CORE = web.AppKey("discord_core", DiscordCore)  # where the aiohttp app keeps the core
TRACE = web.RequestKey("discord_trace", InteractionTrace)  # the interaction a request is about
REPLIES = web.RequestKey("discord_replies", list)  # replies to record once the response is written
