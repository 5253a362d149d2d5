"""REST routes for login, the application, the gateway address and application command sync."""

from __future__ import annotations

from aiohttp import web

from .core import CORE
from .http_util import DiscordError, json_response, no_content, read_body
from .world import APP_FLAGS


async def current_user(request: web.Request) -> web.Response:
    """GET /users/@me: the bot user (discord.py's static_login)."""
    world = request.app[CORE].world
    return json_response(
        {**world.bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0, "locale": "en-US"}
    )


async def application_info(request: web.Request) -> web.Response:
    """GET /oauth2/applications/@me (and /applications/@me): the AppInfo discord.py loads at login."""
    world = request.app[CORE].world
    owner = world.users[world.guild.owner_id]
    return json_response(
        {
            "id": str(world.application_id),
            "name": world.bot.username,
            "icon": None,
            "description": "Emulated application",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": owner.payload(),
            "team": None,
            "flags": APP_FLAGS,
            "bot": world.bot.payload(),
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "tags": [],
            "approximate_guild_count": 1,
            "integration_types_config": {"0": {}},
        }
    )


async def gateway_url(request: web.Request) -> web.Response:
    """GET /gateway."""
    gateway = request.app[CORE].gateway
    assert gateway is not None
    return json_response({"url": gateway.url})


async def gateway_bot(request: web.Request) -> web.Response:
    """GET /gateway/bot: one recommended shard (AutoShardedClient asks this)."""
    gateway = request.app[CORE].gateway
    assert gateway is not None
    limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
    return json_response({"url": gateway.url, "shards": 1, "session_start_limit": limit})


def _scope(request: web.Request) -> int | None:
    core = request.app[CORE]
    if int(request.match_info["application_id"]) != core.world.application_id:
        raise DiscordError(403, 50001, "Missing Access")
    guild = request.match_info.get("guild_id")
    if guild is not None and int(guild) != core.world.guild.id:
        raise DiscordError(403, 50001, "Missing Access")
    return None if guild is None else int(guild)


async def list_commands(request: web.Request) -> web.Response:
    """GET .../commands."""
    return json_response(request.app[CORE].commands.synced(_scope(request)))


async def overwrite_commands(request: web.Request) -> web.Response:
    """PUT .../commands: bulk overwrite (CommandTree.sync)."""
    core = request.app[CORE]
    scope = _scope(request)
    body = await read_body(request, core.settings.upload_limit)
    result = core.commands.overwrite(scope, body.payload)
    core.signal.notify()
    return json_response(result)


async def upsert_command(request: web.Request) -> web.Response:
    """POST .../commands: create one command."""
    core = request.app[CORE]
    scope = _scope(request)
    body = await read_body(request, core.settings.upload_limit)
    result = core.commands.upsert(scope, body.payload)
    core.signal.notify()
    return json_response(result, status=201)


async def get_command(request: web.Request) -> web.Response:
    """GET .../commands/{id}."""
    scope = _scope(request)
    command_id = request.match_info["command_id"]
    for command in request.app[CORE].commands.synced(scope):
        if command["id"] == command_id:
            return json_response(command)
    raise DiscordError(404, 10063, "Unknown application command")


async def delete_command(request: web.Request) -> web.Response:
    """DELETE .../commands/{id}."""
    request.app[CORE].commands.delete(_scope(request), int(request.match_info["command_id"]))
    request.app[CORE].signal.notify()
    return no_content()


def add_routes(app: web.Application, prefix: str) -> None:
    """Register these routes under the API prefix."""
    r = app.router
    r.add_get(prefix + "/users/@me", current_user)
    r.add_get(prefix + "/oauth2/applications/@me", application_info)
    r.add_get(prefix + "/applications/@me", application_info)
    r.add_get(prefix + "/gateway", gateway_url)
    r.add_get(prefix + "/gateway/bot", gateway_bot)
    for scope in ("/applications/{application_id}", "/applications/{application_id}/guilds/{guild_id}"):
        r.add_get(prefix + scope + "/commands", list_commands)
        r.add_put(prefix + scope + "/commands", overwrite_commands)
        r.add_post(prefix + scope + "/commands", upsert_command)
        r.add_get(prefix + scope + "/commands/{command_id}", get_command)
        r.add_delete(prefix + scope + "/commands/{command_id}", delete_command)
