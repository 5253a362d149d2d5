"""REST routes for interaction responses: the callback, webhook followups, edits of @original.

Discord's rules are enforced here: the first response within `initial_response_timeout` (else
404 Unknown interaction, 10062), one initial response only (400, 40060), tokens valid for
`token_lifetime` (else 401 Invalid Webhook Token, 50027), uploads up to `upload_limit` (413, 40005).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .core import CORE, TRACE, DiscordCore, reply_after_response
from .http_util import DiscordError, UploadedFile, json_response, no_content, read_body
from .messages import SETTABLE_FLAGS, check_message, form_error
from .records import LOADING, CallbackType, InteractionTrace, Reply, ReplyKind
from .settings import (
    ALREADY_ACKNOWLEDGED,
    INVALID_WEBHOOK_TOKEN,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
)

APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true")


def _message_extra(core: DiscordCore, trace: InteractionTrace) -> dict[str, Any]:
    """Fields Discord adds to messages made through an interaction."""
    itype = trace.payload["type"]
    user = (trace.payload.get("member") or {}).get("user") or trace.payload.get("user")
    command_type = (trace.payload.get("data") or {}).get("type", 1)
    message_type = (20 if command_type == 1 else 23) if itype == APPLICATION_COMMAND else 0
    app = str(core.world.application_id)
    metadata = {
        "id": str(trace.id),
        "type": itype,
        "user": user,
        "authorizing_integration_owners": {"0": str(core.world.guild.id)},
    }
    return {"webhook_id": app, "application_id": app, "type": message_type, "interaction_metadata": metadata}


async def _respond(
    core: DiscordCore,
    trace: InteractionTrace,
    kind: CallbackType,
    data: dict[str, Any],
    files: tuple[UploadedFile, ...],
) -> dict[str, Any] | None:
    """Carry out one callback; returns the message it created or changed, if any."""
    itype = trace.payload["type"]
    channel = core.world.channels[int(trace.payload["channel_id"])]
    component_message = trace.payload.get("message")
    if kind is CallbackType.CHANNEL_MESSAGE or kind is CallbackType.DEFERRED_CHANNEL_MESSAGE:
        if itype == AUTOCOMPLETE:
            raise form_error("type", "Autocomplete interactions can only be answered with choices.")
        loading = kind is CallbackType.DEFERRED_CHANNEL_MESSAGE
        flags = (
            (int(data.get("flags") or 0) & 64) | LOADING
            if loading
            else int(data.get("flags") or 0) & SETTABLE_FLAGS
        )
        message, sent = await core.create_message(
            channel,
            core.world.bot,
            {} if loading else data,
            files,
            flags=flags,
            extra=_message_extra(core, trace),
            check=not loading,
        )
        trace.original_message_id = int(message["id"])
        core.message_tokens[int(message["id"])] = trace.token
        return {"message": message, "files": sent}
    if kind in (CallbackType.DEFERRED_UPDATE_MESSAGE, CallbackType.UPDATE_MESSAGE):
        if component_message is None:
            raise form_error("type", "Only component interactions can update a message.")
        trace.original_message_id = int(component_message["id"])
        if kind is CallbackType.DEFERRED_UPDATE_MESSAGE:
            return None
        stored = core.message_or_404(int(component_message["id"]))
        message, sent = await core.edit_message(stored, data, files)
        return {"message": message, "files": sent}
    if kind is CallbackType.MODAL:
        if itype not in (APPLICATION_COMMAND, COMPONENT):
            raise form_error("type", "A modal cannot answer a modal submit or autocomplete.")
        if not data.get("custom_id") or not data.get("title") or not data.get("components"):
            raise form_error("data", "A modal needs custom_id, title and components.")
    if kind is CallbackType.AUTOCOMPLETE_RESULT and itype != AUTOCOMPLETE:
        raise form_error("type", "Only autocomplete interactions take choices.")
    return None


def _callback_json(
    trace: InteractionTrace, kind: CallbackType, message: dict[str, Any] | None
) -> dict[str, Any]:
    """The `with_response` body: the interaction callback object and the resource."""
    interaction: dict[str, Any] = {"id": str(trace.id), "type": trace.payload["type"]}
    result: dict[str, Any] = {"interaction": interaction}
    if message is not None:
        flags = int(message.get("flags", 0))
        interaction.update(
            response_message_id=message["id"],
            response_message_loading=bool(flags & LOADING),
            response_message_ephemeral=bool(flags & 64),
        )
        result["resource"] = {"type": int(kind), "message": message}
    return result


async def interaction_callback(request: web.Request) -> web.Response:
    """POST /interactions/{id}/{token}/callback: the initial response."""
    core = request.app[CORE]
    trace = core.traces.get(int(request.match_info["interaction_id"]))
    if trace is None or trace.token != request.match_info["token"]:
        raise DiscordError(404, UNKNOWN_INTERACTION, "Unknown interaction")
    request[TRACE] = trace
    body = await read_body(request, core.settings.upload_limit)
    if trace.callback is not None:
        raise DiscordError(400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
    if asyncio.get_running_loop().time() - trace.created_at > core.settings.initial_response_timeout:
        raise DiscordError(404, UNKNOWN_INTERACTION, "Unknown interaction")
    payload = body.payload if isinstance(body.payload, dict) else {}
    try:
        kind = CallbackType(int(payload.get("type", 0)))
    except ValueError:
        raise form_error("type", "Value must be one of the interaction callback types.") from None
    data = payload.get("data") or {}
    result = await _respond(core, trace, kind, data, body.files)
    message = None if result is None else result["message"]
    sent = () if result is None else tuple(result["files"])
    reply_after_response(request, Reply(ReplyKind.CALLBACK, payload, message, sent, kind), trace)
    if _truthy(request.query.get("with_response")):
        return json_response(_callback_json(trace, kind, message))
    return no_content()


def _trace_for_token(request: web.Request) -> InteractionTrace:
    core = request.app[CORE]
    trace = core.traces_by_token.get(request.match_info["token"])
    if trace is None or int(request.match_info["application_id"]) != core.world.application_id:
        raise DiscordError(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
    request[TRACE] = trace
    if asyncio.get_running_loop().time() - trace.created_at > core.settings.token_lifetime:
        raise DiscordError(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
    return trace


def _webhook_message(core: DiscordCore, trace: InteractionTrace, which: str) -> dict[str, Any]:
    message_id = trace.original_message_id if which == "@original" else int(which)
    if message_id is None or (which != "@original" and core.message_tokens.get(message_id) != trace.token):
        raise DiscordError(404, UNKNOWN_MESSAGE, "Unknown Message")
    return core.message_or_404(message_id)


async def followup(request: web.Request) -> web.Response:
    """POST /webhooks/{app}/{token}: a followup (the first one after a deferral fills the "thinking" message)."""
    core = request.app[CORE]
    trace = _trace_for_token(request)
    body = await read_body(request, core.settings.upload_limit)
    if trace.callback is None:
        raise DiscordError(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
    data = body.payload if isinstance(body.payload, dict) else {}
    check_message(data, has_files=bool(body.files))
    original = core.messages.get(trace.original_message_id or 0)
    if original is not None and int(original.get("flags", 0)) & LOADING:
        message, sent = await core.edit_message(original, data, body.files)
    else:
        channel_id = int(request.query.get("thread_id") or trace.payload["channel_id"])
        channel = core.channel_or_404(channel_id)
        flags = int(data.get("flags") or 0) & SETTABLE_FLAGS
        message, sent = await core.create_message(
            channel, core.world.bot, data, body.files, flags=flags, extra=_message_extra(core, trace)
        )
        core.message_tokens[int(message["id"])] = trace.token
    reply_after_response(request, Reply(ReplyKind.FOLLOWUP, data, message, tuple(sent)), trace)
    return json_response(message) if _truthy(request.query.get("wait")) else no_content()


async def get_webhook_message(request: web.Request) -> web.Response:
    """GET /webhooks/{app}/{token}/messages/{id|@original}."""
    trace = _trace_for_token(request)
    return json_response(_webhook_message(request.app[CORE], trace, request.match_info["message_id"]))


async def edit_webhook_message(request: web.Request) -> web.Response:
    """PATCH /webhooks/{app}/{token}/messages/{id|@original}: edit, files included."""
    core = request.app[CORE]
    trace = _trace_for_token(request)
    body = await read_body(request, core.settings.upload_limit)
    stored = _webhook_message(core, trace, request.match_info["message_id"])
    data = body.payload if isinstance(body.payload, dict) else {}
    message, sent = await core.edit_message(stored, data, body.files)
    reply_after_response(request, Reply(ReplyKind.EDIT, data, message, tuple(sent)), trace)
    return json_response(message)


async def delete_webhook_message(request: web.Request) -> web.Response:
    """DELETE /webhooks/{app}/{token}/messages/{id|@original}."""
    core = request.app[CORE]
    trace = _trace_for_token(request)
    which = request.match_info["message_id"]
    await core.delete_message(_webhook_message(core, trace, which))
    if which == "@original":
        trace.deleted_original = True
    core.signal.notify()
    return no_content()


def add_routes(app: web.Application, prefix: str) -> None:
    """Register these routes under the API prefix."""
    r = app.router
    r.add_post(prefix + "/interactions/{interaction_id}/{token}/callback", interaction_callback)
    r.add_post(prefix + "/webhooks/{application_id}/{token}", followup)
    path = prefix + "/webhooks/{application_id}/{token}/messages/{message_id}"
    r.add_get(path, get_webhook_message)
    r.add_patch(path, edit_webhook_message)
    r.add_delete(path, delete_webhook_message)
