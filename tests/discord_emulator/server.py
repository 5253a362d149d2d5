"""The aiohttp application: REST under /api/v10, the gateway at /, the CDN under /attachments/.

How the bot reaches each part (one host, 127.0.0.1:PORT):
- REST: discord.py builds every URL from `discord.http.Route.BASE`; the launcher sets it to
  `http://127.0.0.1:PORT/api/v10` before the bot's code is imported.
- Gateway: `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY` is set to `ws://127.0.0.1:PORT/`; READY's
  `resume_gateway_url` points back here, so reconnects and RESUMEs land here too.
- CDN: attachment objects carry absolute URLs, `http://127.0.0.1:PORT/attachments/{channel_id}/
  {attachment_id}/{filename}?ex=..&is=..&hm=..`, exactly Discord's shape on another host. Nothing is
  patched for this: the bot downloads whatever `url` says. A bot that checks attachment hosts against
  an allow-list (Discord's `cdn.discordapp.com` and `media.discordapp.net`) is configured, in the
  test's config file, to allow `Emulator.cdn_host` (`127.0.0.1:PORT`) instead. We point the allow-list
  at the emulator rather than routing Discord's hostnames to 127.0.0.1 (DNS or /etc/hosts patching):
  config is what an operator would change too, it works in a subprocess without privileges, and the
  test then also proves that the allow-list is read from config and that other hosts are refused.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable

from aiohttp import web

from . import rest_app, rest_channels, rest_interactions
from .core import CORE, REPLIES, TRACE, DiscordCore
from .http_util import BODY_JSON, DiscordError, json_response, ratelimit_headers
from .records import RecordedRequest, Refusal

log = logging.getLogger(__name__)
API_PREFIX = "/api/v10"
# Routes that authenticate with the interaction token in the URL, not the bot token.
TOKEN_ROUTES = (API_PREFIX + "/webhooks/", API_PREFIX + "/interactions/")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def discord_rules(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bot-token auth, Discord-style JSON errors, rate-limit headers, and a log of every API request."""
    core = request.app[CORE]
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else request.path
    try:
        needs_bot_token = route != "/{tail}" and not request.path.startswith(TOKEN_ROUTES)
        if needs_bot_token and request.headers.get("Authorization") != f"Bot {core.settings.token}":
            raise DiscordError(401, 0, "401: Unauthorized")
        response = await handler(request)
    except DiscordError as e:
        core.refuse(Refusal(request.method, request.path, e.status, e.code, e.message), request.get(TRACE))
        response = json_response(e.body(), status=e.status)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("emulator handler failed for %s %s", request.method, request.path)
        core.internal_errors.append(f"{request.method} {request.path}: {traceback.format_exc(limit=-3)}")
        response = json_response({"message": "500: Internal Server Error", "code": 0}, status=500)
    response.headers.update(ratelimit_headers(request.method, route))
    await response.prepare(request)
    await response.write_eof()
    for reply, trace in request.get(REPLIES, []):
        core.record_reply(reply, trace)
    core.requests.append(
        RecordedRequest(
            request.method, request.path, dict(request.query), request.get(BODY_JSON), response.status
        )
    )
    core.signal.notify()
    return response


async def unknown_route(request: web.Request) -> web.Response:
    """Anything not emulated: recorded (Emulator.unknown_requests) and answered 404 like Discord."""
    core = request.app[CORE]
    body = await request.read()
    core.unknown_requests.append(
        RecordedRequest(
            request.method, request.path, dict(request.query), body[:2000].decode(errors="replace"), 404
        )
    )
    core.signal.notify()
    log.warning("emulator: unknown route %s %s", request.method, request.path)
    return json_response({"message": "404: Not Found", "code": 0}, status=404)


async def cdn_file(request: web.Request) -> web.Response:
    """GET /attachments/{channel_id}/{attachment_id}/{filename}: the stored bytes."""
    core = request.app[CORE]
    hold = core.cdn_hold
    if hold is not None and not hold.is_set():
        core.cdn_held += 1
        core.signal.notify()
        await hold.wait()
    stored = (
        core.files.get(int(request.match_info["attachment_id"]))
        if request.match_info["attachment_id"].isdigit()
        else None
    )
    if (
        stored is None
        or str(request.match_info["channel_id"]) not in stored.url
        or stored.filename != request.match_info["filename"]
    ):
        return web.Response(status=404, text="Not Found")
    return web.Response(body=stored.data, headers={"Content-Type": stored.content_type})


def build_app(core: DiscordCore) -> web.Application:
    """The whole emulated Discord as one aiohttp application."""
    app = web.Application(middlewares=[discord_rules], client_max_size=256 * 1024 * 1024)
    app[CORE] = core
    assert core.gateway is not None
    app.router.add_get("/", core.gateway.handle)
    app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", cdn_file)
    rest_app.add_routes(app, API_PREFIX)
    rest_interactions.add_routes(app, API_PREFIX)
    rest_channels.add_routes(app, API_PREFIX)
    app.router.add_route("*", "/{tail:.*}", unknown_route)
    return app
