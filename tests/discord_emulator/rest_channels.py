"""REST routes for channels, messages (with files), threads, reactions, guild and user lookups."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .core import CORE, GUILDS, DiscordCore, reply_after_response
from .http_util import DiscordError, json_response, no_content, read_body
from .messages import COMPONENTS_V2, SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS
from .records import Reply, ReplyKind
from .world import (
    ADD_REACTIONS,
    ATTACH_FILES,
    CREATE_PUBLIC_THREADS,
    EMBED_LINKS,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    Channel,
)

CHANNEL_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | COMPONENTS_V2  # no ephemeral outside interactions
HAS_THREAD = 1 << 5


def _channel(request: web.Request) -> Channel:
    return request.app[CORE].channel_or_404(int(request.match_info["channel_id"]))


def _message(request: web.Request) -> dict[str, Any]:
    core = request.app[CORE]
    message_id = int(request.match_info["message_id"])
    if message_id in core.ephemeral_ids:
        raise DiscordError(404, 10008, "Unknown Message")
    return core.message_or_404(message_id, int(request.match_info["channel_id"]))


async def get_channel(request: web.Request) -> web.Response:
    """GET /channels/{id}."""
    return json_response(_channel(request).payload())


async def send_message(request: web.Request) -> web.Response:
    """POST /channels/{id}/messages: a message, with files, embeds, components, reply reference."""
    core = request.app[CORE]
    channel = _channel(request)
    body = await read_body(request, core.settings.upload_limit)
    data = body.payload if isinstance(body.payload, dict) else {}
    core.require(channel, SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES, "Send Messages")
    if body.files:
        core.require(channel, ATTACH_FILES, "Attach Files")
    extra: dict[str, Any] = {}
    reference = data.get("message_reference")
    if reference:
        referenced = core.message_or_404(int(reference["message_id"]))
        extra = {
            "message_reference": {
                "type": 0,
                "message_id": referenced["id"],
                "channel_id": referenced["channel_id"],
            },
            "referenced_message": referenced,
            "type": 19,
        }
    if data.get("embeds") and not core.world.permissions_in(core.world.bot.id, channel) & EMBED_LINKS:
        data = {**data, "embeds": []}  # Discord drops embeds silently without Embed Links
    flags = int(data.get("flags") or 0) & CHANNEL_FLAGS
    message, sent = await core.create_message(
        channel, core.world.bot, data, body.files, flags=flags, extra=extra
    )
    reply_after_response(request, Reply(ReplyKind.CHANNEL_MESSAGE, data, message, tuple(sent)))
    return json_response(message)


async def get_message(request: web.Request) -> web.Response:
    """GET /channels/{id}/messages/{id}."""
    return json_response(_message(request))


async def history(request: web.Request) -> web.Response:
    """GET /channels/{id}/messages: newest first, `limit` (default 50)."""
    core = request.app[CORE]
    channel = _channel(request)
    limit = min(int(request.query.get("limit", 50)), 100)
    found = [
        m
        for mid, m in core.messages.items()
        if int(m["channel_id"]) == channel.id and mid not in core.ephemeral_ids
    ]
    return json_response(sorted(found, key=lambda m: int(m["id"]), reverse=True)[:limit])


async def edit_message(request: web.Request) -> web.Response:
    """PATCH /channels/{id}/messages/{id}: only the bot's own messages."""
    core = request.app[CORE]
    stored = _message(request)
    body = await read_body(request, core.settings.upload_limit)
    if int(stored["author"]["id"]) != core.world.bot.id:
        raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
    data = body.payload if isinstance(body.payload, dict) else {}
    message, sent = await core.edit_message(stored, data, body.files)
    reply_after_response(request, Reply(ReplyKind.MESSAGE_EDIT, data, message, tuple(sent)))
    return json_response(message)


async def delete_message(request: web.Request) -> web.Response:
    """DELETE /channels/{id}/messages/{id}."""
    core = request.app[CORE]
    await core.delete_message(_message(request))
    core.signal.notify()
    return no_content()


async def _new_thread(
    core: DiscordCore, parent: Channel, name: str, type: int, thread_id: int | None = None
) -> Channel:
    if parent.is_thread or parent.guild_id is None:
        raise DiscordError(400, 50024, "Cannot execute action on this channel type")
    core.require(parent, CREATE_PUBLIC_THREADS, "Create Public Threads")
    if not 1 <= len(name) <= 100:
        raise DiscordError(
            400,
            50035,
            "Invalid Form Body",
            {
                "name": {
                    "_errors": [
                        {"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be between 1 and 100 in length."}
                    ]
                }
            },
        )
    thread = core.world.add_channel(name, type=type, parent_id=parent.id, owner_id=core.world.bot.id)
    if thread_id is not None:  # a thread started from a message has the message's id
        del core.world.channels[thread.id]
        thread.id = thread_id
        core.world.channels[thread_id] = thread
    payload = {**thread.payload(), "newly_created": True}
    if core.gateway is not None:
        await core.gateway.dispatch("THREAD_CREATE", payload, guild_id=parent.guild_id, intent=GUILDS)
    core.signal.notify()
    return thread


async def thread_from_message(request: web.Request) -> web.Response:
    """POST /channels/{id}/messages/{id}/threads."""
    core = request.app[CORE]
    parent = _channel(request)
    message = _message(request)
    body = await read_body(request, core.settings.upload_limit)
    if int(message["id"]) in core.world.channels:
        raise DiscordError(400, 160004, "A thread has already been created for this message")
    data = body.payload or {}
    thread = await _new_thread(
        core, parent, str(data.get("name", "")), PUBLIC_THREAD, thread_id=int(message["id"])
    )
    message["thread"] = thread.payload()
    message["flags"] = int(message.get("flags", 0)) | HAS_THREAD
    return json_response(thread.payload(), status=201)


async def thread_without_message(request: web.Request) -> web.Response:
    """POST /channels/{id}/threads (private threads need type 12)."""
    core = request.app[CORE]
    parent = _channel(request)
    body = await read_body(request, core.settings.upload_limit)
    data = body.payload or {}
    kind = int(data.get("type", PRIVATE_THREAD))
    if kind not in (PUBLIC_THREAD, PRIVATE_THREAD):
        raise DiscordError(
            400,
            50035,
            "Invalid Form Body",
            {"type": {"_errors": [{"code": "BASE_TYPE_CHOICES", "message": "Value must be 11 or 12."}]}},
        )
    thread = await _new_thread(core, parent, str(data.get("name", "")), kind)
    return json_response(thread.payload(), status=201)


async def join_thread(request: web.Request) -> web.Response:
    """PUT /channels/{id}/thread-members/@me (and other members)."""
    if not _channel(request).is_thread:
        raise DiscordError(400, 50024, "Cannot execute action on this channel type")
    return no_content()


async def add_reaction(request: web.Request) -> web.Response:
    """PUT /channels/{id}/messages/{id}/reactions/{emoji}/@me."""
    core = request.app[CORE]
    channel = _channel(request)
    message = _message(request)
    core.require(channel, ADD_REACTIONS, "Add Reactions")
    emoji = request.match_info["emoji"]
    users = core.reactions.setdefault((int(message["id"]), emoji), [])
    if core.world.bot.id not in users:
        users.append(core.world.bot.id)
    core.signal.notify()
    return no_content()


async def remove_reaction(request: web.Request) -> web.Response:
    """DELETE /channels/{id}/messages/{id}/reactions/{emoji}/{@me|user_id}."""
    core = request.app[CORE]
    message = _message(request)
    who = request.match_info["user"]
    user_id = core.world.bot.id if who == "@me" else int(who)
    users = core.reactions.get((int(message["id"]), request.match_info["emoji"]), [])
    if user_id in users:
        users.remove(user_id)
    core.signal.notify()
    return no_content()


async def reaction_users(request: web.Request) -> web.Response:
    """GET /channels/{id}/messages/{id}/reactions/{emoji}."""
    core = request.app[CORE]
    message = _message(request)
    users = core.reactions.get((int(message["id"]), request.match_info["emoji"]), [])
    return json_response([core.world.users[u].payload() for u in users])


async def typing(request: web.Request) -> web.Response:
    """POST /channels/{id}/typing."""
    _channel(request)
    return no_content()


async def get_guild(request: web.Request) -> web.Response:
    """GET /guilds/{id}."""
    core = request.app[CORE]
    if int(request.match_info["guild_id"]) != core.world.guild.id:
        raise DiscordError(404, 10004, "Unknown Guild")
    data = core.world.guild_payload()
    return json_response(
        {
            k: v
            for k, v in data.items()
            if k not in ("members", "channels", "threads", "presences", "voice_states")
        }
    )


async def guild_channels(request: web.Request) -> web.Response:
    """GET /guilds/{id}/channels."""
    world = request.app[CORE].world
    return json_response(
        [c.payload() for c in world.channels.values() if c.guild_id == world.guild.id and not c.is_thread]
    )


async def guild_member(request: web.Request) -> web.Response:
    """GET /guilds/{id}/members/{user_id}."""
    world = request.app[CORE].world
    user_id = int(request.match_info["user_id"])
    if user_id not in world.guild.member_roles:
        raise DiscordError(404, 10007, "Unknown Member")
    return json_response(world.guild.member_payload(world.users[user_id]))


async def get_user(request: web.Request) -> web.Response:
    """GET /users/{id}."""
    world = request.app[CORE].world
    user = world.users.get(int(request.match_info["user_id"]))
    if user is None:
        raise DiscordError(404, 10013, "Unknown User")
    return json_response(user.payload())


async def open_dm(request: web.Request) -> web.Response:
    """POST /users/@me/channels {recipient_id}: the DM channel."""
    core = request.app[CORE]
    body = await read_body(request, core.settings.upload_limit)
    user = core.world.users.get(int((body.payload or {}).get("recipient_id", 0)))
    if user is None:
        raise DiscordError(400, 50035, "Invalid Form Body")
    return json_response(core.world.dm_channel(user).payload())


def add_routes(app: web.Application, prefix: str) -> None:
    """Register these routes under the API prefix."""
    r = app.router
    ch, msg = prefix + "/channels/{channel_id}", prefix + "/channels/{channel_id}/messages/{message_id}"
    r.add_get(ch, get_channel)
    r.add_post(ch + "/messages", send_message)
    r.add_get(ch + "/messages", history)
    r.add_get(msg, get_message)
    r.add_patch(msg, edit_message)
    r.add_delete(msg, delete_message)
    r.add_post(msg + "/threads", thread_from_message)
    r.add_post(ch + "/threads", thread_without_message)
    r.add_put(ch + "/thread-members/{user}", join_thread)
    r.add_put(msg + "/reactions/{emoji}/@me", add_reaction)
    r.add_delete(msg + "/reactions/{emoji}/{user}", remove_reaction)
    r.add_get(msg + "/reactions/{emoji}", reaction_users)
    r.add_post(ch + "/typing", typing)
    r.add_get(prefix + "/guilds/{guild_id}", get_guild)
    r.add_get(prefix + "/guilds/{guild_id}/channels", guild_channels)
    r.add_get(prefix + "/guilds/{guild_id}/members/{user_id}", guild_member)
    r.add_post(prefix + "/users/@me/channels", open_dm)
    r.add_get(prefix + "/users/{user_id}", get_user)
